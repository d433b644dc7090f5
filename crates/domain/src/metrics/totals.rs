//! Per-session aggregates, folded in one event at a time on ingest, from which the spec §6 metrics are read.
//!
//! Every field is a count, a sum, a minimum, a maximum, or the latest `(ts, seq)` test evidence, so the totals
//! come out the same whatever order the events arrive in: a client may send yesterday's events after today's.
//! Sums of client-given sizes saturate instead of overflowing; they are sums of non-negative numbers, so a
//! saturated sum is still independent of the order.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::command::classify_command;
use crate::event::{ActorType, Attribution, Envelope, EventKind};
use crate::json::as_integer;

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
    /// Kinds the metrics do not read only count towards `event_count` and the first and last `ts`.
    pub fn record(&mut self, event: &Envelope, seq: i64) {
        self.event_count += 1;
        self.first_event_at = Some(self.first_event_at.map_or(event.ts, |at| at.min(event.ts)));
        self.last_event_at = Some(self.last_event_at.map_or(event.ts, |at| at.max(event.ts)));
        let kind = &event.kind;
        if *kind == EventKind::PROMPT {
            self.prompt_count += 1;
        } else if *kind == EventKind::DECISION_EVENT {
            self.decision_flag_count += 1;
        } else if *kind == EventKind::COMMAND {
            self.record_command(event, seq);
        } else if *kind == EventKind::TEST_RUN || *kind == EventKind::BUILD_RUN {
            // A run that names its command is the same action as that `command` event, already counted.
            if !names_a_command(event) {
                self.verify_count += 1;
            }
            if *kind == EventKind::TEST_RUN {
                // A run that reports no `failed` count reported no failure.
                let failed = event.data.get("failed").and_then(as_integer).unwrap_or(0);
                self.record_test(event, seq, failed == 0);
            }
        } else if kind.is_file_change() {
            self.record_file_change(event);
        }
    }

    fn record_command(&mut self, event: &Envelope, seq: i64) {
        self.command_count += 1;
        let exit_code = event.data.get("exitCode").and_then(as_integer);
        if let Some(exit_code) = exit_code {
            self.command_exit_count += 1;
            if exit_code != 0 {
                self.command_fail_count += 1;
            }
        }
        let line = event.data.get("command").and_then(Value::as_str).unwrap_or_default();
        let class = classify_command(line);
        if class.is_verification {
            self.verify_count += 1;
        }
        if let (true, Some(exit_code)) = (class.runs_tests, exit_code) {
            self.record_test(event, seq, exit_code == 0);
        }
    }

    fn record_test(&mut self, event: &Envelope, seq: i64, passed: bool) {
        let later = self.last_test.is_none_or(|last| (event.ts, seq) > (last.at, last.seq));
        if later {
            self.last_test = Some(TestEvidence { at: event.ts, seq, passed });
        }
    }

    fn record_file_change(&mut self, event: &Envelope) {
        self.file_change_count += 1;
        self.first_change_at = Some(self.first_change_at.map_or(event.ts, |at| at.min(event.ts)));
        let attribution = event.provenance.attribution;
        let by_a_person = match attribution {
            Attribution::LikelyHuman | Attribution::AiRevisedByHuman => true,
            Attribution::Unknown => event.actor.kind == ActorType::Human,
            Attribution::LikelyAi | Attribution::Mixed | Attribution::SystemGenerated => false,
        };
        if by_a_person {
            self.manual_edit_count += 1;
        }
        if let Some(weight_halves) = weight_halves(attribution, event.actor.kind) {
            let size = change_size(event);
            self.ai_weight_halves =
                self.ai_weight_halves.saturating_add(weight_halves.saturating_mul(size));
            self.ai_attributed_size = self.ai_attributed_size.saturating_add(size);
        }
    }
}

/// Twice a file change's AI weight, or `None` when its author is not known (or it was generated by a tool).
fn weight_halves(attribution: Attribution, actor: ActorType) -> Option<i64> {
    match attribution {
        Attribution::LikelyAi => Some(2),
        Attribution::AiRevisedByHuman | Attribution::Mixed => Some(1),
        Attribution::LikelyHuman => Some(0),
        Attribution::SystemGenerated => None,
        Attribution::Unknown => match actor {
            ActorType::Ai => Some(2),
            ActorType::Human => Some(0),
            ActorType::System | ActorType::Unknown => None,
        },
    }
}

/// `linesAdded + linesRemoved`, or 1 when that is 0, so that a change of unknown size still weighs something.
fn change_size(event: &Envelope) -> i64 {
    let lines = |key: &str| event.data.get(key).and_then(as_integer).unwrap_or(0).max(0);
    lines("linesAdded").saturating_add(lines("linesRemoved")).max(1)
}

/// Whether a `test_run` / `build_run` says which command it came from (a non-blank `data.command`).
fn names_a_command(event: &Envelope) -> bool {
    event.data.get("command").and_then(Value::as_str).is_some_and(|line| !line.trim().is_empty())
}
