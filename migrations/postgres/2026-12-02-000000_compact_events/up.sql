-- Events written compactly (issue 17): every byte of an event row is paid for again in each index that holds it
-- and in every WAL page it dirties, and ingest's cost is mostly that page work.
--  * id: the UUID's 16 bytes instead of its 36 characters (the unique index shrinks by half);
--  * ts, created_at: microseconds since the Unix epoch instead of timestamps;
--  * the envelope as the client sent it is stored once, in the event's own row (raw_events is folded in), and
--    data only when normalisation changed what the client sent (an alias renamed, a null dropped, 3.0 made 3);
--    NULL means "the envelope's data as it is";
--  * event_chain.ts in microseconds too, to order the signed log like the timeline.
-- The internal time-ordered key stays seq: every new event is appended to the table's last page.
-- The SQLite twin of this file builds the same columns.

CREATE TABLE compact_timeline_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id BYTEA NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    kind TEXT NOT NULL,
    ts BIGINT NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    provenance TEXT NOT NULL,
    data TEXT,
    envelope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    marks BIGINT
);

INSERT INTO compact_timeline_events
    (seq, id, session_id, kind, ts, source, actor, provenance, data, envelope, created_at, marks)
OVERRIDING SYSTEM VALUE
SELECT
    e.seq,
    decode(replace(e.id, '-', ''), 'hex'),
    e.session_id,
    e.kind,
    (extract(epoch FROM e.ts) * 1000000)::bigint,
    e.source,
    e.actor,
    e.provenance,
    -- Compared as jsonb text: key order and spacing aside, number spellings must match (3.0 is not 3 here).
    CASE WHEN r.envelope IS NOT NULL AND (r.envelope::jsonb -> 'data')::text = e.data::jsonb::text THEN NULL
        ELSE e.data END,
    -- Every event was written with its raw row; should one be missing, the envelope is rebuilt from the
    -- normalised columns rather than the event lost.
    coalesce(r.envelope, json_build_object(
        'id', e.id, 'sessionId', e.session_id, 'kind', e.kind,
        'ts', to_char(e.ts, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'v', 1,
        'source', e.source::json, 'actor', e.actor::json, 'provenance', e.provenance::json,
        'data', e.data::json)::text),
    (extract(epoch FROM e.created_at) * 1000000)::bigint,
    e.marks
FROM timeline_events e LEFT JOIN raw_events r ON r.event_seq = e.seq;

SELECT setval(
    pg_get_serial_sequence('compact_timeline_events', 'seq'),
    coalesce((SELECT max(seq) FROM compact_timeline_events), 0) + 1,
    false
);

ALTER TABLE event_chain ALTER COLUMN ts TYPE BIGINT USING (extract(epoch FROM ts) * 1000000)::bigint;
ALTER TABLE event_chain DROP CONSTRAINT event_chain_event_seq_fkey;
DROP TABLE raw_events;
DROP TABLE timeline_events;
ALTER TABLE compact_timeline_events RENAME TO timeline_events;
ALTER INDEX compact_timeline_events_pkey RENAME TO timeline_events_pkey;
ALTER SEQUENCE compact_timeline_events_seq_seq RENAME TO timeline_events_seq_seq;
ALTER TABLE timeline_events RENAME CONSTRAINT compact_timeline_events_session_id_fkey TO timeline_events_session_id_fkey;
ALTER TABLE timeline_events ADD CONSTRAINT timeline_events_id_key UNIQUE (id);
ALTER TABLE event_chain ADD CONSTRAINT event_chain_event_seq_fkey
    FOREIGN KEY (event_seq) REFERENCES timeline_events (seq);

CREATE INDEX timeline_events_session_order ON timeline_events (session_id, ts, seq);
CREATE INDEX timeline_events_decisions ON timeline_events (session_id, ts, seq) WHERE kind = 'decision_event';
CREATE INDEX timeline_events_unmarked ON timeline_events (seq) WHERE marks IS NULL;
CREATE INDEX timeline_events_marked_prompts ON timeline_events (session_id, ts, seq) WHERE (marks & 1) <> 0;
CREATE INDEX timeline_events_marked_commands ON timeline_events (session_id, ts, seq) WHERE (marks & 2) <> 0;
CREATE INDEX timeline_events_marked_failed_commands ON timeline_events (session_id, ts, seq) WHERE (marks & 4) <> 0;
CREATE INDEX timeline_events_marked_verifications ON timeline_events (session_id, ts, seq) WHERE (marks & 8) <> 0;
CREATE INDEX timeline_events_marked_file_changes ON timeline_events (session_id, ts, seq) WHERE (marks & 16) <> 0;
CREATE INDEX timeline_events_marked_manual_edits ON timeline_events (session_id, ts, seq) WHERE (marks & 32) <> 0;
CREATE INDEX timeline_events_marked_test_evidence ON timeline_events (session_id, ts, seq) WHERE (marks & 64) <> 0;
CREATE INDEX timeline_events_marked_attributed_changes ON timeline_events (session_id, ts, seq) WHERE (marks & 128) <> 0;
CREATE INDEX timeline_events_marked_decisions ON timeline_events (session_id, ts, seq) WHERE (marks & 256) <> 0;
CREATE INDEX timeline_events_marked_failures ON timeline_events (session_id, ts, seq) WHERE (marks & 512) <> 0;
ANALYZE timeline_events;
