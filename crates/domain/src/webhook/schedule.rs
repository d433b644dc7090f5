//! When a failed delivery is tried again: exponential backoff from a base interval, each wait at most an hour,
//! for 24 hours after the event; then the delivery is given up as failed.

use chrono::{DateTime, Duration, Utc};

/// The retry schedule. The base is a setting (`TRACELINE_WEBHOOK_RETRY_BASE_MS`), so tests can retry in
/// milliseconds what production retries in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The wait after the first failure; each later failure doubles it.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub cap: Duration,
    /// How long after the event attempts go on.
    pub window: Duration,
}

impl Default for RetrySchedule {
    /// 30 s, 1 min, 2 min, … up to an hour between attempts, for 24 hours: about 30 attempts in all.
    fn default() -> Self {
        RetrySchedule {
            base: Duration::seconds(30),
            cap: Duration::hours(1),
            window: Duration::hours(24),
        }
    }
}

impl RetrySchedule {
    /// When to try again after the `attempts`-th attempt (counting from 1) failed at `now`, for an event of
    /// `created_at`; `None` once that would fall outside the window.
    pub fn next_attempt(
        &self,
        created_at: DateTime<Utc>,
        attempts: i64,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let wait =
            self.base.checked_mul(1 << doublings).map_or(self.cap, |wait| wait.min(self.cap));
        let next = now + wait.max(Duration::zero());
        (next <= created_at + self.window).then_some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_stop_after_the_window() {
        let schedule = RetrySchedule::default();
        let created = DateTime::from_timestamp(1_775_000_000, 0).unwrap();
        let waits: Vec<i64> = (1..=9)
            .map(|attempt| {
                (schedule.next_attempt(created, attempt, created).unwrap() - created).num_seconds()
            })
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        let late = created + Duration::hours(23) + Duration::minutes(30);
        assert_eq!(schedule.next_attempt(created, 20, late), None);
        assert!(schedule.next_attempt(created, 1_000, created).is_some());
    }

    #[test]
    fn a_small_base_retries_quickly() {
        let schedule = RetrySchedule { base: Duration::milliseconds(100), ..Default::default() };
        let created = DateTime::from_timestamp(1_775_000_000, 0).unwrap();
        let next = schedule.next_attempt(created, 3, created).unwrap();
        assert_eq!((next - created).num_milliseconds(), 400);
    }
}
