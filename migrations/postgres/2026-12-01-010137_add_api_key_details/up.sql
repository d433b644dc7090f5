-- Org API keys are listed and revoked through the API (spec §10.3): an optional name, the first 12 characters
-- of the secret to tell keys apart (NULL for keys made before this migration: only their hash was kept), and
-- when the key last authenticated a request (written at most once a minute per key).
ALTER TABLE api_keys ADD COLUMN name TEXT;
ALTER TABLE api_keys ADD COLUMN prefix TEXT;
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMP;
