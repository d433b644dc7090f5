#!/usr/bin/env bash
# Times the compact-events migration on a PostgreSQL database holding N events in the earlier layout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TRACELINE="${TRACELINE:-$ROOT/target/release/traceline}"
N=${1:-1000000}
P="psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres"
$P -d postgres -c "DROP DATABASE IF EXISTS tl_mig" -c "CREATE DATABASE tl_mig"
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/tl_mig
"$TRACELINE" migrate >/dev/null
M="$ROOT"/migrations/postgres/2026-12-02-000000_compact_events
$P -d tl_mig -1 -f "$M"/down.sql -c "DELETE FROM __diesel_schema_migrations WHERE version = '20261202000000'"
$P -d tl_mig <<SQL
INSERT INTO orgs (id, name, created_at) VALUES ('o1', 'Org', '2026-04-01');
INSERT INTO sessions (id, org_id, metadata, started_at, last_activity_at, created_at, updated_at)
SELECT 's' || n, 'o1', '{}', '2026-04-01', '2026-04-01', '2026-04-01', '2026-04-01' FROM generate_series(0, 99) n;
INSERT INTO timeline_events (id, session_id, kind, ts, source, actor, provenance, data, created_at, marks)
SELECT gen_random_uuid()::text, 's' || (n % 100), 'prompt', TIMESTAMP '2026-04-01' + n * INTERVAL '1.123456 second',
  '{"channel":"hook","integration":"claude-code"}', '{"type":"ai"}', '{"attribution":"likely_ai"}',
  '{"text":"a prompt of some length, as candidates write them, about a cache and its eviction policy"}',
  TIMESTAMP '2026-04-01' + n * INTERVAL '1 second', 1 FROM generate_series(1, $N) n;
INSERT INTO raw_events (event_seq, envelope, received_at)
SELECT seq, '{"id":"' || id || '","sessionId":"' || session_id || '","ts":"2026-04-01T00:00:00Z","kind":"prompt","source":{"channel":"hook","integration":"claude-code"},"v":1,"data":' || data || '}', created_at FROM timeline_events;
VACUUM ANALYZE;
SQL
$P -d tl_mig -Atc "SELECT 'before: ' || pg_size_pretty(pg_total_relation_size('timeline_events') + pg_total_relation_size('raw_events'))"
/usr/bin/time -f "migrate: %e s, peak RSS %M KB" "$TRACELINE" migrate
$P -d tl_mig -Atc "SELECT 'after: ' || pg_size_pretty(pg_total_relation_size('timeline_events')), count(*), sum((data IS NULL)::int) FROM timeline_events"
$P -d postgres -c "DROP DATABASE tl_mig"
