//! What the load sends: small realistic ingest envelopes, written straight into request bodies.

use std::fmt::Write as _;

use crate::rng::Rng;

/// The day every generated event happens on; the time of day varies.
const DAY: &str = "2026-04-01";

/// Milliseconds in a day: generated times of day stay below it.
pub const MS_PER_DAY: u32 = 86_400_000;

/// Appends `"2026-04-01THH:MM:SS.mmmZ"`'s inside (no quotes) for a time of day in milliseconds.
pub fn push_timestamp(out: &mut String, ms_of_day: u32) {
    let ms = ms_of_day % MS_PER_DAY;
    let (hours, minutes) = (ms / 3_600_000, ms / 60_000 % 60);
    let (seconds, millis) = (ms / 1000 % 60, ms % 1000);
    _ = write!(out, "{DAY}T{hours:02}:{minutes:02}:{seconds:02}.{millis:03}Z");
}

/// Appends an envelope up to its `data` value: `{"id":…,"v":1,"data":`. The caller appends the data object
/// and the closing `}`.
pub fn push_event_head(
    out: &mut String,
    id: &str,
    session_id: &str,
    ms_of_day: u32,
    kind: &str,
    actor: &str,
    attribution: &str,
) {
    _ = write!(out, r#"{{"id":"{id}","sessionId":"{session_id}","ts":""#);
    push_timestamp(out, ms_of_day);
    _ = write!(
        out,
        r#"","kind":"{kind}","source":{{"channel":"hook","integration":"claude-code"}},"actor":{{"type":"{actor}"}},"provenance":{{"attribution":"{attribution}"}},"v":1,"data":"#
    );
}

/// Appends one envelope: a `command`, `file_diff`, `prompt` or `test_run` event with small, varied `data`,
/// as a hook would send it.
pub fn push_envelope(out: &mut String, rng: &mut Rng, id: &str, session_id: &str, ms_of_day: u32) {
    let kind = match rng.below(20) {
        0..=5 => "command",
        6..=11 => "file_diff",
        12..=16 => "prompt",
        _ => "test_run",
    };
    push_event_head(out, id, session_id, ms_of_day, kind, "ai", "likely_ai");
    push_data(out, rng, kind);
    out.push('}');
}

/// Appends a small, varied `data` object for a `command`, `file_diff`, `prompt` or (any other kind)
/// `test_run` event.
pub fn push_data(out: &mut String, rng: &mut Rng, kind: &str) {
    let n = rng.below(1000);
    _ = match kind {
        "command" => write!(
            out,
            r#"{{"command":"cargo test -p traceline_api -- case_{n}","exitCode":{},"durationMs":{}}}"#,
            u32::from(n.is_multiple_of(7)),
            200 + n * 13
        ),
        "file_diff" => write!(
            out,
            r#"{{"path":"crates/api/src/routes/module_{}.rs","linesAdded":{},"linesRemoved":{}}}"#,
            n % 40,
            n % 60,
            n % 25
        ),
        "prompt" => write!(
            out,
            r#"{{"text":"Refactor the session store so paging stays keyset-based; keep case {n} passing."}}"#
        ),
        _ => write!(
            out,
            r#"{{"suite":"api","passed":{},"failed":{},"skipped":{},"durationMs":{}}}"#,
            100 + n % 50,
            n % 3,
            n % 5,
            1500 + n * 7
        ),
    };
}

#[cfg(test)]
mod tests {
    use super::{push_envelope, push_timestamp};
    use crate::rng::{push_uuid, Rng};

    fn is_uuid_text(text: &str) -> bool {
        let groups: Vec<&str> = text.split('-').collect();
        groups.iter().map(|group| group.len()).eq([8, 4, 4, 4, 12])
            && groups
                .iter()
                .all(|group| group.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
    }

    #[test]
    fn uuid_layout_and_version_bits() {
        let mut out = String::new();
        push_uuid(&mut out, 0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210);
        assert_eq!(out, "01234567-89ab-4def-bedc-ba9876543210");
        out.clear();
        push_uuid(&mut out, 0, 0);
        assert_eq!(out, "00000000-0000-4000-8000-000000000000");
        out.clear();
        push_uuid(&mut out, u64::MAX, u64::MAX);
        assert_eq!(out, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }

    #[test]
    fn random_uuids_are_well_formed_and_distinct() {
        let mut rng = Rng::new(7);
        let ids: Vec<String> = (0..1000).map(|_| rng.uuid()).collect();
        assert!(ids.iter().all(|id| is_uuid_text(id) && id.as_bytes()[14] == b'4'), "{ids:?}");
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Rng::new(1);
        assert!((0..10_000).map(|_| rng.below(20)).all(|n| n < 20));
    }

    #[test]
    fn timestamps_are_rfc3339_with_millis() {
        let mut out = String::new();
        push_timestamp(&mut out, 10 * 3_600_000 + 15 * 60_000 + 123);
        assert_eq!(out, "2026-04-01T10:15:00.123Z");
        out.clear();
        push_timestamp(&mut out, super::MS_PER_DAY - 1);
        assert_eq!(out, "2026-04-01T23:59:59.999Z");
    }

    #[test]
    fn envelopes_carry_the_given_id_and_session() {
        let mut rng = Rng::new(3);
        for _ in 0..50 {
            let mut out = String::new();
            push_envelope(&mut out, &mut rng, "id-1", "bench-0-1", 1);
            assert!(out.starts_with(
                r#"{"id":"id-1","sessionId":"bench-0-1","ts":"2026-04-01T00:00:00.001Z""#
            ));
            assert!(out.ends_with("}}"), "{out}");
            assert_eq!(out.matches('{').count(), out.matches('}').count(), "{out}");
        }
    }
}
