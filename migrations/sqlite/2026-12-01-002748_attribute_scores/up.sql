-- Scores are kept per reviewer (UI.md: "saved per reviewer"): each dimension once per scorer, the scorer being a
-- signed-in user or an org API key, with the name it had when it scored. Scores recorded before this migration
-- have no scorer. SQLite cannot drop the old UNIQUE (session_id, dimension), so the table is rebuilt.
CREATE TABLE scores_new (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    dimension TEXT NOT NULL,
    score BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    notes TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    scorer_type TEXT CHECK (scorer_type IN ('apiKey', 'user')),
    scorer_id TEXT,
    scorer_name TEXT
);
INSERT INTO scores_new (id, session_id, dimension, score, notes, created_at, updated_at)
    SELECT id, session_id, dimension, score, notes, created_at, updated_at FROM scores;
DROP TABLE scores;
ALTER TABLE scores_new RENAME TO scores;
CREATE UNIQUE INDEX scores_per_scorer ON scores (session_id, dimension, scorer_type, scorer_id);
