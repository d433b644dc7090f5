#!/usr/bin/env bash
# Times the compact-events migration on a SQLite database holding N events in the earlier layout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TRACELINE="${TRACELINE:-$ROOT/target/release/traceline}"
N=${1:-1000000}
DB="${TMPDIR:-/tmp}/traceline-migration-timing.db"; rm -f "$DB" "$DB"-wal "$DB"-shm
export DATABASE_URL=sqlite://"$DB"
"$TRACELINE" migrate >/dev/null
M="$ROOT"/migrations/sqlite/2026-12-02-000000_compact_events
sqlite3 "$DB" "PRAGMA foreign_keys=OFF; BEGIN; $(cat "$M"/down.sql) DELETE FROM __diesel_schema_migrations WHERE version = '20261202000000'; COMMIT;"
sqlite3 "$DB" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
INSERT INTO orgs (id, name, created_at) VALUES ('o1', 'Org', '2026-04-01 00:00:00');
WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < 99)
INSERT INTO sessions (id, org_id, metadata, started_at, last_activity_at, created_at, updated_at)
SELECT 's' || n, 'o1', '{}', '2026-04-01 00:00:00', '2026-04-01 00:00:00', '2026-04-01 00:00:00', '2026-04-01 00:00:00' FROM s;
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $N),
ids AS (SELECT n, lower(hex(randomblob(16))) AS h FROM s)
INSERT INTO timeline_events (seq, id, session_id, kind, ts, source, actor, provenance, data, created_at, marks)
SELECT n, substr(h,1,8)||'-'||substr(h,9,4)||'-4'||substr(h,14,3)||'-a'||substr(h,18,3)||'-'||substr(h,21),
  's' || (n % 100), 'prompt', datetime(1775001600 + n, 'unixepoch') || '.123456',
  '{"channel":"hook","integration":"claude-code"}', '{"type":"ai"}', '{"attribution":"likely_ai"}',
  '{"text":"a prompt of some length, as candidates write them, about a cache and its eviction policy"}',
  datetime(1775001600 + n, 'unixepoch') || '.5', 1 FROM ids;
INSERT INTO raw_events (event_seq, envelope, received_at)
SELECT seq, '{"id":"' || id || '","sessionId":"' || session_id || '","ts":"2026-04-01T00:00:00Z","kind":"prompt","source":{"channel":"hook","integration":"claude-code"},"v":1,"data":' || data || '}', created_at FROM timeline_events;
COMMIT;
SQL
sqlite3 "$DB" "VACUUM;"; ls -la "$DB" | awk '{print "before (vacuumed): " $5/1e6 " MB"}'
/usr/bin/time -f "migrate: %e s, peak RSS %M KB" "$TRACELINE" migrate
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null; sqlite3 "$DB" "VACUUM;"
ls -la "$DB" | awk '{print "after (vacuumed): " $5/1e6 " MB"}'
sqlite3 "$DB" "SELECT count(*), sum(data IS NULL), min(length(id)), max(length(id)) FROM timeline_events;"
rm -f "$DB" "$DB"-wal "$DB"-shm
