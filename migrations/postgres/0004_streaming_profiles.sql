-- Streaming profiles made (or predefined ones changed) through the Admin API. The built-in
-- ladders live in profiles/; a row with a built-in's name overrides it. Representations are a
-- JSON array of transformation strings.

CREATE TABLE streaming_profiles (
    cloud           TEXT NOT NULL,
    name            TEXT NOT NULL,
    display_name    TEXT,
    representations TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (cloud, name)
);
