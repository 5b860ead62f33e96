-- No planner statistics on the resource bodies and hashes.
--
-- Nothing searches or joins on `content` or `hash`; the store's own ANALYZE (see
-- statistics.rs, run as the tables grow by half) still sorted 30,000 sampled bodies
-- of each table every time to find their most common values and histogram. Profiled
-- during the initial sync of a large hospital, ANALYZE was a sixth of PostgreSQL's
-- CPU, most of it sorting and de-TOASTing these columns. With the target at 0,
-- ANALYZE leaves them out; the columns that searches filter on keep their statistics.

ALTER TABLE resource
    ALTER COLUMN content SET STATISTICS 0,
    ALTER COLUMN hash SET STATISTICS 0;

ALTER TABLE resource_history
    ALTER COLUMN content SET STATISTICS 0;

ALTER TABLE outbox
    ALTER COLUMN body SET STATISTICS 0;
