-- Claims on derived files being made, so that nodes sharing this catalog make each one once.
-- The claimer renews `heartbeat` (Unix milliseconds) while it works and deletes the row when it
-- is done; a claim whose heartbeat is old belongs to a node that died and may be taken over.
-- Other nodes wait for the derived row to appear.
CREATE TABLE derived_claims (
    id        TEXT   PRIMARY KEY,
    node      TEXT   NOT NULL,
    heartbeat BIGINT NOT NULL
);
