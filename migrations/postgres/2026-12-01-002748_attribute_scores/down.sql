-- One score per dimension again: the most recently changed one is kept.
DELETE FROM scores WHERE EXISTS (
    SELECT 1 FROM scores newer
    WHERE newer.session_id = scores.session_id AND newer.dimension = scores.dimension
      AND (newer.updated_at > scores.updated_at OR (newer.updated_at = scores.updated_at AND newer.id > scores.id))
);
DROP INDEX scores_per_scorer;
ALTER TABLE scores DROP COLUMN scorer_name;
ALTER TABLE scores DROP COLUMN scorer_id;
ALTER TABLE scores DROP COLUMN scorer_type;
ALTER TABLE scores ADD CONSTRAINT scores_session_id_dimension_key UNIQUE (session_id, dimension);
