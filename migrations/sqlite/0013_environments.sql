-- Product environments: the clouds one Kino serves, managed through the Provisioning API's
-- sub_accounts endpoints. Every other table is keyed by `cloud`, this table's cloud name.
-- The primary environment (from CLOUDINARY_URL) is written at start-up; its main key is the
-- URL's. Each environment's main key is the one it was made with: it cannot be disabled or
-- deleted (other keys live in api_keys). custom_attributes is a JSON object as text.
CREATE TABLE environments (
    id                TEXT    PRIMARY KEY,
    cloud             TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    enabled           BOOLEAN NOT NULL,
    is_primary        BOOLEAN NOT NULL,
    custom_attributes TEXT    NOT NULL,
    api_key           TEXT    NOT NULL,
    api_secret        TEXT    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
);
