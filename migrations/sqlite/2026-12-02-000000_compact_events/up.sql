-- Events written compactly (issue 17): every byte of an event row is paid for again in each index that holds it
-- and in every WAL page it dirties, and ingest's cost is mostly that page work.
--  * id: the UUID's 16 bytes instead of its 36 characters (the unique index shrinks by half);
--  * ts, created_at: microseconds since the Unix epoch instead of text that is parsed on every read;
--  * the envelope as the client sent it is stored once, in the event's own row (raw_events is folded in), and
--    data only when normalisation changed what the client sent (an alias renamed, a null dropped, 3.0 made 3);
--    NULL means "the envelope's data as it is";
--  * event_chain.ts in microseconds too, to order the signed log like the timeline.
-- The internal time-ordered key stays seq (the rowid): every new event is appended to the table's last page.
-- The conversion copies every row; foreign keys are off while migrations run (traceline_storage::migrations).

CREATE TABLE compact_timeline_events (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
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

-- diesel writes SQLite timestamps as `YYYY-MM-DD HH:MM:SS[.ffffff]`: whole seconds from strftime, then the
-- fraction's digits padded to six.
INSERT INTO compact_timeline_events
    (seq, id, session_id, kind, ts, source, actor, provenance, data, envelope, created_at, marks)
SELECT
    e.seq,
    unhex(replace(e.id, '-', '')),
    e.session_id,
    e.kind,
    CAST(strftime('%s', e.ts) AS INTEGER) * 1000000 + CAST(substr(substr(e.ts, 21) || '000000', 1, 6) AS INTEGER),
    e.source,
    e.actor,
    e.provenance,
    CASE
        WHEN r.envelope IS NOT NULL AND json_valid(r.envelope)
            AND json(json_extract(r.envelope, '$.data')) = json(e.data) THEN NULL
        ELSE e.data
    END,
    -- Every event was written with its raw row; should one be missing, the envelope is rebuilt from the
    -- normalised columns rather than the event lost.
    coalesce(r.envelope, json_object(
        'id', e.id, 'sessionId', e.session_id, 'kind', e.kind,
        'ts', strftime('%Y-%m-%dT%H:%M:%fZ', e.ts), 'v', 1,
        'source', json(e.source), 'actor', json(e.actor), 'provenance', json(e.provenance),
        'data', json(e.data))),
    CAST(strftime('%s', e.created_at) AS INTEGER) * 1000000
        + CAST(substr(substr(e.created_at, 21) || '000000', 1, 6) AS INTEGER),
    e.marks
FROM timeline_events e LEFT JOIN raw_events r ON r.event_seq = e.seq;

CREATE TABLE compact_event_chain (
    event_seq INTEGER PRIMARY KEY REFERENCES timeline_events (seq),
    session_id TEXT NOT NULL,
    ts BIGINT NOT NULL,
    sig TEXT,
    prev_sig TEXT,
    verified BOOLEAN NOT NULL,
    chain_pos BIGINT
);
INSERT INTO compact_event_chain (event_seq, session_id, ts, sig, prev_sig, verified, chain_pos)
SELECT event_seq, session_id,
    CAST(strftime('%s', ts) AS INTEGER) * 1000000 + CAST(substr(substr(ts, 21) || '000000', 1, 6) AS INTEGER),
    sig, prev_sig, verified, chain_pos
FROM event_chain;

DROP TABLE raw_events;
DROP TABLE event_chain;
DROP TABLE timeline_events;
ALTER TABLE compact_timeline_events RENAME TO timeline_events;
ALTER TABLE compact_event_chain RENAME TO event_chain;

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
CREATE INDEX event_chain_order ON event_chain (session_id, chain_pos, ts, event_seq);
CREATE INDEX event_chain_waiting ON event_chain (session_id, prev_sig) WHERE chain_pos IS NULL;
