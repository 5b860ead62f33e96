-- One date row per Slot instead of two.
--
-- Migration 0002 indexed a Slot's `start` twice: under `start`, and again under
-- `start@Schedule/<id>` for "this bed's Slots in this time range". During an initial
-- sync that second row was the largest single cost in PostgreSQL: a heap tuple and
-- three B-tree insertions per Slot. The Schedule is now a column of the `start` row
-- itself (`scope`, NULL for rows that have none), with its own index holding only
-- the rows that have one: per Slot one heap tuple and two index insertions fewer, and
-- the bed-and-day search is still one index range.
ALTER TABLE search_date ADD COLUMN scope TEXT COLLATE "C";

-- The composite rows become scoped rows of their plain parameter...
UPDATE search_date
SET param = split_part(param, '@', 1), scope = substr(param, strpos(param, '@') + 1)
WHERE strpos(param, '@') > 0;

-- ...and the plain rows they duplicated go.
DELETE FROM search_date d
WHERE d.scope IS NULL
  AND EXISTS (
    SELECT 1 FROM search_date s
    WHERE s.tenant = d.tenant AND s.rtype = d.rtype AND s.id = d.id
      AND s.param = d.param AND s.lo = d.lo AND s.hi = d.hi AND s.scope IS NOT NULL
  );

-- Key order as in search_date_by_hi, the index the bed-and-day search's plan ran on.
CREATE INDEX search_date_by_scope ON search_date (tenant, rtype, param, scope, hi, lo)
    WHERE scope IS NOT NULL;
