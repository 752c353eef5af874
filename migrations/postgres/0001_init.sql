-- Kino catalog, first schema. Every row is keyed by cloud name.
-- The PostgreSQL twin of migrations/sqlite (BIGSERIAL ids, BIGINT for every integer).

CREATE TABLE assets (
    id                BIGSERIAL PRIMARY KEY,
    cloud             TEXT    NOT NULL,
    asset_id          TEXT    NOT NULL UNIQUE,
    resource_type     TEXT    NOT NULL,
    delivery_type     TEXT    NOT NULL,
    public_id         TEXT    NOT NULL,
    format            TEXT    NOT NULL,
    version           BIGINT  NOT NULL,
    version_id        TEXT    NOT NULL,
    bytes             BIGINT  NOT NULL,
    width             BIGINT,
    height            BIGINT,
    etag              TEXT    NOT NULL,
    blob_key          TEXT    NOT NULL,
    original_filename TEXT,
    media             TEXT    NOT NULL,
    context           TEXT    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (cloud, resource_type, delivery_type, public_id)
);

CREATE INDEX assets_listing ON assets (cloud, resource_type, delivery_type, id);
CREATE INDEX assets_public_id ON assets (cloud, public_id);

CREATE TABLE asset_tags (
    asset_row BIGINT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    cloud     TEXT   NOT NULL,
    tag       TEXT   NOT NULL,
    PRIMARY KEY (asset_row, tag)
);

CREATE INDEX asset_tags_by_tag ON asset_tags (cloud, tag);

CREATE TABLE folders (
    cloud      TEXT NOT NULL,
    path       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (cloud, path)
);

CREATE TABLE upload_presets (
    cloud      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    unsigned   BOOLEAN NOT NULL,
    settings   TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (cloud, name)
);

-- Blobs whose catalog row was replaced or removed; deleted after the commit that orphaned
-- them, and retried at start-up if the process died in between.
CREATE TABLE blob_trash (
    blob_key   TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
