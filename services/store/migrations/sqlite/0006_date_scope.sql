-- One date row per Slot instead of two (see the PostgreSQL migration of the same
-- name): a Slot's Schedule is a column of its `start` row, with an index of only the
-- rows that have one. (SQLite has no migration 0005: that one was about PostgreSQL's
-- planner statistics.)
ALTER TABLE search_date ADD COLUMN scope TEXT;

UPDATE search_date
SET param = substr(param, 1, instr(param, '@') - 1), scope = substr(param, instr(param, '@') + 1)
WHERE instr(param, '@') > 0;

DELETE FROM search_date
WHERE scope IS NULL
  AND EXISTS (
    SELECT 1 FROM search_date s
    WHERE s.tenant = search_date.tenant AND s.rtype = search_date.rtype
      AND s.id = search_date.id AND s.param = search_date.param
      AND s.lo = search_date.lo AND s.hi = search_date.hi AND s.scope IS NOT NULL
  );

-- Key order as in search_date_by_hi, the index the bed-and-day search's plan ran on.
CREATE INDEX search_date_by_scope ON search_date (tenant, rtype, param, scope, hi, lo)
    WHERE scope IS NOT NULL;
