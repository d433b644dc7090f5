//! Running a PostgreSQL transaction again when the database aborted it to break a deadlock or for a
//! serialisation failure: both say "try again", and the transaction that caused the abort has usually committed
//! by the time the retry starts.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use diesel::Connection;

use crate::connection::AnyConnection;
use crate::error::StorageError;

/// How many times a PostgreSQL transaction aborted for a deadlock or a serialisation failure is run again before
/// the request is answered as unavailable.
const CONTENTION_RETRIES: u32 = 5;

/// Runs `work` in a transaction, again after a short, jittered pause when PostgreSQL aborted it for a deadlock
/// or a serialisation failure: the transaction that caused the abort has usually committed by then. After
/// [`CONTENTION_RETRIES`] retries the error is returned, which callers answer as unavailable.
pub(crate) fn run_retrying<T>(
    connection: &mut AnyConnection,
    mut work: impl FnMut(&mut AnyConnection) -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    let mut retries = 0;
    loop {
        match connection.transaction(&mut work) {
            Err(error) if error.is_contended() && retries < CONTENTION_RETRIES => {
                retries += 1;
                log::debug!("transaction retried ({retries}) after {error}");
                std::thread::sleep(backoff(retries));
            }
            outcome => return outcome,
        }
    }
}

/// The pause before retry `retry` (1-based): 10 ms doubling, plus up to as much again at random so that the
/// transactions that collided do not collide again in step.
fn backoff(retry: u32) -> Duration {
    let base = 10_u64 << retry.saturating_sub(1).min(6);
    let jitter = RandomState::new().hash_one(std::time::SystemTime::now()) % base;
    Duration::from_millis(base + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_doubling_with_jitter_and_stay_short() {
        for retry in 1..=CONTENTION_RETRIES {
            let base = Duration::from_millis(10 << (retry - 1));
            let pause = backoff(retry);
            assert!(pause >= base && pause < base * 2, "retry {retry}: {pause:?}");
        }
        let total: Duration = (1..=CONTENTION_RETRIES).map(backoff).sum();
        assert!(total < Duration::from_secs(1), "every retry together stays under a second");
    }
}
