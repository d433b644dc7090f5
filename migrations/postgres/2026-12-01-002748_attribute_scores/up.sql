-- Scores are kept per reviewer (UI.md: "saved per reviewer"): each dimension once per scorer, the scorer being a
-- signed-in user or an org API key, with the name it had when it scored. Scores recorded before this migration
-- have no scorer.
ALTER TABLE scores DROP CONSTRAINT scores_session_id_dimension_key;
ALTER TABLE scores ADD COLUMN scorer_type TEXT CHECK (scorer_type IN ('apiKey', 'user'));
ALTER TABLE scores ADD COLUMN scorer_id TEXT;
ALTER TABLE scores ADD COLUMN scorer_name TEXT;
CREATE UNIQUE INDEX scores_per_scorer ON scores (session_id, dimension, scorer_type, scorer_id);
