ALTER TABLE api_keys DROP COLUMN last_used_at, DROP COLUMN prefix, DROP COLUMN name;
