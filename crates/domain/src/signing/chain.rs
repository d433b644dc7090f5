//! The chain of a signed session (spec §10.2): which events form the one line from `prevSig: ""`, whether the
//! session's record is intact, and, when it is not, why.
//!
//! The chain is grown only at its tip. An event joins it when its `prevSig` names the tip's `sig` (or is `""`
//! while the chain is empty), and the tip moves to it. Events may arrive in any order: one whose predecessor has
//! not arrived waits outside the chain and joins when the predecessor does. So the joined events are always one
//! unbroken line, positions `1..=chained`, and three counters decide the status without reading the timeline:
//! the record is intact when every event is verified and every event is on the line. A second event naming the
//! same predecessor (a fork), a second start, or an event whose predecessor never arrives stays outside.

use serde::Serialize;

/// Whether a session's record can be trusted as signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ChainStatus {
    /// Every event is signed, verifies, and lies on one line from `""`.
    Intact,
    /// The session has a key, and some event is unsigned, does not verify, or is off the line.
    Broken,
    /// The session has no signing key.
    Unsigned,
}

/// The counters ingest keeps per session, from which [`ChainStatus::of`] decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChainCounts {
    /// Events that carry a `sig`.
    pub signed: i64,
    /// Events whose `sig` verifies against the session's key.
    pub verified: i64,
    /// Events on the line from `""` (positions `1..=chained`).
    pub chained: i64,
}

impl ChainStatus {
    /// The status of a session with `event_count` events and these counters; `has_key` when it has a signing key.
    pub fn of(has_key: bool, event_count: i64, counts: &ChainCounts) -> Self {
        if !has_key {
            ChainStatus::Unsigned
        } else if counts.verified == event_count && counts.chained == event_count {
            ChainStatus::Intact
        } else {
            ChainStatus::Broken
        }
    }

    /// The status as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChainStatus::Intact => "intact",
            ChainStatus::Broken => "broken",
            ChainStatus::Unsigned => "unsigned",
        }
    }
}

/// The last event of the chain: the one the next event must name as its previous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTip {
    /// Its position (the first event is 1).
    pub position: i64,
    /// Its `sig`, in lower case.
    pub sig: String,
}

impl ChainTip {
    /// Whether an event with this (lower-case) `prevSig` comes next after `tip` (`None`: the chain is empty, and
    /// only a first event, `prevSig: ""`, starts it).
    pub fn is_followed_by(tip: Option<&ChainTip>, prev_sig: &str) -> bool {
        match tip {
            None => prev_sig.is_empty(),
            Some(tip) => tip.sig == prev_sig,
        }
    }

    /// The tip after `sig` joined the chain behind `tip`.
    pub fn after(tip: Option<&ChainTip>, sig: &str) -> ChainTip {
        ChainTip { position: tip.map_or(1, |tip| tip.position + 1), sig: sig.to_owned() }
    }
}

/// Why the chain broke at an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakReason {
    /// The event carries no `sig`.
    Unsigned,
    /// Its `sig` does not verify against the session's key: the event was changed after signing, or signed with
    /// another key.
    BadSignature,
    /// Its `prevSig` is `""`, but the chain had already started.
    SecondStart,
    /// Its `prevSig` names an event that another event already follows.
    Fork,
    /// Its `prevSig` names no event of the session.
    MissingPrevious,
}

impl BreakReason {
    /// Why the chain broke, for `chain.reason` and `traceline verify`.
    pub fn describe(self) -> &'static str {
        match self {
            BreakReason::Unsigned => "the event is not signed",
            BreakReason::BadSignature => "the signature does not verify against the session's key",
            BreakReason::SecondStart => "a second chain starts at this event",
            BreakReason::Fork => {
                "another event already follows the event this one names as previous"
            }
            BreakReason::MissingPrevious => "the event this one names as previous is missing",
        }
    }

    /// Why the chain breaks at the first event that is either not verified or not on the line. `previous_exists`
    /// says whether some event of the session has the `sig` this one names as previous.
    pub fn of(
        sig: Option<&str>,
        verified: bool,
        prev_sig: Option<&str>,
        previous_exists: bool,
    ) -> Self {
        match (sig, verified, prev_sig) {
            (None, _, _) => BreakReason::Unsigned,
            (Some(_), false, _) | (Some(_), true, None) => BreakReason::BadSignature,
            (Some(_), true, Some("")) => BreakReason::SecondStart,
            (Some(_), true, Some(_)) if previous_exists => BreakReason::Fork,
            (Some(_), true, Some(_)) => BreakReason::MissingPrevious,
        }
    }
}

/// The `chain` object of the signed log: the whole session's status, counts, and where and why it broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChainSummary {
    /// `intact`, `broken` or `unsigned`.
    pub status: ChainStatus,
    /// Events that carry a `sig`.
    pub signed_count: i64,
    /// Events whose `sig` verifies against the session's key (0 without a key).
    pub verified_count: i64,
    /// Events of the session.
    pub event_count: i64,
    /// The first event, in the log's order, where the chain breaks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<String>,
    /// Why it breaks there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intact_needs_every_event_verified_and_on_the_line() {
        let counts = |signed, verified, chained| ChainCounts { signed, verified, chained };
        assert_eq!(ChainStatus::of(false, 3, &counts(3, 0, 0)), ChainStatus::Unsigned);
        assert_eq!(ChainStatus::of(true, 0, &counts(0, 0, 0)), ChainStatus::Intact);
        assert_eq!(ChainStatus::of(true, 3, &counts(3, 3, 3)), ChainStatus::Intact);
        assert_eq!(ChainStatus::of(true, 3, &counts(3, 2, 3)), ChainStatus::Broken);
        assert_eq!(ChainStatus::of(true, 3, &counts(3, 3, 2)), ChainStatus::Broken);
        assert_eq!(ChainStatus::of(true, 4, &counts(3, 3, 3)), ChainStatus::Broken);
    }

    #[test]
    fn the_chain_grows_only_at_its_tip() {
        assert!(ChainTip::is_followed_by(None, ""));
        assert!(!ChainTip::is_followed_by(None, "ab"));
        let first = ChainTip::after(None, "ab");
        assert_eq!(first, ChainTip { position: 1, sig: "ab".into() });
        assert!(ChainTip::is_followed_by(Some(&first), "ab"));
        assert!(!ChainTip::is_followed_by(Some(&first), ""));
        assert_eq!(ChainTip::after(Some(&first), "cd").position, 2);
    }

    #[test]
    fn the_reason_names_the_first_thing_wrong() {
        assert_eq!(BreakReason::of(None, false, Some(""), false), BreakReason::Unsigned);
        assert_eq!(BreakReason::of(Some("a"), false, Some(""), true), BreakReason::BadSignature);
        assert_eq!(BreakReason::of(Some("a"), true, Some(""), false), BreakReason::SecondStart);
        assert_eq!(BreakReason::of(Some("a"), true, Some("b"), true), BreakReason::Fork);
        assert_eq!(
            BreakReason::of(Some("a"), true, Some("b"), false),
            BreakReason::MissingPrevious
        );
    }
}
