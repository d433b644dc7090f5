//! Failed credential checks per client address (spec §10.3): after 20 failures in 10 minutes an address is
//! refused 429 on the routes that check credentials, whatever credential it then presents, until the window
//! that began at its first failure has passed. Failed sign-ins and refused API credentials (`crate::auth`,
//! redeem) count together. Only failures count, so a busy office behind one address is not locked out by its
//! own successful sign-ins. IPv6 addresses count per /64, the block one host usually holds.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, SystemTime};

use super::limiter::{RateDecision, RateLimiter};

/// Failures an address may have in one window.
pub const FAILURE_LIMIT: NonZeroU32 = NonZeroU32::MIN.saturating_add(19);
/// How long the window of an address's failures lasts, from its first failure.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// The failures of every client address, counted in memory.
#[derive(Debug)]
pub struct FailedAttempts {
    /// `None` when the limit is off.
    limiter: Option<RateLimiter>,
}

impl Default for FailedAttempts {
    fn default() -> Self {
        Self::new(FAILURE_LIMIT.get())
    }
}

impl FailedAttempts {
    /// Allows `limit` failures per address in each [`FAILURE_WINDOW`]; 0 turns the limit off (for load tests
    /// and fuzzers, which fail credentials by the hundred from one address).
    pub fn new(limit: u32) -> Self {
        let limiter =
            NonZeroU32::new(limit).map(|limit| RateLimiter::per_window(limit, FAILURE_WINDOW));
        Self { limiter }
    }

    /// The refusal for `address` when it has used up its failures, with `retry_after_secs` until its window
    /// ends; `None` while it may still try.
    pub fn refusal(&self, address: IpAddr, now: SystemTime) -> Option<RateDecision> {
        let decision = self.limiter.as_ref()?.peek(&address_group(address), 1, now);
        (!decision.allowed).then_some(decision)
    }

    /// Counts one failed check from `address`.
    pub fn record(&self, address: IpAddr, now: SystemTime) {
        if let Some(limiter) = &self.limiter {
            limiter.check(&address_group(address), 1, now);
        }
    }
}

/// The key an address is counted under: an IPv4 address itself (IPv4-mapped IPv6 included), an IPv6 address's
/// /64.
fn address_group(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", segments[0], segments[1], segments[2], segments[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seconds)
    }

    #[test]
    fn the_twenty_first_attempt_is_refused_until_the_window_passes() {
        let failures = FailedAttempts::default();
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        for n in 0..20 {
            assert_eq!(failures.refusal(client, at(n)), None, "attempt {}", n + 1);
            failures.record(client, at(n));
        }
        let refused = failures.refusal(client, at(30)).expect("the 21st is refused");
        assert_eq!(refused.retry_after_secs, 600 - 30);
        assert_eq!(failures.refusal("198.51.100.8".parse().unwrap(), at(30)), None);
        assert_eq!(failures.refusal(client, at(600)), None, "a new window");
    }

    #[test]
    fn a_limit_of_zero_refuses_nobody() {
        let failures = FailedAttempts::new(0);
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        for n in 0..100 {
            failures.record(client, at(n));
        }
        assert_eq!(failures.refusal(client, at(100)), None);
    }

    #[test]
    fn ipv6_addresses_count_per_slash_64() {
        let failures = FailedAttempts::default();
        for n in 0..20_u16 {
            let address = IpAddr::from([0x2001, 0xdb8, 1, 2, 0, 0, 0, n]);
            failures.record(address, at(0));
        }
        assert!(failures.refusal("2001:db8:1:2::ffff".parse().unwrap(), at(1)).is_some());
        assert_eq!(failures.refusal("2001:db8:1:3::1".parse().unwrap(), at(1)), None);
        assert_eq!(address_group("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1");
    }
}
