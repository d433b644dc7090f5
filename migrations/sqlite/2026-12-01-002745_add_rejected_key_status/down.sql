-- The decision is lost: a rejected candidate had finished, so their key reads as completed again.
UPDATE candidate_keys SET status = 'completed' WHERE status = 'rejected';
CREATE TABLE candidate_keys_old (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    key TEXT NOT NULL UNIQUE,
    candidate_name TEXT,
    candidate_email TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'completed', 'hired')),
    session_id TEXT,
    expires_at TIMESTAMP NOT NULL,
    redeemed_at TIMESTAMP,
    completed_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO candidate_keys_old SELECT * FROM candidate_keys;
DROP TABLE candidate_keys;
ALTER TABLE candidate_keys_old RENAME TO candidate_keys;
CREATE INDEX candidate_keys_assessment ON candidate_keys (assessment_id, created_at, id);
CREATE INDEX candidate_keys_org ON candidate_keys (org_id, created_at, id);
CREATE INDEX candidate_keys_session ON candidate_keys (session_id);
