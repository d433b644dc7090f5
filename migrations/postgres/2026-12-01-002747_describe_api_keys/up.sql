-- What `GET /v1/api-keys` shows (spec §10.3): a name, the key's first 12 characters (never more of it), and when
-- it was last used. Keys created before this migration have no prefix: their secret was never kept.
ALTER TABLE api_keys ADD COLUMN name TEXT;
ALTER TABLE api_keys ADD COLUMN prefix TEXT;
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMP;
