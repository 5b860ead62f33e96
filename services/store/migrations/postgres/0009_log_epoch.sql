-- The event log's epoch: a token that changes when the log's history may have been cut
-- (see services/store/src/epoch.rs). One row; the token is replaced by
-- `ohjaamo store new-epoch` after a restore from a backup. On PostgreSQL the epoch the
-- core publishes also carries the cluster's system identifier and WAL timeline, which
-- a failover or a point-in-time recovery changes without anyone running a command.
CREATE TABLE log_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL,
    began_at BIGINT NOT NULL
);

INSERT INTO log_epoch (id, token, began_at)
VALUES (
    1,
    substr(md5(random()::text || clock_timestamp()::text), 1, 16),
    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
);
