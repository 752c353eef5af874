-- Named transformations: a transformation string saved under a name, applied in delivery URLs
-- as `t_<name>`.

CREATE TABLE named_transformations (
    cloud              TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    transformation     TEXT    NOT NULL,
    allowed_for_strict BOOLEAN NOT NULL,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    PRIMARY KEY (cloud, name)
);
