-- What each source adapter last reported of itself (last success, lag, quarantine),
-- so that the core can say which sources are stale. One row per organisation and
-- source, replaced by every report.
CREATE TABLE source_status (
    tenant      TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    body        TEXT   NOT NULL,
    reported_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, name)
);
