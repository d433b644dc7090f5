-- The whole data model of the API contract, designed up front so later work adds behaviour, not table rebuilds.
-- Portable types only (TEXT ids and JSON, naive-UTC TIMESTAMP, BIGINT) so one diesel schema serves both backends;
-- the SQLite twin of this file must stay column-for-column identical.

CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Reviewer credentials. Only the SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    secret_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_org_id ON api_keys (org_id);

CREATE TABLE assessments (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    title TEXT NOT NULL,
    role TEXT NOT NULL,
    task_brief TEXT NOT NULL,
    repo_url TEXT,
    time_limit_minutes BIGINT,
    expires_in_days BIGINT NOT NULL,
    allowed_tools TEXT,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX assessments_org_created ON assessments (org_id, created_at, id);

-- Candidate keys are shown to reviewers on every listing, so the key itself is stored (upper-case canonical form).
-- session_id has no foreign key: sessions point back at keys, and deleting a session clears it explicitly.
CREATE TABLE candidate_keys (
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
CREATE INDEX candidate_keys_assessment ON candidate_keys (assessment_id, created_at, id);
CREATE INDEX candidate_keys_org ON candidate_keys (org_id, created_at, id);
CREATE INDEX candidate_keys_session ON candidate_keys (session_id);

-- Session tokens returned by redeem; only their SHA-256 is kept.
CREATE TABLE session_tokens (
    token_hash TEXT PRIMARY KEY,
    candidate_key_id TEXT NOT NULL REFERENCES candidate_keys (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX session_tokens_key ON session_tokens (candidate_key_id);

-- A session with its counters and the per-session aggregates the metrics are computed from, all updated in the
-- ingest transaction so no read ever scans a timeline to answer.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    candidate_key_id TEXT REFERENCES candidate_keys (id),
    assessment_id TEXT REFERENCES assessments (id),
    source_service TEXT,
    metadata TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    last_activity_at TIMESTAMP NOT NULL,
    event_count BIGINT NOT NULL DEFAULT 0,
    decision_flag_count BIGINT NOT NULL DEFAULT 0,
    prompt_count BIGINT NOT NULL DEFAULT 0,
    command_count BIGINT NOT NULL DEFAULT 0,
    command_exit_count BIGINT NOT NULL DEFAULT 0,
    command_fail_count BIGINT NOT NULL DEFAULT 0,
    verify_count BIGINT NOT NULL DEFAULT 0,
    file_change_count BIGINT NOT NULL DEFAULT 0,
    manual_edit_count BIGINT NOT NULL DEFAULT 0,
    first_change_at TIMESTAMP,
    -- Sum of 2 x weight x size over attributed file changes: weights are 0, 0.5 or 1, so this stays an integer.
    ai_weight_halves BIGINT NOT NULL DEFAULT 0,
    ai_attributed_size BIGINT NOT NULL DEFAULT 0,
    last_test_at TIMESTAMP,
    last_test_seq BIGINT,
    last_test_passed BOOLEAN,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_org_started ON sessions (org_id, started_at DESC, id);
CREATE INDEX sessions_assessment ON sessions (assessment_id);
CREATE INDEX sessions_candidate_key ON sessions (candidate_key_id);

-- seq is the insertion order that breaks ties between equal timestamps and keys the timeline's keyset paging.
CREATE TABLE timeline_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    kind TEXT NOT NULL,
    ts TIMESTAMP NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    provenance TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX timeline_events_session_order ON timeline_events (session_id, ts, seq);
-- Decisions are read by kind; a partial index keeps that read cheap without a page write for every other event.
CREATE INDEX timeline_events_decisions ON timeline_events (session_id, ts, seq) WHERE kind = 'decision_event';

-- The envelope exactly as the client sent it, kept apart so timeline pages stay narrow.
CREATE TABLE raw_events (
    event_seq BIGINT PRIMARY KEY REFERENCES timeline_events (seq),
    envelope TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE artifacts (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    derivation_v BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (session_id, kind)
);

CREATE TABLE scores (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    dimension TEXT NOT NULL,
    score BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    notes TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (session_id, dimension)
);
