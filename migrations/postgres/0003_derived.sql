-- Derived files: the output of a transformation of one version of an asset, cached in the
-- blob store. `id` is the 32-hex digest of (asset_id, version, expanded transformation, format).

CREATE TABLE derived (
    id             TEXT   PRIMARY KEY,
    cloud          TEXT   NOT NULL,
    asset_id       TEXT   NOT NULL,
    version        BIGINT NOT NULL,
    transformation TEXT   NOT NULL,
    format         TEXT   NOT NULL,
    blob_key       TEXT   NOT NULL,
    bytes          BIGINT NOT NULL,
    etag           TEXT   NOT NULL,
    created_at     TEXT   NOT NULL
);

CREATE INDEX derived_by_asset ON derived (asset_id);
