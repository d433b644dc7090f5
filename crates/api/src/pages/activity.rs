//! A session's course condensed by time since its start: slices of equal length, each saying what happened in
//! it (prompts, commands and failures, file changes, test outcomes, decisions), with quiet stretches folded into
//! one row. The compare page lays two sessions side by side on the same slices; the printable report shows one.
//!
//! Read from the outline (`traceline_storage::outline`: id, kind, time and marks of every event, no data), so a
//! session of 100,000 events is condensed in one cheap pass.

use chrono::{DateTime, Utc};
use traceline_domain::metrics::EventSet;
use traceline_storage::outline::OutlineEvent;

use super::format;

/// Slices a condensed timeline has at most; their length is the first of [`SLICE_MINUTES`] that keeps to it.
const MAX_SLICES: i64 = 40;
/// Slice lengths people read easily, in minutes.
const SLICE_MINUTES: [i64; 12] = [1, 2, 5, 10, 15, 20, 30, 60, 120, 240, 480, 1440];

/// What one session did in one slice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Activity {
    pub(crate) events: usize,
    prompts: usize,
    commands: usize,
    failed_commands: usize,
    changes: usize,
    tests_passed: usize,
    tests_failed: usize,
    decisions: usize,
    /// Events of none of the kinds above (tool results, checkpoints, AI responses, …).
    other: usize,
    /// The first event of the slice, where its link leads.
    pub(crate) first: Option<String>,
}

impl Activity {
    fn add(&mut self, event: &OutlineEvent) {
        let has = |set| event.marks.contains(set);
        self.events += 1;
        self.prompts += usize::from(has(EventSet::Prompts));
        self.commands += usize::from(has(EventSet::Commands));
        self.failed_commands += usize::from(has(EventSet::FailedCommands));
        self.changes += usize::from(has(EventSet::FileChanges));
        let test = has(EventSet::TestEvidence);
        self.tests_failed += usize::from(test && has(EventSet::Failures));
        self.tests_passed += usize::from(test && !has(EventSet::Failures));
        self.decisions += usize::from(has(EventSet::Decisions));
        let named =
            [EventSet::Prompts, EventSet::Commands, EventSet::FileChanges, EventSet::Decisions];
        self.other += usize::from(!test && !named.into_iter().any(has));
        if self.first.is_none() {
            self.first = Some(event.id.clone());
        }
    }

    /// What happened, as short phrases, each with a class for its colour: `("bad", "2 tests failed")`.
    pub(crate) fn phrases(&self) -> Vec<(&'static str, String)> {
        let mut phrases = Vec::new();
        let mut push = |class, count: usize, one: &str, many: &str| {
            if count > 0 {
                phrases.push((class, format!("{count} {}", if count == 1 { one } else { many })));
            }
        };
        push("", self.prompts, "prompt", "prompts");
        push("", self.commands, "command", "commands");
        push("bad", self.failed_commands, "failed", "failed");
        push("", self.changes, "file change", "file changes");
        push("ok", self.tests_passed, "passing test result", "passing test results");
        push("bad", self.tests_failed, "failing test result", "failing test results");
        push("warn", self.decisions, "decision", "decisions");
        push("muted", self.other, "other event", "other events");
        phrases
    }
}

/// One row of a condensed timeline: a stretch of time since the start, and what each session did in it.
pub(crate) struct ActivityRow {
    /// `+00:10`.
    pub(crate) from: String,
    /// `+00:15`.
    pub(crate) to: String,
    /// Nothing happened in any session during the whole row (several quiet slices folded into one).
    pub(crate) quiet: bool,
    pub(crate) cells: Vec<Activity>,
}

/// The slice length for sessions lasting up to `longest_ms`.
pub(crate) fn slice_ms(longest_ms: i64) -> i64 {
    let minutes = SLICE_MINUTES
        .into_iter()
        .find(|minutes| longest_ms / (minutes * 60_000) < MAX_SLICES)
        .unwrap_or(SLICE_MINUTES[SLICE_MINUTES.len() - 1]);
    minutes * 60_000
}

/// The rows of `sessions` (each its outline and start), aligned on time since each one's start.
pub(crate) fn rows(sessions: &[(&[OutlineEvent], DateTime<Utc>)]) -> Vec<ActivityRow> {
    let since_start =
        |event: &OutlineEvent, start: DateTime<Utc>| (event.ts - start).num_milliseconds().max(0);
    let longest = sessions
        .iter()
        .filter_map(|(events, start)| events.last().map(|event| since_start(event, *start)))
        .max()
        .unwrap_or(0);
    let width = slice_ms(longest);
    let slices = usize::try_from(longest / width + 1).unwrap_or(1);
    let mut grid = vec![vec![Activity::default(); sessions.len()]; slices];
    for (column, (events, start)) in sessions.iter().enumerate() {
        for event in *events {
            let slice = usize::try_from(since_start(event, *start) / width).unwrap_or(0);
            grid[slice.min(slices - 1)][column].add(event);
        }
    }
    let bound = |slice: usize| format::offset(i64::try_from(slice).unwrap_or(0) * width);
    let mut rows: Vec<ActivityRow> = Vec::new();
    for (slice, cells) in grid.into_iter().enumerate() {
        let quiet = cells.iter().all(|cell| cell.events == 0);
        match rows.last_mut() {
            // Quiet slices in a row fold into one.
            Some(previous) if quiet && previous.quiet => previous.to = bound(slice + 1),
            _ => rows.push(ActivityRow { from: bound(slice), to: bound(slice + 1), quiet, cells }),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use traceline_domain::metrics::{EventMarks, EventSet};
    use traceline_domain::EventKind;

    use super::*;

    fn event(id: &str, minute: i64, sets: &[EventSet]) -> OutlineEvent {
        let start = DateTime::parse_from_rfc3339("2026-04-01T10:00:00Z").unwrap().to_utc();
        let bits = sets.iter().fold(0, |bits, set| bits | set.bit());
        OutlineEvent {
            id: id.to_owned(),
            kind: EventKind::from_static("note"),
            ts: start + Duration::minutes(minute),
            marks: EventMarks::from_bits(bits),
        }
    }

    #[test]
    fn two_sessions_share_the_slices_and_quiet_stretches_fold() {
        let start = DateTime::parse_from_rfc3339("2026-04-01T10:00:00Z").unwrap().to_utc();
        let a = [
            event("a1", 0, &[EventSet::Prompts]),
            event("a2", 1, &[EventSet::Commands, EventSet::FailedCommands, EventSet::Failures]),
            event("a3", 30, &[EventSet::FileChanges]),
        ];
        let b = [event("b1", 0, &[EventSet::Decisions]), event("b2", 3, &[EventSet::TestEvidence])];
        let rows = rows(&[(&a, start), (&b, start)]);
        // 30 minutes: 1-minute slices; minute 2 is quiet in both, and minutes 4..29 fold into one row.
        assert_eq!(rows[0].from, "+00:00");
        assert_eq!(rows[0].cells[0].first.as_deref(), Some("a1"));
        let phrases = |row: &ActivityRow, column: usize| rows_text(&row.cells[column]);
        assert_eq!(phrases(&rows[1], 0), ["1 command", "1 failed"]);
        assert_eq!(phrases(&rows[3], 1), ["1 passing test result"]);
        let quiet: Vec<(&str, &str)> = rows
            .iter()
            .filter(|row| row.quiet)
            .map(|row| (row.from.as_str(), row.to.as_str()))
            .collect();
        assert_eq!(quiet, [("+02:00", "+03:00"), ("+04:00", "+30:00")]);
        assert_eq!(phrases(rows.last().unwrap(), 0), ["1 file change"]);
    }

    fn rows_text(activity: &Activity) -> Vec<String> {
        activity.phrases().into_iter().map(|(_, text)| text).collect()
    }

    #[test]
    fn slices_stay_few_however_long_the_session() {
        assert_eq!(slice_ms(0), 60_000);
        assert_eq!(slice_ms(39 * 60_000), 60_000);
        assert_eq!(slice_ms(3 * 3_600_000), 5 * 60_000);
        assert!(30 * 86_400_000 / slice_ms(30 * 86_400_000) <= 40);
    }
}
