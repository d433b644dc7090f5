-- Back to text ids and timestamps, the parsed data beside the raw envelope in raw_events.

CREATE TABLE raw_events (
    event_seq BIGINT PRIMARY KEY,
    envelope TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);
INSERT INTO raw_events (event_seq, envelope, received_at)
SELECT seq, envelope, TIMESTAMP 'epoch' + created_at * INTERVAL '1 microsecond' FROM timeline_events;

ALTER TABLE timeline_events ALTER COLUMN id TYPE TEXT USING (
    substr(encode(id, 'hex'), 1, 8) || '-' || substr(encode(id, 'hex'), 9, 4) || '-'
    || substr(encode(id, 'hex'), 13, 4) || '-' || substr(encode(id, 'hex'), 17, 4) || '-'
    || substr(encode(id, 'hex'), 21));
ALTER TABLE timeline_events ALTER COLUMN ts TYPE TIMESTAMP USING (TIMESTAMP 'epoch' + ts * INTERVAL '1 microsecond');
ALTER TABLE timeline_events ALTER COLUMN created_at TYPE TIMESTAMP
    USING (TIMESTAMP 'epoch' + created_at * INTERVAL '1 microsecond');
UPDATE timeline_events SET data = (envelope::jsonb -> 'data')::text WHERE data IS NULL;
ALTER TABLE timeline_events ALTER COLUMN data SET NOT NULL;
ALTER TABLE timeline_events DROP COLUMN envelope;
ALTER TABLE raw_events ADD CONSTRAINT raw_events_event_seq_fkey
    FOREIGN KEY (event_seq) REFERENCES timeline_events (seq);
ALTER TABLE event_chain ALTER COLUMN ts TYPE TIMESTAMP USING (TIMESTAMP 'epoch' + ts * INTERVAL '1 microsecond');
