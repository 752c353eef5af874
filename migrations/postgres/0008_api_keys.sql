-- API keys of a product environment beyond the main one (which comes from CLOUDINARY_URL):
-- made, renamed, disabled and deleted through the Provisioning API's access_keys endpoints.
-- A disabled key signs nothing and opens nothing. Times are RFC 3339 text.
CREATE TABLE api_keys (
    api_key    TEXT    PRIMARY KEY,
    cloud      TEXT    NOT NULL,
    api_secret TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    enabled    BOOLEAN NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);

CREATE INDEX api_keys_by_cloud ON api_keys (cloud, created_at);
