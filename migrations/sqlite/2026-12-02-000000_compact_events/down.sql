-- Back to text ids and timestamps, the parsed data beside the raw envelope in raw_events.

CREATE TABLE text_timeline_events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    kind TEXT NOT NULL,
    ts TIMESTAMP NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    provenance TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    marks BIGINT
);
INSERT INTO text_timeline_events
    (seq, id, session_id, kind, ts, source, actor, provenance, data, created_at, marks)
SELECT
    seq,
    lower(substr(hex(id), 1, 8) || '-' || substr(hex(id), 9, 4) || '-' || substr(hex(id), 13, 4) || '-'
        || substr(hex(id), 17, 4) || '-' || substr(hex(id), 21)),
    session_id,
    kind,
    strftime('%Y-%m-%d %H:%M:%S', ts / 1000000 - (ts % 1000000 < 0), 'unixepoch')
        || printf('.%06d', (ts % 1000000 + 1000000) % 1000000),
    source,
    actor,
    provenance,
    coalesce(data, json_extract(envelope, '$.data')),
    strftime('%Y-%m-%d %H:%M:%S', created_at / 1000000 - (created_at % 1000000 < 0), 'unixepoch')
        || printf('.%06d', (created_at % 1000000 + 1000000) % 1000000),
    marks
FROM timeline_events;

CREATE TABLE raw_events (
    event_seq INTEGER PRIMARY KEY REFERENCES timeline_events (seq),
    envelope TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);
INSERT INTO raw_events (event_seq, envelope, received_at)
SELECT e.seq, e.envelope, t.created_at FROM timeline_events e JOIN text_timeline_events t ON t.seq = e.seq;

CREATE TABLE text_event_chain (
    event_seq INTEGER PRIMARY KEY REFERENCES timeline_events (seq),
    session_id TEXT NOT NULL,
    ts TIMESTAMP NOT NULL,
    sig TEXT,
    prev_sig TEXT,
    verified BOOLEAN NOT NULL,
    chain_pos BIGINT
);
INSERT INTO text_event_chain (event_seq, session_id, ts, sig, prev_sig, verified, chain_pos)
SELECT event_seq, session_id,
    strftime('%Y-%m-%d %H:%M:%S', ts / 1000000 - (ts % 1000000 < 0), 'unixepoch')
        || printf('.%06d', (ts % 1000000 + 1000000) % 1000000),
    sig, prev_sig, verified, chain_pos
FROM event_chain;

DROP TABLE event_chain;
DROP TABLE timeline_events;
ALTER TABLE text_timeline_events RENAME TO timeline_events;
ALTER TABLE text_event_chain RENAME TO event_chain;

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
