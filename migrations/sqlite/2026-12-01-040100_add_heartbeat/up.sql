-- One row that `GET /v1/health` rewrites (at most about once a second per instance) to prove that writes still
-- commit: a read answers from a database that has gone read-only or whose disk is full; a commit does not.
CREATE TABLE heartbeat (
    id BIGINT PRIMARY KEY,
    beat_at TIMESTAMP NOT NULL
);
INSERT INTO heartbeat (id, beat_at) VALUES (1, CURRENT_TIMESTAMP);
