-- The event log (outbox). Every committed change appends its events here in the same
-- transaction, numbered by a gap-free sequence per tenant; the relay, the picture
-- deriver and the live stream read it in sequence order, each keeping its own cursor.

-- The last sequence number given out per tenant. Taking numbers locks the row until
-- commit, which is what makes the sequence gap-free: a rolled-back transaction gives
-- its numbers back.
CREATE TABLE event_sequence (
    tenant  TEXT   NOT NULL PRIMARY KEY,
    last    BIGINT NOT NULL
);

-- kind 'resource': a resource version was written (rtype, id, version, operation; the
-- FHIR JSON is the history row's). kind 'picture': a unit's picture changed (rtype is
-- the unit kind, id the unit, body the whole new picture as JSON).
CREATE TABLE outbox (
    tenant       TEXT   NOT NULL,
    sequence     BIGINT NOT NULL,
    occurred_at  BIGINT NOT NULL,
    kind         TEXT   NOT NULL,
    unit         TEXT   NOT NULL,
    rtype        TEXT   NOT NULL,
    id           TEXT   NOT NULL,
    version      BIGINT NOT NULL,
    operation    TEXT   NOT NULL,
    body         TEXT   NOT NULL,
    traceparent  TEXT   NOT NULL,
    tracestate   TEXT   NOT NULL,
    PRIMARY KEY (tenant, sequence)
);

-- How far each reader of the outbox has got ('relay', 'picture'). A reader owns a
-- tenant's log while it holds the row locked (FOR UPDATE SKIP LOCKED), so with several
-- core replicas exactly one publishes a tenant's events at a time, in order.
CREATE TABLE outbox_cursor (
    tenant    TEXT   NOT NULL,
    reader    TEXT   NOT NULL,
    sequence  BIGINT NOT NULL,
    PRIMARY KEY (tenant, reader)
);

-- The current picture of every unit, as of the sequence of its last picture event;
-- one per kind of picture (a ward's beds, its equipment, its staff).
CREATE TABLE picture_unit (
    tenant    TEXT   NOT NULL,
    unit      TEXT   NOT NULL,
    kind      TEXT   NOT NULL,
    sequence  BIGINT NOT NULL,
    body      TEXT   NOT NULL,
    PRIMARY KEY (tenant, kind, unit)
);
