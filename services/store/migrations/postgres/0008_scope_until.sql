-- Scoped date rows say until when their resource lasts.
--
-- The pictures ask "what is on these beds (rooms, devices) now": the Slots of their
-- Schedules that overlap a short window. With only the start indexed under the
-- Schedule, that meant reading every Slot the Schedule ever had, past ones included:
-- the cost of a ward's recompute grew with its history, and the picture deriver,
-- which reloads the beds a change touched, read a bed's whole past on every change.
--
-- `scope_until` is, for a scoped row (a Slot's `start` under its Schedule), the
-- Slot's end, and never earlier than the end of the row's own range (`hi`): so a row
-- that matches any lower bound on its `start` also has `scope_until` above that
-- bound, and the bed-and-day search can bound the scan by it too (store/src/search.rs).
-- The scope index leads with it after the scope, so "this Schedule's Slots that end
-- after now" is one short index range however long the Schedule's history.
ALTER TABLE search_date ADD COLUMN scope_until BIGINT;

UPDATE search_date d
SET scope_until = GREATEST(
    d.hi,
    (extract(epoch FROM ((r.content::jsonb) ->> 'end')::timestamptz) * 1000000)::bigint
)
FROM resource r
WHERE d.scope IS NOT NULL
  AND r.tenant = d.tenant AND r.rtype = d.rtype AND r.id = d.id
  AND (r.content::jsonb) ? 'end';

-- A scoped row whose resource has no end (none is stored: a Slot must have one) is
-- taken to last for ever, so that no window misses it.
UPDATE search_date SET scope_until = 9223372036854775807
WHERE scope IS NOT NULL AND scope_until IS NULL;

DROP INDEX search_date_by_scope;
CREATE INDEX search_date_by_scope ON search_date (tenant, rtype, param, scope, scope_until, lo, hi)
    WHERE scope IS NOT NULL;
