//! Per-session aggregates, folded in one event at a time on ingest, from which the spec §6 metrics are read.
//!
//! Every field is a count, a sum, a minimum, a maximum, or the latest `(ts, seq)` test evidence, so the totals
//! come out the same whatever order the events arrive in: a client may send yesterday's events after today's.
//! Sums of client-given sizes saturate instead of overflowing; they are sums of non-negative numbers, so a
//! saturated sum is still independent of the order.

use chrono::{DateTime, Utc};

use super::event_set::{EventFacts, EventSet};
use crate::event::Envelope;

/// One piece of test evidence: a `test_run`, or a `command` that runs tests and carries an `exitCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestEvidence {
    /// The event's `ts`.
    pub at: DateTime<Utc>,
    /// The event's insertion sequence, which orders events with the same `ts` as the timeline does.
    pub seq: i64,
    /// Whether the tests passed: no failures for a `test_run`, exit code 0 for a command.
    pub passed: bool,
}

/// The aggregates of one session's events, kept in the sessions table and updated on every ingest, so reading
/// the metrics never scans the timeline.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionTotals {
    /// Events of any kind.
    pub event_count: i64,
    /// `decision_event`s.
    pub decision_flag_count: i64,
    /// `prompt` events.
    pub prompt_count: i64,
    /// `command` events.
    pub command_count: i64,
    /// `command` events carrying an integer `exitCode`.
    pub command_exit_count: i64,
    /// `command` events whose `exitCode` is not 0.
    pub command_fail_count: i64,
    /// Verification actions: verification commands, and `test_run` / `build_run` events that name no command.
    pub verify_count: i64,
    /// File changes: `file_diff` and `file_create` events.
    pub file_change_count: i64,
    /// File changes made by a person (`likely_human`, `ai_revised_by_human`, or `unknown` with a human actor).
    pub manual_edit_count: i64,
    /// The earliest `ts` of a file change.
    pub first_change_at: Option<DateTime<Utc>>,
    /// Σ 2 × weight × size over attributed file changes; doubled so that the weights ½ stay integers.
    pub ai_weight_halves: i64,
    /// Σ size over attributed file changes.
    pub ai_attributed_size: i64,
    /// The last test evidence in timeline order (`ts`, then `seq`).
    pub last_test: Option<TestEvidence>,
    /// The earliest event `ts`.
    pub first_event_at: Option<DateTime<Utc>>,
    /// The latest event `ts`.
    pub last_event_at: Option<DateTime<Utc>>,
}

impl SessionTotals {
    /// Folds one newly stored event in; `seq` is its insertion sequence (ties on ts are broken by seq).
    ///
    /// The event's sets ([`EventFacts::marks`]) decide what it counts towards, the same marks the timeline is
    /// filtered by. Kinds the metrics do not read only count towards `event_count` and the first and last `ts`.
    pub fn record(&mut self, event: &Envelope, seq: i64) {
        let facts = EventFacts::of(event);
        let marks = facts.marks();
        let count = |set: EventSet| i64::from(marks.contains(set));
        self.event_count += 1;
        self.first_event_at = Some(self.first_event_at.map_or(event.ts, |at| at.min(event.ts)));
        self.last_event_at = Some(self.last_event_at.map_or(event.ts, |at| at.max(event.ts)));
        self.prompt_count += count(EventSet::Prompts);
        self.decision_flag_count += count(EventSet::Decisions);
        self.command_count += count(EventSet::Commands);
        self.command_exit_count += i64::from(facts.exit_code().is_some());
        self.command_fail_count += count(EventSet::FailedCommands);
        self.verify_count += count(EventSet::Verifications);
        self.file_change_count += count(EventSet::FileChanges);
        self.manual_edit_count += count(EventSet::ManualEdits);
        if marks.contains(EventSet::FileChanges) {
            self.first_change_at =
                Some(self.first_change_at.map_or(event.ts, |at| at.min(event.ts)));
        }
        if let (true, Some(weight_halves)) =
            (marks.contains(EventSet::AttributedChanges), facts.ai_weight_halves())
        {
            let size = facts.change_size();
            self.ai_weight_halves =
                self.ai_weight_halves.saturating_add(weight_halves.saturating_mul(size));
            self.ai_attributed_size = self.ai_attributed_size.saturating_add(size);
        }
        if let Some(passed) = facts.test_outcome() {
            let later = self.last_test.is_none_or(|last| (event.ts, seq) > (last.at, last.seq));
            if later {
                self.last_test = Some(TestEvidence { at: event.ts, seq, passed });
            }
        }
    }
}
