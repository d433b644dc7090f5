-- One score per dimension again: the most recently changed one is kept.
CREATE TABLE scores_old (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    dimension TEXT NOT NULL,
    score BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    notes TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (session_id, dimension)
);
INSERT INTO scores_old (id, session_id, dimension, score, notes, created_at, updated_at)
    SELECT id, session_id, dimension, score, notes, created_at, updated_at FROM scores
    WHERE NOT EXISTS (
        SELECT 1 FROM scores newer
        WHERE newer.session_id = scores.session_id AND newer.dimension = scores.dimension
          AND (newer.updated_at > scores.updated_at OR (newer.updated_at = scores.updated_at AND newer.id > scores.id))
    );
DROP TABLE scores;
ALTER TABLE scores_old RENAME TO scores;
