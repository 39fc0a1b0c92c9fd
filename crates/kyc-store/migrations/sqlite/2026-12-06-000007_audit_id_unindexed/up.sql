-- Audit events are appended three or more times per change and never looked up by id (the
-- trail is read by identity, in `seq` order). The unique index on their random UUIDv4 ids put
-- each append on a random leaf: about a sixth of the pages a create wrote to the WAL. The ids
-- stay random and unique by construction (122 random bits), as every other id.
DROP INDEX ux_audit_events_id;
