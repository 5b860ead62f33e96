-- The access log (käyttöloki): one record per request that read or changed data, or
-- was refused. A write's record is inserted in the write's own transaction; a read's
-- before its answer is sent. Records are append-only: the triggers below refuse every
-- UPDATE and TRUNCATE, and every DELETE except inside the retention pruning, which
-- opens `access_log_prune_gate` for its own transaction only (and logs itself).

CREATE TABLE access_log (
    id          BIGSERIAL PRIMARY KEY,
    -- The organisation the request acted for; '' when it named none it could act for
    -- (a refused token, a foreign organisation: the record says what was claimed).
    tenant      TEXT    NOT NULL,
    -- When, microseconds since the Unix epoch.
    recorded    BIGINT  NOT NULL,
    subject     TEXT,
    client_id   TEXT,
    interaction TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    -- The whole record as JSON (who, what, when, from where, outcome), entities apart.
    record      TEXT    NOT NULL
);
CREATE INDEX access_log_by_time ON access_log (tenant, recorded);
CREATE INDEX access_log_by_subject ON access_log (tenant, subject, recorded);
CREATE INDEX access_log_by_client ON access_log (tenant, client_id, recorded);

-- What a record read or changed: one row per resource (version when known), with the
-- patient-visit identifier (`system|value` of an Encounter's identifier) for stays.
CREATE TABLE access_log_entity (
    record_id  BIGINT  NOT NULL REFERENCES access_log (id),
    tenant     TEXT    NOT NULL,
    reference  TEXT    NOT NULL,
    version    BIGINT,
    visit      TEXT,
    changed    BOOLEAN NOT NULL
);
CREATE INDEX access_log_entity_by_record ON access_log_entity (record_id);
CREATE INDEX access_log_entity_by_reference ON access_log_entity (tenant, reference);
CREATE INDEX access_log_entity_by_visit ON access_log_entity (tenant, visit)
    WHERE visit IS NOT NULL;

-- A row here, visible only to the pruning transaction that inserted it, lets that
-- transaction delete records past the retention period.
CREATE TABLE access_log_prune_gate (
    opened BIGINT NOT NULL
);

CREATE FUNCTION access_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM access_log_prune_gate) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_entity_append_only BEFORE UPDATE OR DELETE ON access_log_entity
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_entity_no_truncate BEFORE TRUNCATE ON access_log_entity
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
