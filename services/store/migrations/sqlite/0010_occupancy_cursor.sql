-- The occupancy follower (services/core/src/log/occupancy.rs) derives bed occupancy
-- from the event log. Before it, every write derived its own right after commit, so on
-- an existing database it starts at the end of each organisation's log instead of
-- deriving every stay still in the log again. Organisations without events yet get
-- their cursor at 0 on the follower's first claim, as every reader does.
INSERT OR IGNORE INTO outbox_cursor (tenant, reader, sequence)
SELECT tenant, 'occupancy', last FROM event_sequence;
