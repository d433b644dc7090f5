//! The ceiling scenario: the server's rows for `events` events inserted with plain SQL
//! ([`traceline_loadgen::ceiling`]) into fresh databases, once spread over many sessions (what concurrent
//! single-event requests write) and once a session per transaction (what batches write); each into an empty
//! database and again once `events` are stored. Ingest is reported as a ratio of it.

use std::path::Path;

use anyhow::Result;
use traceline_loadgen::ceiling::{Ids, Insert, Spread};
use traceline_loadgen::database::{Backend, BenchDatabase};
use traceline_loadgen::say;
use traceline_loadgen::server;

use super::figures::thousands;

/// Sessions the events spread over: the single-event scenario's 32 connections × 100 sessions.
const SESSIONS: u32 = 3_200;

/// The plain-SQL insert rates, in events per second.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ceiling {
    /// Events each rate was measured over.
    pub(crate) events: u64,
    /// Spread over many sessions, into an empty database.
    pub(crate) many_empty: f64,
    /// The same, once `events` are stored.
    pub(crate) many_stored: f64,
    /// A session per transaction, into an empty database.
    pub(crate) one_empty: f64,
    /// The same, once `events` are stored.
    pub(crate) one_stored: f64,
}

/// Measures the ceiling on `backend`, in databases of its own under `work_dir`.
pub(crate) fn measure(
    backend: Backend,
    binary: &Path,
    work_dir: &Path,
    events: u64,
    ids: Ids,
) -> Result<Ceiling> {
    let mut rates = Vec::new();
    for (spread, name) in [(Spread::Many, "ceiling_many"), (Spread::One, "ceiling_one")] {
        let database = BenchDatabase::create_named(backend, work_dir, name)?;
        server::create_org(binary, database.url())?;
        for (round, prefix) in ["first", "second"].into_iter().enumerate() {
            let insert = Insert {
                backend,
                url: database.url(),
                events,
                sessions: SESSIONS,
                prefix,
                spread,
                ids,
                seed: 7 + round as u64,
            };
            let seconds = insert.run()?.as_secs_f64();
            let rate = events as f64 / seconds.max(1e-9);
            say(&format!(
                "  ceiling ({spread:?} sessions, {ids:?} ids, {} events stored before): {} events/s",
                events * round as u64,
                thousands(rate)
            ));
            rates.push(rate);
        }
    }
    Ok(Ceiling {
        events,
        many_empty: rates[0],
        many_stored: rates[1],
        one_empty: rates[2],
        one_stored: rates[3],
    })
}

/// Fills the database at `url` with `events` plain-SQL events (a session per transaction over 10,000
/// sessions, random ids), as a server that has run for a long time would have it.
pub(crate) fn prefill(backend: Backend, url: &str, events: u64) -> Result<()> {
    let insert = Insert {
        backend,
        url,
        events,
        sessions: 10_000,
        prefix: "prefill",
        spread: Spread::One,
        ids: Ids::Random,
        seed: 11,
    };
    let seconds = insert.run()?.as_secs_f64();
    say(&format!(
        "  prefilled {} events with plain SQL in {seconds:.1} s ({} events/s)",
        thousands(events as f64),
        thousands(events as f64 / seconds.max(1e-9))
    ));
    Ok(())
}
