//! The per-session aggregate columns, as one struct that ingest reads and writes back and that metrics, cohorts
//! and session objects are read from (spec §6): a new aggregate is a field here, in `schema.rs`, in a migration
//! pair, and in the domain's `SessionTotals`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use traceline_domain::metrics::{SessionTotals, TestEvidence};

use crate::rows::{from_stored_time, to_stored_time};
use crate::schema::sessions;

/// The aggregates of a session's events, column for column. Span columns (`started_at`, `last_activity_at`)
/// are not here: they also serve sessions without events, and `started_at` is written only when it moves.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = sessions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
pub(crate) struct Aggregates {
    event_count: i64,
    decision_flag_count: i64,
    prompt_count: i64,
    command_count: i64,
    command_exit_count: i64,
    command_fail_count: i64,
    verify_count: i64,
    file_change_count: i64,
    manual_edit_count: i64,
    first_change_at: Option<NaiveDateTime>,
    ai_weight_halves: i64,
    ai_attributed_size: i64,
    last_test_at: Option<NaiveDateTime>,
    last_test_seq: Option<i64>,
    last_test_passed: Option<bool>,
}

impl Aggregates {
    /// The aggregates as the domain folds events into them. While a session has no events, its start and last
    /// activity are its creation time, not event times, so the totals know of no event time yet.
    pub(crate) fn totals(
        &self,
        started_at: NaiveDateTime,
        last_activity_at: NaiveDateTime,
    ) -> SessionTotals {
        let has_events = self.event_count > 0;
        SessionTotals {
            event_count: self.event_count,
            decision_flag_count: self.decision_flag_count,
            prompt_count: self.prompt_count,
            command_count: self.command_count,
            command_exit_count: self.command_exit_count,
            command_fail_count: self.command_fail_count,
            verify_count: self.verify_count,
            file_change_count: self.file_change_count,
            manual_edit_count: self.manual_edit_count,
            first_change_at: self.first_change_at.map(from_stored_time),
            ai_weight_halves: self.ai_weight_halves,
            ai_attributed_size: self.ai_attributed_size,
            last_test: match (self.last_test_at, self.last_test_seq, self.last_test_passed) {
                (Some(at), Some(seq), Some(passed)) => {
                    Some(TestEvidence { at: from_stored_time(at), seq, passed })
                }
                _ => None,
            },
            first_event_at: has_events.then(|| from_stored_time(started_at)),
            last_event_at: has_events.then(|| from_stored_time(last_activity_at)),
        }
    }

    /// The columns that store `totals`.
    pub(crate) fn from_totals(totals: &SessionTotals) -> Self {
        let last_test = totals.last_test.as_ref();
        Aggregates {
            event_count: totals.event_count,
            decision_flag_count: totals.decision_flag_count,
            prompt_count: totals.prompt_count,
            command_count: totals.command_count,
            command_exit_count: totals.command_exit_count,
            command_fail_count: totals.command_fail_count,
            verify_count: totals.verify_count,
            file_change_count: totals.file_change_count,
            manual_edit_count: totals.manual_edit_count,
            first_change_at: totals.first_change_at.map(to_stored_time),
            ai_weight_halves: totals.ai_weight_halves,
            ai_attributed_size: totals.ai_attributed_size,
            last_test_at: last_test.map(|test| to_stored_time(test.at)),
            last_test_seq: last_test.map(|test| test.seq),
            last_test_passed: last_test.map(|test| test.passed),
        }
    }

    /// How many events the session holds.
    pub(crate) fn event_count(&self) -> i64 {
        self.event_count
    }

    /// The sequence number of the last test evidence, whose event the test-results artifact reads.
    pub(crate) fn last_test_seq(&self) -> Option<i64> {
        self.last_test_seq
    }
}
