-- resource_history keeps superseded versions only; the current version is the
-- `resource` row. See the PostgreSQL migration of the same name.
DELETE FROM resource_history
WHERE EXISTS (
    SELECT 1 FROM resource r
    WHERE r.tenant = resource_history.tenant AND r.rtype = resource_history.rtype
      AND r.id = resource_history.id AND r.version = resource_history.version
);

CREATE VIEW resource_version AS
    SELECT tenant, rtype, id, version, last_updated, deleted, content FROM resource
    UNION ALL
    SELECT tenant, rtype, id, version, last_updated, deleted, content FROM resource_history;
