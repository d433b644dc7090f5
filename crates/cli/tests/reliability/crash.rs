//! SIGKILL during ingest, restart on the same database, repeat; then nothing acknowledged is lost or doubled,
//! the aggregates agree with the stored events, and the database opens cleanly. The `soak_*` tests are the same
//! run for `TRACELINE_SOAK_SECONDS` (run by `cargo xtask soak`).

use std::time::{Duration, Instant};

use crate::support::database::{Backend, TestDatabase};
use crate::support::fixture::{self, UNLIMITED};
use crate::support::Server;
use traceline_loadgen::rng::{self, Rng};
use traceline_loadgen::workload::{self, Ledger, Shared};

const CLIENT_THREADS: usize = 4;
const SESSIONS_PER_THREAD: usize = 2;

/// The figures a run reports (the soak's go into docs/RELIABILITY.md).
#[derive(Debug)]
#[expect(dead_code, reason = "read through Debug, in the printed report")]
struct Report {
    backend: Backend,
    seed: u64,
    elapsed: Duration,
    kills: u32,
    requests: u64,
    transport_failures: u64,
    retried_ids: u64,
    checked: workload::Checked,
}

fn kill_and_restart(backend: Backend, budget: Duration, min_kills: u32) -> Report {
    let _serial = crate::one_at_a_time();
    let started = Instant::now();
    let seed = rng::seed_from_env();
    println!(
        "crash run on {backend:?}: seed {seed} (TRACELINE_TEST_SEED replays the client choices)"
    );
    let mut rng = Rng::new(seed);
    let database = TestDatabase::new(backend);
    let log = database.dir.path().join("server.log");
    let start = || Server::start_with(&database.url, &UNLIMITED, Some(&log));
    let reviewer_key = fixture::create_org(&database.url);
    let mut server = start();
    let tenant = fixture::tenant(&server.base_url, reviewer_key, CLIENT_THREADS);
    let shared = Shared::new(&server.base_url);

    let mut kills = 0;
    let (ledgers, server) = std::thread::scope(|scope| {
        let threads: Vec<_> = tenant
            .candidate_keys
            .iter()
            .map(|key| {
                let (shared, mut thread_rng) = (&shared, Rng::new(rng.next_u64()));
                scope.spawn(move || {
                    let mut ledger = Ledger::new(SESSIONS_PER_THREAD, &mut thread_rng);
                    workload::drive(shared, key, thread_rng, &mut ledger);
                    ledger
                })
            })
            .collect();
        while kills < min_kills || started.elapsed() < budget {
            std::thread::sleep(rng.millis(150, 700));
            server.kill();
            kills += 1;
            std::thread::sleep(rng.millis(0, 60));
            server = start();
            shared.move_to(&server.base_url);
        }
        // Some traffic on the last server, so the run ends on a process that recovered.
        std::thread::sleep(Duration::from_millis(300));
        shared.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let ledgers: Vec<Ledger> =
            threads.into_iter().map(|thread| thread.join().unwrap()).collect();
        (ledgers, server)
    });

    let checked = workload::check(&server.base_url, &tenant.reviewer_key, &ledgers)
        .unwrap_or_else(|problems| panic!("{problems:#}"));
    workload::retry_all_acknowledged(&server.base_url, &ledgers, &tenant.candidate_keys)
        .unwrap_or_else(|error| panic!("{error:#}"));
    assert!(server.terminate().success(), "the last server did not exit cleanly");
    let stored = database.check_opens_cleanly();
    assert_eq!(stored.rows, stored.distinct_ids, "an event id stored twice");
    assert_eq!(stored.rows, stored.enveloped_rows, "every timeline row has its envelope");
    assert_eq!(stored.rows as usize, checked.stored_events, "rows outside the checked sessions");
    assert!(checked.acknowledged > 0, "no event was acknowledged: the load never ran");
    let report = Report {
        backend,
        seed,
        elapsed: started.elapsed(),
        kills,
        requests: ledgers.iter().map(|l| l.requests).sum(),
        transport_failures: ledgers.iter().map(|l| l.transport_failures).sum(),
        retried_ids: ledgers.iter().map(|l| l.retries).sum(),
        checked,
    };
    println!("{report:#?}");
    report
}

mod kill_restart {
    use super::*;

    #[test]
    fn sqlite() {
        kill_and_restart(Backend::Sqlite, Duration::from_secs(3), 3);
    }

    #[test]
    fn postgres() {
        kill_and_restart(Backend::Postgres, Duration::from_secs(3), 3);
    }
}

/// `TRACELINE_SOAK_SECONDS` (default 60) of kill/restart cycles.
fn soak_budget() -> Duration {
    let seconds = std::env::var("TRACELINE_SOAK_SECONDS").ok().and_then(|s| s.parse().ok());
    Duration::from_secs(seconds.unwrap_or(60))
}

mod soak {
    use super::*;

    #[test]
    #[ignore = "long: run with `cargo xtask soak`"]
    fn sqlite() {
        kill_and_restart(Backend::Sqlite, soak_budget(), 3);
    }

    #[test]
    #[ignore = "long: run with `cargo xtask soak`"]
    fn postgres() {
        kill_and_restart(Backend::Postgres, soak_budget(), 3);
    }
}
