-- Keys compare as bytes.
--
-- Tenants, types, ids, parameter names, systems, codes and reference targets are
-- opaque identifiers: nothing sorts them for a person. With the database's default
-- collation (C.UTF-8, en_US.UTF-8, fi_FI.UTF-8, ...) every B-tree comparison on them
-- goes through strcoll; profiled during a bulk ingest, that was the largest single
-- cost in PostgreSQL (varstr_cmp, strcoll, pg_newlocale_from_collation). With
-- COLLATE "C" PostgreSQL compares with memcmp. It also makes `ORDER BY id` the same
-- on every server, whatever locale the database was created with.
--
-- Changing a column's collation keeps the table and rebuilds the indexes on it.
-- The string-search columns (search_string.normalized / exact) keep the database
-- collation: they hold names people read.

ALTER TABLE resource
    ALTER COLUMN tenant TYPE TEXT COLLATE "C",
    ALTER COLUMN rtype TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN hash TYPE TEXT COLLATE "C";

ALTER TABLE resource_history
    ALTER COLUMN tenant TYPE TEXT COLLATE "C",
    ALTER COLUMN rtype TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C";

ALTER TABLE search_token
    ALTER COLUMN tenant TYPE TEXT COLLATE "C",
    ALTER COLUMN rtype TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN param TYPE TEXT COLLATE "C",
    ALTER COLUMN system TYPE TEXT COLLATE "C",
    ALTER COLUMN code TYPE TEXT COLLATE "C";

ALTER TABLE search_reference
    ALTER COLUMN tenant TYPE TEXT COLLATE "C",
    ALTER COLUMN rtype TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN param TYPE TEXT COLLATE "C",
    ALTER COLUMN target_type TYPE TEXT COLLATE "C",
    ALTER COLUMN target_id TYPE TEXT COLLATE "C";

ALTER TABLE search_date
    ALTER COLUMN tenant TYPE TEXT COLLATE "C",
    ALTER COLUMN rtype TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN param TYPE TEXT COLLATE "C";

ALTER TABLE search_string
    ALTER COLUMN tenant TYPE TEXT COLLATE "C",
    ALTER COLUMN rtype TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN param TYPE TEXT COLLATE "C";

-- Date ranges are found by both bounds inside the index: with `hi` and `lo` both
-- key columns, a condition on the second is checked on the index entry, and only
-- matching rows are fetched from the table.
DROP INDEX search_date_by_lo;
DROP INDEX search_date_by_hi;
CREATE INDEX search_date_by_lo ON search_date (tenant, rtype, param, lo, hi);
CREATE INDEX search_date_by_hi ON search_date (tenant, rtype, param, hi, lo);

-- Composite date rows: a Slot's `start` also indexed under `start@Schedule/<id>`,
-- so that "this bed's Slots on this day" is one index range instead of a probe per
-- Slot of the bed (the core writes them from now on; these are for rows stored
-- before this migration).
INSERT INTO search_date (tenant, rtype, id, param, lo, hi)
SELECT d.tenant, d.rtype, d.id, 'start@' || x.target_type || '/' || x.target_id, d.lo, d.hi
FROM search_date d
JOIN search_reference x
  ON x.tenant = d.tenant AND x.rtype = d.rtype AND x.id = d.id AND x.param = 'schedule'
WHERE d.rtype = 'Slot' AND d.param = 'start';
