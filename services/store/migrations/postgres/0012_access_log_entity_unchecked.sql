-- An access record's entity rows are inserted by the same statement as the record
-- itself (`access_log::InsertRecords`), and the append-only triggers keep either from
-- going alone, so the foreign key from entity to record checks nothing the writer does
-- not already guarantee — while costing a look-up and a row lock on the record per
-- entity row (500 for a Bundle of 500 changes, inside the write's transaction).
ALTER TABLE access_log_entity DROP CONSTRAINT access_log_entity_record_id_fkey;
