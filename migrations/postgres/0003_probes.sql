-- One row, rewritten to learn whether the database takes writes again
-- after it refused one (a full disk, a read-only server).
CREATE TABLE probes (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL
);
