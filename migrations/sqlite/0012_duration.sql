-- Seconds of audio and video assets (NULL for pictures and raw files), a column so that
-- search compares and sorts by it with an index.
ALTER TABLE assets ADD COLUMN duration DOUBLE PRECISION;
UPDATE assets SET duration = json_extract(media, '$.duration') WHERE media <> 'null';
CREATE INDEX assets_duration ON assets (cloud, duration);
