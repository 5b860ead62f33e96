-- SQLite twin of the PostgreSQL schema (INTEGER is 64-bit here).
-- Current version of every resource, one row each, scoped by tenant (organisation).
-- Instants are microseconds since the Unix epoch (UTC), so both backends compare them
-- as plain integers.
CREATE TABLE resource (
    tenant        TEXT    NOT NULL,
    rtype         TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    version       INTEGER  NOT NULL,
    last_updated  INTEGER  NOT NULL,
    deleted       INTEGER NOT NULL,
    hash          TEXT    NOT NULL,
    content       TEXT    NOT NULL,
    PRIMARY KEY (tenant, rtype, id)
);
CREATE INDEX resource_by_updated ON resource (tenant, rtype, last_updated);

-- Every version ever written, including deletions (a deletion's content is a
-- tombstone: resourceType, id and meta only; the version before it keeps the content).
CREATE TABLE resource_history (
    tenant        TEXT    NOT NULL,
    rtype         TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    version       INTEGER  NOT NULL,
    last_updated  INTEGER  NOT NULL,
    deleted       INTEGER NOT NULL,
    content       TEXT    NOT NULL,
    PRIMARY KEY (tenant, rtype, id, version)
);
CREATE INDEX history_by_updated ON resource_history (tenant, rtype, last_updated);

-- Search indexes of the current, non-deleted versions. Rows are replaced whole on
-- every write of a resource.
CREATE TABLE search_token (
    tenant  TEXT NOT NULL,
    rtype   TEXT NOT NULL,
    id      TEXT NOT NULL,
    param   TEXT NOT NULL,
    system  TEXT NOT NULL,
    code    TEXT NOT NULL
);
CREATE INDEX search_token_by_value ON search_token (tenant, rtype, param, code, system);
CREATE INDEX search_token_by_resource ON search_token (tenant, rtype, id);

CREATE TABLE search_reference (
    tenant       TEXT NOT NULL,
    rtype        TEXT NOT NULL,
    id           TEXT NOT NULL,
    param        TEXT NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    TEXT NOT NULL
);
CREATE INDEX search_reference_by_target ON search_reference (tenant, rtype, param, target_id, target_type);
CREATE INDEX search_reference_by_resource ON search_reference (tenant, rtype, id);

CREATE TABLE search_date (
    tenant  TEXT   NOT NULL,
    rtype   TEXT   NOT NULL,
    id      TEXT   NOT NULL,
    param   TEXT   NOT NULL,
    lo      INTEGER NOT NULL,
    hi      INTEGER NOT NULL
);
CREATE INDEX search_date_by_lo ON search_date (tenant, rtype, param, lo);
CREATE INDEX search_date_by_hi ON search_date (tenant, rtype, param, hi);
CREATE INDEX search_date_by_resource ON search_date (tenant, rtype, id, param);

CREATE TABLE search_string (
    tenant      TEXT NOT NULL,
    rtype       TEXT NOT NULL,
    id          TEXT NOT NULL,
    param       TEXT NOT NULL,
    normalized  TEXT NOT NULL,
    exact       TEXT NOT NULL
);
CREATE INDEX search_string_by_value ON search_string (tenant, rtype, param, normalized);
CREATE INDEX search_string_by_resource ON search_string (tenant, rtype, id);
