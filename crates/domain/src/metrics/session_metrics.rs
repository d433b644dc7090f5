//! The per-session metrics of spec §6, read off a session's [`SessionTotals`] and its timestamps.
//!
//! Ratios are returned unrounded. The spec rounds only `aiAttributionPct` (one decimal) and the cohort figures
//! (§7); rounding a ratio here would make distinct values tie in the cohort percentiles (0.3334 against 0.3333
//! at three decimals), while equal ratios such as 1/3 and 2/6 already compare equal unrounded, because IEEE
//! division rounds both to the same double.

use chrono::{DateTime, Utc};

use super::totals::SessionTotals;
use crate::session::ai_attribution_pct;

/// `SessionMetrics` of spec §6, as `GET /v1/sessions/:id/metrics` returns them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionMetrics {
    /// `durationMs`: (`endedAt`, else `lastActivityAt`) − `startedAt`, never negative.
    pub duration_ms: i64,
    /// `promptCount`: `prompt` events.
    pub prompt_count: i64,
    /// `commandCount`: `command` events.
    pub command_count: i64,
    /// `commandFailRate`: commands with a non-zero `exitCode` ÷ commands carrying one; `None` when none does.
    pub command_fail_rate: Option<f64>,
    /// `verifyIntensity`: verification actions ÷ file changes (may exceed 1); `None` without file changes.
    pub verify_intensity: Option<f64>,
    /// `manualEditRatio`: file changes made by a person ÷ file changes; `None` without file changes.
    pub manual_edit_ratio: Option<f64>,
    /// `firstChangeLatencyMs`: first file change's `ts` − `startedAt`, never negative; `None` without changes.
    pub first_change_latency_ms: Option<i64>,
    /// `testsPassed`: the outcome of the last test evidence in timeline order; `None` without any.
    pub tests_passed: Option<bool>,
    /// `aiAttributionPct`: 0–100 with one decimal; `None` while no file change is attributed.
    pub ai_attribution_pct: Option<f64>,
    /// `fileChangeCount`: `file_diff` and `file_create` events.
    pub file_change_count: i64,
}

impl SessionTotals {
    /// The metrics of spec §6 given the session's timestamps.
    ///
    /// `started_at` is the session's earliest event `ts` (or its creation time); differences that would come
    /// out negative, which only a hand-set `endedAt` before the start can cause, are reported as 0.
    pub fn metrics(
        &self,
        started_at: DateTime<Utc>,
        ended_at: Option<DateTime<Utc>>,
        last_activity_at: DateTime<Utc>,
    ) -> SessionMetrics {
        let since_start = |at: DateTime<Utc>| (at - started_at).num_milliseconds().max(0);
        SessionMetrics {
            duration_ms: since_start(ended_at.unwrap_or(last_activity_at)),
            prompt_count: self.prompt_count,
            command_count: self.command_count,
            command_fail_rate: ratio(self.command_fail_count, self.command_exit_count),
            verify_intensity: ratio(self.verify_count, self.file_change_count),
            manual_edit_ratio: ratio(self.manual_edit_count, self.file_change_count),
            first_change_latency_ms: self.first_change_at.map(since_start),
            tests_passed: self.last_test.map(|evidence| evidence.passed),
            ai_attribution_pct: ai_attribution_pct(self.ai_weight_halves, self.ai_attributed_size),
            file_change_count: self.file_change_count,
        }
    }
}

/// `part ÷ whole`, or `None` when there is nothing to divide by.
fn ratio(part: i64, whole: i64) -> Option<f64> {
    // Counts stay far below 2^53, so both conversions are exact.
    (whole > 0).then(|| part as f64 / whole as f64)
}
