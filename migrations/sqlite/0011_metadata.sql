-- Structured metadata: field definitions (Cloudinary's JSON, kept whole) in the order the
-- Metadata API lists them, and the values assets hold, one row per value (a set has one row
-- per entry, `position` 0, 1, …; other types -1) so search can match and compare them.
CREATE TABLE metadata_fields (
    cloud       TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    position    BIGINT  NOT NULL,
    definition  TEXT    NOT NULL,
    PRIMARY KEY (cloud, external_id)
);

CREATE TABLE asset_metadata (
    asset_row BIGINT NOT NULL,
    cloud     TEXT   NOT NULL,
    field     TEXT   NOT NULL,
    position  BIGINT NOT NULL,
    value     TEXT   NOT NULL,
    number    DOUBLE PRECISION,
    PRIMARY KEY (asset_row, field, position)
);

CREATE INDEX asset_metadata_by_value ON asset_metadata (cloud, field, value);
CREATE INDEX asset_metadata_by_number ON asset_metadata (cloud, field, number);

-- Context keys and values beside the JSON in assets.context, for `context.key:value` search.
CREATE TABLE asset_context (
    asset_row BIGINT NOT NULL,
    cloud     TEXT   NOT NULL,
    key       TEXT   NOT NULL,
    value     TEXT   NOT NULL,
    PRIMARY KEY (asset_row, key)
);

CREATE INDEX asset_context_by_value ON asset_context (cloud, key, value);

INSERT INTO asset_context (asset_row, cloud, key, value)
SELECT a.id, a.cloud, j.key, j.value FROM assets a, json_each(a.context) j;
