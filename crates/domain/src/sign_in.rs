//! Web sign-ins (spec §11): the random token a browser keeps in the `traceline_session` cookie, and how long a
//! sign-in lasts (12 hours without use, 7 days at most).

use chrono::{DateTime, Duration, Utc};

use crate::api_key::hash_secret;
use crate::random::{random_string, RandomFill, BASE62};

/// The cookie that carries the token.
pub const COOKIE_NAME: &str = "traceline_session";
/// Random characters of a token (base62: about 238 bits).
pub const TOKEN_CHARS: usize = 40;
/// A sign-in unused for this long has ended.
pub const IDLE_TIMEOUT: Duration = Duration::hours(12);
/// A sign-in ends this long after it began, however busy.
pub const MAX_AGE: Duration = Duration::days(7);
/// How stale `last_seen_at` may get before a request writes it again: the idle rule needs minutes, not
/// milliseconds, and a write per request would be a write per page view.
pub const TOUCH_AFTER: Duration = Duration::minutes(1);

/// A freshly generated sign-in token. Only its hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SignInToken(String);

impl SignInToken {
    /// Generates a token from `fill`'s random bytes.
    pub fn generate<E>(fill: RandomFill<'_, E>) -> Result<Self, E> {
        Ok(Self(random_string(BASE62, TOKEN_CHARS, fill)?))
    }

    /// The token, for the cookie.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The hash it is stored and looked up under.
    pub fn hash(&self) -> String {
        hash_secret(&self.0)
    }
}

impl std::fmt::Debug for SignInToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignInToken(…)")
    }
}

/// Whether a cookie value has the shape of a token (a cheap check before any lookup).
pub fn looks_like_sign_in_token(presented: &str) -> bool {
    presented.len() == TOKEN_CHARS && presented.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// When a sign-in began and when it was last used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInSpan {
    /// When the user signed in.
    pub created_at: DateTime<Utc>,
    /// When the cookie last authenticated a request (to within [`TOUCH_AFTER`]).
    pub last_seen_at: DateTime<Utc>,
}

impl SignInSpan {
    /// Whether the sign-in still authenticates at `now`.
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        now < self.last_seen_at + IDLE_TIMEOUT && now < self.created_at + MAX_AGE
    }

    /// Whether a request at `now` should record itself as the last use.
    pub fn needs_touch(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen_at >= TOUCH_AFTER
    }

    /// The cookie's lifetime in seconds from `now`: whichever of the two limits comes first.
    pub fn remaining_seconds(&self, now: DateTime<Utc>) -> i64 {
        let until = (self.last_seen_at + IDLE_TIMEOUT).min(self.created_at + MAX_AGE);
        (until - now).num_seconds().max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::hours(hours)
    }

    #[test]
    fn a_sign_in_ends_after_twelve_idle_hours_or_seven_days() {
        let fresh = SignInSpan { created_at: at(0), last_seen_at: at(0) };
        assert!(fresh.is_current(at(11)));
        assert!(!fresh.is_current(at(12)));
        let busy = SignInSpan { created_at: at(0), last_seen_at: at(7 * 24 - 1) };
        assert!(busy.is_current(at(7 * 24 - 1)));
        assert!(!busy.is_current(at(7 * 24)), "seven days at most, however busy");
        assert_eq!(fresh.remaining_seconds(at(2)), 10 * 3600);
        assert_eq!(busy.remaining_seconds(at(7 * 24 - 1)), 3600);
    }

    #[test]
    fn last_use_is_written_at_most_once_a_minute() {
        let span = SignInSpan { created_at: at(0), last_seen_at: at(0) };
        assert!(!span.needs_touch(at(0) + Duration::seconds(59)));
        assert!(span.needs_touch(at(0) + Duration::seconds(60)));
    }

    #[test]
    fn tokens_have_a_fixed_shape_and_are_never_printed() {
        let mut counter = 0u8;
        let token = SignInToken::generate(&mut |buf: &mut [u8]| {
            for byte in buf {
                counter = counter.wrapping_add(13);
                *byte = counter;
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!(looks_like_sign_in_token(token.expose()));
        assert!(!looks_like_sign_in_token("short"));
        assert!(!looks_like_sign_in_token(&format!("{}!", &token.expose()[1..])));
        assert!(!format!("{token:?}").contains(token.expose()));
        assert_eq!(token.hash().len(), 64);
    }
}
