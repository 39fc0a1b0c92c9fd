-- Erasure deletes the replayable answers that describe the identity, whichever tenant made the
-- request: an operator decides a review from the operator tenant, and the decision's answer
-- holds the identity's data. So the records are found by `resource_id` alone (a random id, the
-- identity's or one of its documents' or review items'), not under the identity's tenant.
DROP INDEX ix_idempotency_records_resource;
CREATE INDEX ix_idempotency_records_resource ON idempotency_records (resource_id);
