ALTER TABLE sessions DROP COLUMN activity_counts;
