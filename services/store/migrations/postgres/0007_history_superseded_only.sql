-- resource_history keeps superseded versions only: the current version of every
-- resource is its `resource` row, which already holds the same JSON. A new resource
-- then costs one row with its content (and two index entries) instead of two, and its
-- JSON goes to the WAL once. A write that replaces a resource copies the old `resource`
-- row into the history first (store/src/write_bulk.rs).
--
-- Readers of versions (vread, _history, "as of", the relay's event bodies) read the
-- view below, every version whether current or superseded.
--
-- On upgrade this deletes one history row per resource (the copy of its current
-- version) in one transaction: on a large store it takes a while, and the space comes
-- back to the table at the next VACUUM, not to the file system.
DELETE FROM resource_history h
USING resource r
WHERE r.tenant = h.tenant AND r.rtype = h.rtype AND r.id = h.id AND r.version = h.version;

CREATE VIEW resource_version AS
    SELECT tenant, rtype, id, version, last_updated, deleted, content FROM resource
    UNION ALL
    SELECT tenant, rtype, id, version, last_updated, deleted, content FROM resource_history;
