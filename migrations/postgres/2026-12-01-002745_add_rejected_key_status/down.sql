-- The decision is lost: a rejected candidate had finished, so their key reads as completed again.
UPDATE candidate_keys SET status = 'completed' WHERE status = 'rejected';
ALTER TABLE candidate_keys DROP CONSTRAINT candidate_keys_status_check;
ALTER TABLE candidate_keys ADD CONSTRAINT candidate_keys_status_check
    CHECK (status IN ('pending', 'active', 'completed', 'hired'));
