//! The write path's ceiling: the rows the server writes for an ingested event (its `timeline_events` row with
//! the envelope, its session's counters), inserted with plain SQL, 500 events a transaction, through the
//! database's own command-line client (`sqlite3` or `psql`). No HTTP, no validation, none of the server's
//! crates: what the physical design costs by itself, to compare ingest with. The same inserter prefills a
//! database with millions of events, fast, before a server is started on it.

use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};

use crate::database::Backend;
use crate::payload::{push_data, push_event_head, MS_PER_DAY};
use crate::rng::{push_uuid, Rng};

/// Events per transaction, as a full batch request.
pub const EVENTS_PER_TRANSACTION: u64 = 500;

/// How the events of one transaction spread over sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// Every event to another session, in rotation, as concurrent single-event requests arrive: one counters
    /// update per event.
    Many,
    /// All to one session, as one batch request: one counters update per transaction.
    One,
}

/// How event ids are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// Random UUID v4, as clients send them today: each lands on a random page of the unique index.
    Random,
    /// Time-ordered (UUID v7-like): each lands on the index's last page.
    TimeOrdered,
}

/// One run of the inserter.
#[derive(Debug, Clone, Copy)]
pub struct Insert<'a> {
    /// The database's engine.
    pub backend: Backend,
    /// The URL `traceline` is given (`sqlite://path` or a PostgreSQL URL); its schema must be migrated.
    pub url: &'a str,
    /// Events to insert.
    pub events: u64,
    /// Sessions they go to, created first (untimed) under this prefix, in the database's first org.
    pub sessions: u32,
    /// Prefix of the session ids: runs into one database need prefixes of their own.
    pub prefix: &'a str,
    /// How a transaction's events spread over sessions.
    pub spread: Spread,
    /// How ids are made.
    pub ids: Ids,
    /// Seed of the generated content.
    pub seed: u64,
}

impl Insert<'_> {
    /// Creates the sessions, then inserts the events and returns how long the events took.
    pub fn run(&self) -> Result<Duration> {
        ensure!(self.sessions > 0, "the ceiling needs at least one session");
        let org = query(self.backend, self.url, "SELECT id FROM orgs ORDER BY id LIMIT 1")?;
        ensure!(!org.is_empty(), "the database holds no org");
        let mut script = String::from("BEGIN;\n");
        for session in 0..self.sessions {
            _ = writeln!(
                script,
                "INSERT INTO sessions (id, org_id, metadata, started_at, last_activity_at, created_at, \
                 updated_at) VALUES ('{}-{session}', '{org}', '{{}}', '{NOW}', '{NOW}', '{NOW}', '{NOW}');",
                self.prefix
            );
        }
        script.push_str("COMMIT;\n");
        feed(client(self.backend, self.url)?, |out| {
            out.write_all(script.as_bytes()).map_err(Into::into)
        })?;
        let last =
            query(self.backend, self.url, "SELECT COALESCE(MAX(seq), 0) FROM timeline_events")?;
        let first_seq: u64 = last.parse().with_context(|| format!("max seq {last:?}"))?;

        let started = Instant::now();
        let mut generator = Generator::new(self, first_seq + 1);
        feed(client(self.backend, self.url)?, |out| {
            let mut sql = String::with_capacity(1 << 20);
            let mut left = self.events;
            while left > 0 {
                let count = left.min(EVENTS_PER_TRANSACTION);
                sql.clear();
                generator.transaction(&mut sql, count);
                out.write_all(sql.as_bytes())?;
                left -= count;
            }
            Ok(())
        })?;
        let elapsed = started.elapsed();
        if self.backend == Backend::Postgres {
            // The rows carried their own `seq`; the identity must continue after them for the server's inserts.
            query(
                self.backend,
                self.url,
                "SELECT setval(pg_get_serial_sequence('timeline_events', 'seq'), \
                 (SELECT MAX(seq) FROM timeline_events))",
            )?;
        }
        Ok(elapsed)
    }
}

/// When the generated rows say they were written: sessions keep text timestamps, events microseconds.
const NOW: &str = "2026-04-01 12:00:00.000000";
const NOW_MICROS: i64 = (DAY_MICROS_2026_04_01 / 1_000_000 + 12 * 3600) * 1_000_000;

/// 2026-04-01T00:00:00Z, in microseconds since the Unix epoch.
const DAY_MICROS_2026_04_01: i64 = 1_775_001_600_000_000;

/// Writes the SQL of the transactions.
struct Generator<'a> {
    insert: &'a Insert<'a>,
    rng: Rng,
    next_seq: u64,
    sent: u64,
    envelope: String,
    data: String,
}

impl<'a> Generator<'a> {
    fn new(insert: &'a Insert<'a>, next_seq: u64) -> Self {
        let rng = Rng::new(insert.seed);
        Generator { insert, rng, next_seq, sent: 0, envelope: String::new(), data: String::new() }
    }

    /// One transaction of `count` events: the events with their envelopes, then each session's counters once
    /// (the server rewrites more aggregate columns, but in the same one row update). `data` is NULL, as the
    /// server stores it when the envelope's own is already normal.
    fn transaction(&mut self, sql: &mut String, count: u64) {
        let overriding = match self.insert.backend {
            Backend::Postgres => " OVERRIDING SYSTEM VALUE",
            Backend::Sqlite => "",
        };
        let one_session = self.sent / EVENTS_PER_TRANSACTION % u64::from(self.insert.sessions);
        let mut touched: Vec<(u64, u64, String)> = Vec::new();
        sql.push_str("BEGIN;\n");
        _ = write!(
            sql,
            "INSERT INTO timeline_events (seq, id, session_id, kind, ts, source, actor, provenance, data, \
             envelope, created_at, marks){overriding} VALUES "
        );
        for n in 0..count {
            let session = match self.insert.spread {
                Spread::Many => self.sent % u64::from(self.insert.sessions),
                Spread::One => one_session,
            };
            let session_id = format!("{}-{session}", self.insert.prefix);
            let id = self.id();
            let ms = u32::try_from(36_000_000 + self.sent % 40_000_000).unwrap_or(0) % MS_PER_DAY;
            let (kind, marks) = self.kind();
            self.data.clear();
            push_data(&mut self.data, &mut self.rng, kind);
            self.envelope.clear();
            push_event_head(&mut self.envelope, &id, &session_id, ms, kind, "ai", "likely_ai");
            self.envelope.push_str(&self.data);
            self.envelope.push('}');
            let ts = timestamp(ms);
            let ts_micros = DAY_MICROS_2026_04_01 + i64::from(ms) * 1000;
            let seq = self.next_seq;
            let id_bytes = blob_literal(self.insert.backend, &id);
            _ = write!(
                sql,
                "{}({seq}, {id_bytes}, '{session_id}', '{kind}', {ts_micros}, \
                 '{{\"channel\":\"hook\",\"integration\":\"claude-code\"}}', '{{\"type\":\"ai\"}}', \
                 '{{\"attribution\":\"likely_ai\"}}', NULL, '{}', {NOW_MICROS}, {marks})",
                if n == 0 { "" } else { ", " },
                self.envelope.replace('\'', "''"),
            );
            match touched.iter_mut().find(|(number, _, _)| *number == session) {
                Some((_, events, last)) => {
                    *events += 1;
                    *last = ts;
                }
                None => touched.push((session, 1, ts)),
            }
            self.next_seq += 1;
            self.sent += 1;
        }
        sql.push_str(";\n");
        for (session, events, last) in touched {
            _ = writeln!(
                sql,
                "UPDATE sessions SET event_count = event_count + {events}, last_activity_at = '{last}', \
                 updated_at = '{NOW}' WHERE id = '{}-{session}';",
                self.insert.prefix
            );
        }
        sql.push_str("COMMIT;\n");
    }

    fn id(&mut self) -> String {
        let mut id = String::with_capacity(36);
        match self.insert.ids {
            Ids::Random => push_uuid(&mut id, self.rng.next_u64(), self.rng.next_u64()),
            Ids::TimeOrdered => {
                // 48 bits of milliseconds then a counter, as UUID v7 lays them out; version bits say 4, which
                // changes nothing for the index.
                let ms = 1_775_000_000_000_u64 + self.sent / 16;
                push_uuid(&mut id, (ms << 16) | (self.sent & 0xFFF), self.rng.next_u64());
            }
        }
        id
    }

    /// A kind, as the load's mix draws them, and roughly the sets it belongs to.
    fn kind(&mut self) -> (&'static str, u32) {
        match self.rng.below(20) {
            0..=5 => ("command", 2),
            6..=11 => ("file_diff", 16 | 128),
            12..=16 => ("prompt", 1),
            _ => ("test_run", 8 | 64),
        }
    }
}

/// An event id's 16 bytes as a literal of `backend`'s binary type.
fn blob_literal(backend: Backend, id: &str) -> String {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    match backend {
        Backend::Sqlite => format!("X'{hex}'"),
        Backend::Postgres => format!("'\\x{hex}'::bytea"),
    }
}

/// `2026-04-01 HH:MM:SS.mmm000`, as the server stores sessions' timestamps.
fn timestamp(ms_of_day: u32) -> String {
    let (hours, minutes) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
    let (seconds, millis) = (ms_of_day / 1000 % 60, ms_of_day % 1000);
    format!("2026-04-01 {hours:02}:{minutes:02}:{seconds:02}.{millis:03}000")
}

/// The command-line client of `backend` on `url`, reading SQL from its stdin.
fn client(backend: Backend, url: &str) -> Result<Child> {
    let mut command = match backend {
        Backend::Sqlite => {
            let mut command = Command::new("sqlite3");
            // The server's settings: WAL, and `synchronous = FULL` (acknowledged means durable).
            command.args(["-bail", "-cmd", "PRAGMA journal_mode = WAL", "-cmd"]);
            command.args(["PRAGMA synchronous = FULL", "-cmd", "PRAGMA foreign_keys = ON"]);
            command.arg(sqlite_path(url)?);
            command
        }
        Backend::Postgres => {
            let mut command = Command::new("psql");
            command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]);
            command
        }
    };
    command.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    command.spawn().context("could not start the database's client (sqlite3 or psql)")
}

/// Writes SQL into the client with `write`, closes its input and waits for it to succeed.
fn feed(mut child: Child, write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>) -> Result<()> {
    let stdin = child.stdin.take().context("the client has no stdin")?;
    let mut stdin = BufWriter::with_capacity(1 << 20, stdin);
    let written = write(&mut stdin).and_then(|()| Ok(stdin.flush()?));
    drop(stdin);
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "the SQL client failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    written.context("writing SQL to the client")
}

/// The first column of the first row `sql` returns.
pub fn query(backend: Backend, url: &str, sql: &str) -> Result<String> {
    let output = match backend {
        Backend::Sqlite => Command::new("sqlite3").arg(sqlite_path(url)?).arg(sql).output(),
        Backend::Postgres => Command::new("psql")
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
            .output(),
    }
    .context("could not run the database's client (sqlite3 or psql)")?;
    ensure!(
        output.status.success(),
        "`{sql}` failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).lines().next().unwrap_or("").trim().to_owned())
}

fn sqlite_path(url: &str) -> Result<&str> {
    url.strip_prefix("sqlite://").with_context(|| format!("not a SQLite URL: {url}"))
}
