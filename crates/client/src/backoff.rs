//! Remembering that the server was unreachable, so a burst of hook calls during an outage costs one failed
//! connection, not one per call. Kept in `.traceline/backoff.json` because every hook call is a new process.

use std::fs;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::files::replace_atomically;
use crate::state::StateDir;

const FILE: &str = "backoff.json";
const FIRST_WAIT: Duration = Duration::from_secs(2);
const LONGEST_WAIT: Duration = Duration::from_secs(120);

/// The last delivery failure and how long hooks leave the network alone because of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Backoff {
    /// Failures in a row.
    pub(crate) failures: u32,
    /// Hooks only spool until then.
    pub(crate) until: DateTime<Utc>,
    /// What went wrong, for `traceline status`.
    pub(crate) last_error: String,
}

impl Backoff {
    /// The current backoff, if the last attempt failed.
    pub(crate) fn load(dir: &StateDir) -> Option<Backoff> {
        let text = fs::read_to_string(dir.file(FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Whether a hook should leave the network alone at `now`.
    pub(crate) fn is_waiting(&self, now: DateTime<Utc>) -> bool {
        now < self.until
    }

    /// Records one more failure: the wait doubles from 2 s up to 2 min, or is what the server asked for.
    pub(crate) fn record_failure(
        dir: &StateDir,
        now: DateTime<Utc>,
        error: &str,
        asked: Option<Duration>,
    ) {
        let failures = Backoff::load(dir).map_or(0, |backoff| backoff.failures).saturating_add(1);
        let doubled = FIRST_WAIT.saturating_mul(1_u32 << (failures - 1).min(16)).min(LONGEST_WAIT);
        let wait = asked.unwrap_or(doubled);
        let until = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        let backoff = Backoff { failures, until, last_error: error.to_owned() };
        if let Ok(text) = serde_json::to_vec(&backoff) {
            let _ignored = replace_atomically(&dir.file(FILE), &text);
        }
    }

    /// Forgets past failures after a delivery went through.
    pub(crate) fn clear(dir: &StateDir) {
        let _ignored = fs::remove_file(dir.file(FILE));
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn waits_double_up_to_a_ceiling_and_clear_on_success() {
        let workspace = tempfile::tempdir().unwrap();
        let dir = StateDir::of_workspace(workspace.path());
        dir.create().unwrap();
        let now = Utc::now();
        let mut waits = Vec::new();
        for _ in 0..9 {
            Backoff::record_failure(&dir, now, "refused", None);
            waits.push((Backoff::load(&dir).unwrap().until - now).num_seconds());
        }
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 120, 120, 120]);
        let backoff = Backoff::load(&dir).unwrap();
        assert!(
            backoff.is_waiting(now) && !backoff.is_waiting(now + chrono::Duration::seconds(121))
        );
        Backoff::clear(&dir);
        assert!(Backoff::load(&dir).is_none());
    }

    #[test]
    fn the_server_s_retry_after_wins() {
        let workspace = tempfile::tempdir().unwrap();
        let dir = StateDir::of_workspace(workspace.path());
        dir.create().unwrap();
        let now = Utc::now();
        Backoff::record_failure(&dir, now, "429", Some(Duration::from_secs(37)));
        assert_eq!((Backoff::load(&dir).unwrap().until - now).num_seconds(), 37);
    }
}
