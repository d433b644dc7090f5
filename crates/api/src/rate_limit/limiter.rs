//! The limiter itself: fixed one-minute windows per key, sharded, with time as an argument so tests never sleep.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long one window lasts, from the first request of a key.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Independent locks; a power of two well above the worker count keeps contention rare.
const SHARDS: usize = 16;

/// A shard drops expired windows once every this many checks, bounding memory without a background task.
const SWEEP_EVERY: u32 = 1024;

/// The outcome of one check, and everything the `x-ratelimit-*` and `Retry-After` headers need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request may proceed. A refused request consumed nothing.
    pub allowed: bool,
    /// The limit per window.
    pub limit: u32,
    /// What is left of the window after this check.
    pub remaining: u32,
    /// When the window ends, in Unix seconds (rounded up, so a client waiting until then is never early).
    pub reset_unix_secs: u64,
    /// Whole seconds until a refused request could succeed (at least 1); 0 when allowed.
    pub retry_after_secs: u64,
}

impl RateDecision {
    /// Whether this decision should be reported rather than `other`: a refusal beats an allowance, then fewer
    /// remaining wins, then the later reset.
    pub fn is_tighter_than(&self, other: &RateDecision) -> bool {
        (!self.allowed, std::cmp::Reverse(self.remaining), self.reset_unix_secs)
            > (!other.allowed, std::cmp::Reverse(other.remaining), other.reset_unix_secs)
    }

    /// The tightest of some decisions, if there are any.
    pub fn tightest(decisions: impl IntoIterator<Item = RateDecision>) -> Option<RateDecision> {
        decisions.into_iter().reduce(|a, b| if b.is_tighter_than(&a) { b } else { a })
    }
}

/// Counts cost per key in fixed windows (a [`WINDOW`] unless built [`RateLimiter::per_window`]) that start at a
/// key's first request after the previous one ended.
///
/// Memory: an entry lives until its shard's next sweep after its window ends, and a shard sweeps every
/// 1,024 checks it receives. Everything present right after a sweep was live then, and fewer than 1,024 entries
/// can be added before the next, so the limiter holds at most the keys seen in one window plus
/// 16 × 1,023 stale entries.
pub struct RateLimiter {
    limit: u32,
    sweep_every: u32,
    window: Duration,
    hasher: RandomState,
    shards: [Mutex<Shard>; SHARDS],
}

#[derive(Default)]
struct Shard {
    windows: HashMap<Box<str>, Window>,
    checks_since_sweep: u32,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: SystemTime,
    used: u32,
}

impl Window {
    /// A clock that stepped backwards ends the window: refusing a client for however far the clock jumped
    /// would be worse than granting one early fresh window.
    fn is_current(&self, now: SystemTime, length: Duration) -> bool {
        now.duration_since(self.started).is_ok_and(|elapsed| elapsed < length)
    }
}

impl RateLimiter {
    /// A limiter allowing `limit_per_minute` units of cost per key per window.
    pub fn new(limit_per_minute: NonZeroU32) -> Self {
        Self::with_sweep_every(limit_per_minute, SWEEP_EVERY)
    }

    /// A limiter allowing `limit` units of cost per key in windows of `window`.
    pub fn per_window(limit: NonZeroU32, window: Duration) -> Self {
        Self { window, ..Self::new(limit) }
    }

    fn with_sweep_every(limit_per_minute: NonZeroU32, sweep_every: u32) -> Self {
        Self {
            limit: limit_per_minute.get(),
            sweep_every: sweep_every.max(1),
            window: WINDOW,
            // Seeded per process, so a client cannot choose keys that all land on one shard.
            hasher: RandomState::new(),
            shards: Default::default(),
        }
    }

    /// The limit per window.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Charges `cost` to `key` at `now` if it fits in the key's window, and says what is left. A refused check
    /// changes nothing; a cost above the limit is always refused, with `retry_after_secs` until the window ends.
    pub fn check(&self, key: &str, cost: u32, now: SystemTime) -> RateDecision {
        self.decide(key, cost, now, true)
    }

    /// What [`check`](Self::check) would decide for `cost`, without charging anything.
    pub fn peek(&self, key: &str, cost: u32, now: SystemTime) -> RateDecision {
        self.decide(key, cost, now, false)
    }

    fn decide(&self, key: &str, cost: u32, now: SystemTime, charge: bool) -> RateDecision {
        let mut shard = self.shard(key).lock().unwrap_or_else(PoisonError::into_inner);
        shard.checks_since_sweep += 1;
        if shard.checks_since_sweep >= self.sweep_every {
            shard.checks_since_sweep = 0;
            shard.windows.retain(|_, window| window.is_current(now, self.window));
        }
        let window = shard
            .windows
            .get(key)
            .copied()
            .filter(|window| window.is_current(now, self.window))
            .unwrap_or(Window { started: now, used: 0 });
        let available = self.limit.saturating_sub(window.used);
        let resets_at = window.started + self.window;
        let reset_unix_secs = ceil_secs(resets_at.duration_since(UNIX_EPOCH).unwrap_or_default());
        if cost > available {
            let wait = resets_at.duration_since(now).unwrap_or_default();
            return RateDecision {
                allowed: false,
                limit: self.limit,
                remaining: available,
                reset_unix_secs,
                retry_after_secs: ceil_secs(wait).max(1),
            };
        }
        if charge && cost > 0 {
            let charged = Window { used: window.used + cost, ..window };
            match shard.windows.get_mut(key) {
                Some(slot) => *slot = charged,
                None => {
                    shard.windows.insert(key.into(), charged);
                }
            }
        }
        RateDecision {
            allowed: true,
            limit: self.limit,
            remaining: available - cost,
            reset_unix_secs,
            retry_after_secs: 0,
        }
    }

    fn shard(&self, key: &str) -> &Mutex<Shard> {
        let hash = self.hasher.hash_one(key);
        // The remainder is below SHARDS, so narrowing it cannot truncate.
        &self.shards[(hash % SHARDS as u64) as usize]
    }

    #[cfg(test)]
    fn tracked_keys(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).windows.len())
            .sum()
    }
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("limit", &self.limit).finish_non_exhaustive()
    }
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(limit: u32) -> RateLimiter {
        RateLimiter::new(NonZeroU32::new(limit).unwrap())
    }

    /// An instant with a fractional second, so rounding is exercised.
    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_700_000_000_250)
    }

    fn at(seconds: f64) -> SystemTime {
        t0() + Duration::from_secs_f64(seconds)
    }

    #[test]
    fn the_request_after_the_limit_is_refused_until_the_window_ends() {
        let limiter = limiter(100);
        for used in 1..=100 {
            let decision = limiter.check("k", 1, at(f64::from(used - 1) * 0.5));
            assert!(decision.allowed, "request {used}");
            assert_eq!(decision.remaining, 100 - used);
            assert_eq!(decision.limit, 100);
            assert_eq!(decision.retry_after_secs, 0);
            assert_eq!(
                decision.reset_unix_secs, 1_700_000_061,
                "the window starts at the first request"
            );
        }
        let refused = limiter.check("k", 1, at(55.0));
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.reset_unix_secs, 1_700_000_061);
        assert_eq!(refused.retry_after_secs, 5, "60.25 - 55.25 seconds");
        assert_eq!(limiter.check("k", 1, at(59.9)).retry_after_secs, 1, "rounded up, never 0");
        let renewed = limiter.check("k", 1, at(60.0));
        assert!(renewed.allowed, "a new window begins when the old one ends");
        assert_eq!(renewed.remaining, 99);
        assert_eq!(renewed.reset_unix_secs, 1_700_000_121);
    }

    #[test]
    fn a_refused_check_consumes_nothing() {
        let limiter = limiter(10);
        assert_eq!(limiter.check("k", 7, at(0.0)).remaining, 3);
        let refused = limiter.check("k", 4, at(1.0));
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 3, "a cost that does not fit leaves the remainder untouched");
        for _ in 0..5 {
            assert!(!limiter.check("k", 4, at(2.0)).allowed);
        }
        let fits = limiter.check("k", 3, at(3.0));
        assert!(fits.allowed);
        assert_eq!(fits.remaining, 0);
    }

    #[test]
    fn costs_are_charged_whole() {
        let limiter = limiter(100);
        assert_eq!(limiter.check("k", 60, at(0.0)).remaining, 40);
        assert_eq!(limiter.check("k", 40, at(1.0)).remaining, 0, "exactly the limit fits");
        assert!(!limiter.check("k", 1, at(2.0)).allowed);
        let peek = limiter.check("k", 0, at(3.0));
        assert!(peek.allowed, "a zero cost always fits and charges nothing");
        assert_eq!(peek.remaining, 0);
    }

    #[test]
    fn a_cost_above_the_limit_is_refused_outright() {
        let limiter = limiter(100);
        let fresh = limiter.check("k", 101, at(0.0));
        assert!(!fresh.allowed);
        assert_eq!(fresh.remaining, 100);
        assert_eq!(fresh.retry_after_secs, 60);
        assert_eq!(limiter.tracked_keys(), 0, "a refusal does not even open a window");
        limiter.check("k", 1, at(10.0));
        let later = limiter.check("k", 500, at(20.0));
        assert!(!later.allowed);
        assert_eq!((later.remaining, later.retry_after_secs), (99, 50));
    }

    #[test]
    fn keys_are_counted_separately() {
        let limiter = limiter(2);
        assert!(limiter.check("a", 2, at(0.0)).allowed);
        assert!(!limiter.check("a", 1, at(1.0)).allowed);
        let other = limiter.check("b", 1, at(30.0));
        assert!(other.allowed);
        assert_eq!(other.remaining, 1);
        assert_eq!(
            other.reset_unix_secs, 1_700_000_091,
            "each key's window starts at its own first request"
        );
    }

    #[test]
    fn a_clock_stepping_back_starts_a_fresh_window() {
        let limiter = limiter(1);
        assert!(limiter.check("k", 1, at(100.0)).allowed);
        let earlier = limiter.check("k", 1, at(40.0));
        assert!(earlier.allowed, "not locked out for as long as the clock jumped");
        assert_eq!(earlier.reset_unix_secs, 1_700_000_101);
    }

    #[test]
    fn expired_windows_are_swept_opportunistically() {
        let limiter = RateLimiter::with_sweep_every(NonZeroU32::MIN, 1);
        for i in 0..100 {
            limiter.check(&format!("old-{i}"), 1, at(0.0));
        }
        assert_eq!(limiter.tracked_keys(), 100);
        for i in 0..1000 {
            limiter.check(&format!("new-{i}"), 1, at(61.0));
        }
        assert_eq!(limiter.tracked_keys(), 1000, "every shard swept its expired windows");
    }

    #[test]
    fn memory_stays_within_the_documented_bound() {
        let limiter = limiter(5);
        // 100 new keys a second for 20 minutes: about 6,000 are live at any time.
        for i in 0..120_000_u32 {
            limiter.check(&i.to_string(), 1, at(f64::from(i) / 100.0));
        }
        let bound = 6_000 + SHARDS * (SWEEP_EVERY as usize - 1);
        assert!(limiter.tracked_keys() <= bound, "{} > {bound}", limiter.tracked_keys());
    }

    #[test]
    fn the_tightest_decision_is_refused_first_then_has_least_left() {
        let decision = |allowed, remaining, reset| RateDecision {
            allowed,
            limit: 100,
            remaining,
            reset_unix_secs: reset,
            retry_after_secs: 0,
        };
        let loose = decision(true, 50, 10);
        let tight = decision(true, 5, 10);
        let refused = decision(false, 80, 10);
        assert_eq!(RateDecision::tightest([loose, tight]), Some(tight));
        assert_eq!(RateDecision::tightest([tight, loose]), Some(tight));
        assert_eq!(RateDecision::tightest([loose, refused, tight]), Some(refused));
        assert_eq!(
            RateDecision::tightest([decision(true, 5, 20), tight]),
            Some(decision(true, 5, 20))
        );
        assert_eq!(RateDecision::tightest([]), None);
    }

    #[test]
    fn concurrent_checks_never_overspend() {
        let limiter = limiter(1000);
        let allowed = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..500 {
                        if limiter.check("shared", 1, at(1.0)).allowed {
                            allowed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(allowed.into_inner(), 1000);
    }
}
