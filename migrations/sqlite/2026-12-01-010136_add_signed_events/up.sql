-- Signed events (spec §10.2). A session keeps the Ed25519 public key its candidate gave at redeem, and counters
-- that decide its chain status without reading its timeline: events carrying a sig, events whose sig verifies,
-- and events on the one line from prevSig "" (positions 1..chained_event_count, the last one's sig kept as the tip).
ALTER TABLE sessions ADD COLUMN signing_pubkey TEXT;
ALTER TABLE sessions ADD COLUMN signed_event_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN verified_event_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN chained_event_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN chain_tip_sig TEXT;

-- One row per event of a session with a signing key, written with the event. sig and prev_sig are lower-cased
-- for linking; chain_pos is the event's place on the line, NULL while it waits for its predecessor (or never
-- joins: a fork, a second start, an unsigned event). ts is repeated here so the signed log can list the events
-- off the line in time order from this table alone.
CREATE TABLE event_chain (
    event_seq INTEGER PRIMARY KEY REFERENCES timeline_events (seq),
    session_id TEXT NOT NULL,
    ts TIMESTAMP NOT NULL,
    sig TEXT,
    prev_sig TEXT,
    verified BOOLEAN NOT NULL,
    chain_pos BIGINT
);
-- The signed log in chain order, then the events off the line by time; and the first of those.
CREATE INDEX event_chain_order ON event_chain (session_id, chain_pos, ts, event_seq);
-- The events still waiting for their predecessor, found by the sig they name when it arrives.
CREATE INDEX event_chain_waiting ON event_chain (session_id, prev_sig) WHERE chain_pos IS NULL;
