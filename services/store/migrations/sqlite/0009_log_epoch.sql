-- The event log's epoch: a token that changes when the log's history may have been cut
-- (see services/store/src/epoch.rs and the PostgreSQL migration of the same name). A
-- copied-back database file keeps its token: after restoring one, run
-- `ohjaamo store new-epoch`.
CREATE TABLE log_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL,
    began_at INTEGER NOT NULL
);

INSERT INTO log_epoch (id, token, began_at)
VALUES (1, lower(hex(randomblob(8))), CAST(unixepoch('now', 'subsec') * 1000000 AS INTEGER));
