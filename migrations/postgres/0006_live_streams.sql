-- Live streams (the Live Streaming API) and their outputs. A stream is a stream key and its
-- settings; its sessions run on the node that ingests and are not rows. `status` is what the
-- API shows (`idle` or `active`). Times are Unix milliseconds, as the API returns them.

CREATE TABLE live_streams (
    id                TEXT    PRIMARY KEY,
    cloud             TEXT    NOT NULL,
    name              TEXT,
    stream_key        TEXT    NOT NULL UNIQUE,
    status            TEXT    NOT NULL,
    idle_timeout_sec  BIGINT  NOT NULL,
    max_runtime_sec   BIGINT  NOT NULL,
    streaming_profile TEXT    NOT NULL,
    notification_url  TEXT,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);

CREATE INDEX live_streams_by_cloud ON live_streams (cloud, created_at);

CREATE TABLE live_stream_outputs (
    id         TEXT   PRIMARY KEY,
    stream_id  TEXT   NOT NULL REFERENCES live_streams (id) ON DELETE CASCADE,
    type       TEXT   NOT NULL,
    name       TEXT,
    uri        TEXT,
    stream_key TEXT,
    vendor     TEXT,
    public_id  TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX live_stream_outputs_by_stream ON live_stream_outputs (stream_id, created_at);
