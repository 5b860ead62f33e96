-- Scoped date rows say until when their resource lasts (see the PostgreSQL
-- migration of the same name). SQLite reads the end to the millisecond; the extra
-- millisecond keeps `scope_until` at or after the true end, which is all a window
-- needs (readers check the exact times).
ALTER TABLE search_date ADD COLUMN scope_until INTEGER;

UPDATE search_date
SET scope_until = max(
    hi,
    CAST((unixepoch(
        (SELECT json_extract(r.content, '$.end') FROM resource r
         WHERE r.tenant = search_date.tenant AND r.rtype = search_date.rtype
           AND r.id = search_date.id),
        'subsec') + 0.001) * 1000000 AS INTEGER)
)
WHERE scope IS NOT NULL;

UPDATE search_date SET scope_until = 9223372036854775807
WHERE scope IS NOT NULL AND scope_until IS NULL;

CREATE INDEX search_date_by_scope_until ON search_date (tenant, scope, scope_until)
    WHERE scope IS NOT NULL;
