-- Date ranges are found by both bounds inside the index (see the PostgreSQL
-- migration of the same name), and a Slot's `start` is also indexed under
-- `start@Schedule/<id>` so that one bed's Slots in a time range are one index range.
-- The core writes the composite rows from now on; these are for rows stored before.
DROP INDEX search_date_by_lo;
DROP INDEX search_date_by_hi;
CREATE INDEX search_date_by_lo ON search_date (tenant, rtype, param, lo, hi);
CREATE INDEX search_date_by_hi ON search_date (tenant, rtype, param, hi, lo);

INSERT INTO search_date (tenant, rtype, id, param, lo, hi)
SELECT d.tenant, d.rtype, d.id, 'start@' || x.target_type || '/' || x.target_id, d.lo, d.hi
FROM search_date d
JOIN search_reference x
  ON x.tenant = d.tenant AND x.rtype = d.rtype AND x.id = d.id AND x.param = 'schedule'
WHERE d.rtype = 'Slot' AND d.param = 'start';
