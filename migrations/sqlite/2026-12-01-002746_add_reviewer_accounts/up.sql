-- Reviewer accounts for the web UI (spec §11). Addresses are stored lower-cased and are unique across the
-- installation, because signing in asks for nothing but an address and a password. Only an Argon2id hash of
-- the password is kept (a PHC string, which names its own parameters).
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer')),
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP
);
CREATE INDEX users_org ON users (org_id, created_at, id);

-- Signed-in browsers: one row per cookie, keyed by the SHA-256 of its random token. A sign-in ends after 12 hours
-- without use or 7 days in all; last_seen_at is what the idle rule reads.
CREATE TABLE sign_ins (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sign_ins_user ON sign_ins (user_id);
