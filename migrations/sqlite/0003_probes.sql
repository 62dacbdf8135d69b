-- One row, rewritten to learn whether the database takes writes again
-- after it refused one (a full disk, a read-only file).
CREATE TABLE probes (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL
);
