-- A reviewer may reject a candidate (spec §10.1): the key status `rejected` joins `hired` as a decision.
ALTER TABLE candidate_keys DROP CONSTRAINT candidate_keys_status_check;
ALTER TABLE candidate_keys ADD CONSTRAINT candidate_keys_status_check
    CHECK (status IN ('pending', 'active', 'completed', 'hired', 'rejected'));
