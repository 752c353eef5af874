-- Backed-up versions of assets. With backup on (the `backup` setting or upload parameter),
-- every uploaded version gets a row here; the current version's row shares its blob with the
-- asset row. A blob is trashed only when neither an asset nor a version row points at it, so
-- overwriting or deleting a backed-up asset keeps its file, and `restore` can bring it back.
CREATE TABLE asset_versions (
    version_id        TEXT    PRIMARY KEY,
    cloud             TEXT    NOT NULL,
    asset_id          TEXT    NOT NULL,
    resource_type     TEXT    NOT NULL,
    delivery_type     TEXT    NOT NULL,
    public_id         TEXT    NOT NULL,
    format            TEXT    NOT NULL,
    version           BIGINT  NOT NULL,
    bytes             BIGINT  NOT NULL,
    width             INTEGER,
    height            INTEGER,
    etag              TEXT    NOT NULL,
    blob_key          TEXT    NOT NULL,
    original_filename TEXT,
    media             TEXT    NOT NULL,
    created_at        TEXT    NOT NULL
);

CREATE INDEX asset_versions_by_asset ON asset_versions (asset_id, created_at);
CREATE INDEX asset_versions_by_public_id ON asset_versions (cloud, resource_type, delivery_type, public_id);
CREATE INDEX asset_versions_by_blob ON asset_versions (blob_key);
CREATE INDEX assets_by_blob ON assets (blob_key);

-- Auto-upload mappings: a delivery of a missing asset under `folder` pulls
-- `template` + the rest of its path from the origin and keeps it as an upload.
CREATE TABLE upload_mappings (
    cloud      TEXT NOT NULL,
    folder     TEXT NOT NULL,
    template   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (cloud, folder)
);
