//! The per-session counters and metric aggregates as stored, and the metrics read from them (spec §6).
//!
//! Ingest folds each event into these columns in its transaction, so metrics, cohort statistics and the session
//! object never scan a timeline.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use traceline_domain::metrics::{SessionMetrics, SessionTotals, TestEvidence};
use traceline_domain::SessionId;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::from_stored_time;
use crate::schema::{candidate_keys, sessions};
use crate::scope::SessionScope;

/// The columns ingest reads and rewrites, and metrics are computed from.
#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct SessionState {
    pub(crate) id: String,
    pub(crate) org_id: String,
    pub(crate) candidate_key_id: Option<String>,
    pub(crate) ended_at: Option<NaiveDateTime>,
    pub(crate) event_count: i64,
    pub(crate) decision_flag_count: i64,
    pub(crate) prompt_count: i64,
    pub(crate) command_count: i64,
    pub(crate) command_exit_count: i64,
    pub(crate) command_fail_count: i64,
    pub(crate) verify_count: i64,
    pub(crate) file_change_count: i64,
    pub(crate) manual_edit_count: i64,
    pub(crate) first_change_at: Option<NaiveDateTime>,
    pub(crate) ai_weight_halves: i64,
    pub(crate) ai_attributed_size: i64,
    pub(crate) last_test_at: Option<NaiveDateTime>,
    pub(crate) last_test_seq: Option<i64>,
    pub(crate) last_test_passed: Option<bool>,
    pub(crate) started_at: NaiveDateTime,
    pub(crate) last_activity_at: NaiveDateTime,
}

impl SessionState {
    /// The aggregates as the domain folds events into them.
    pub(crate) fn totals(&self) -> SessionTotals {
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
            // While a session has no events, its start and last activity are its creation time, not event times.
            first_event_at: has_events.then(|| from_stored_time(self.started_at)),
            last_event_at: has_events.then(|| from_stored_time(self.last_activity_at)),
        }
    }
}

/// Reads the session's ingest state, locking its row on PostgreSQL until the transaction ends.
pub(crate) fn lock_session(
    connection: &mut AnyConnection,
    id: &str,
) -> Result<Option<SessionState>, StorageError> {
    let state = match connection {
        AnyConnection::Postgres(pg) => sessions::table
            .filter(sessions::id.eq(id))
            .select(SessionState::as_select())
            .for_update()
            .first(pg)
            .optional()?,
        // SQLite has one writer at a time: the transaction itself is the lock.
        AnyConnection::Sqlite(sqlite) => sessions::table
            .filter(sessions::id.eq(id))
            .select(SessionState::as_select())
            .first(sqlite)
            .optional()?,
    };
    Ok(state)
}

impl SessionState {
    /// The session's metrics as of now.
    pub(crate) fn metrics(&self) -> SessionMetrics {
        self.totals().metrics(
            from_stored_time(self.started_at),
            self.ended_at.map(from_stored_time),
            from_stored_time(self.last_activity_at),
        )
    }
}

/// The metrics of a session inside `scope`, or [`StorageError::NotFound`].
pub fn session_metrics(
    connection: &mut AnyConnection,
    scope: &SessionScope,
    id: &SessionId,
) -> Result<SessionMetrics, StorageError> {
    let mut query = sessions::table
        .filter(sessions::id.eq(id.as_str()))
        .filter(sessions::org_id.eq(scope.org_id.as_str()))
        .into_boxed();
    if let Some(key_id) = &scope.candidate_key_id {
        query = query.filter(sessions::candidate_key_id.eq(key_id));
    }
    let state: SessionState = query.select(SessionState::as_select()).first(connection)?;
    Ok(state.metrics())
}

/// The metrics of every session in an assessment's cohort at `now` (spec §7): the sessions of its unrevoked
/// keys whose status is completed, hired, or expired (pending or active past `expiresAt`), keyed by session id.
pub fn cohort_metrics(
    connection: &mut AnyConnection,
    assessment_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(String, SessionMetrics)>, StorageError> {
    let now = crate::rows::to_stored_time(now);
    let cohort_sessions = candidate_keys::table
        .filter(candidate_keys::assessment_id.eq(assessment_id))
        .filter(candidate_keys::revoked_at.is_null())
        .filter(
            candidate_keys::status
                .eq_any(["completed", "hired"])
                .or(candidate_keys::expires_at.le(now)),
        )
        .filter(candidate_keys::session_id.is_not_null())
        .select(candidate_keys::session_id.assume_not_null());
    let states: Vec<SessionState> = sessions::table
        .filter(sessions::id.eq_any(cohort_sessions))
        .order(sessions::id.asc())
        .select(SessionState::as_select())
        .load(connection)?;
    Ok(states.into_iter().map(|state| (state.id.clone(), state.metrics())).collect())
}
