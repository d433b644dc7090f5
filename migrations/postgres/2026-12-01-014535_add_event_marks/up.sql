-- The sets of events the metrics count (traceline_domain::metrics::EventSet), one bit each, stored with the
-- event so the timeline can be filtered to "the events a metric counts" by index. NULL until computed: new
-- events are written with their marks; the events stored before this migration are marked by the backfill
-- `traceline migrate` and `serve` run after the migrations (traceline_storage::marks).
ALTER TABLE timeline_events ADD COLUMN marks BIGINT;
CREATE INDEX timeline_events_unmarked ON timeline_events (seq) WHERE marks IS NULL;
-- One partial index per set, in timeline order; queries spell the predicate exactly so the planners use it.
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
