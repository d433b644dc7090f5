//! A session's ingest state: who owns it, its span and its aggregates; and the metrics and cohorts read from
//! them (spec §6, §7).
//!
//! Ingest folds each event into the aggregates in its transaction, so metrics, cohort statistics and the
//! session object never scan a timeline.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::connection::DefaultLoadingMode;
use diesel::prelude::*;
use traceline_domain::artifact::ActivityCounts;
use traceline_domain::candidate_key::cohort_rule;
use traceline_domain::metrics::{SessionMetrics, SessionSpan, SessionTotals};
use traceline_domain::signing::PublicKey;
use traceline_domain::SessionId;

use crate::aggregates::Aggregates;
use crate::chain::ChainColumns;
use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::fresh_plan::planned_with_values;
use crate::rows::{from_stored_time, to_stored_time};
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
    pub(crate) started_at: NaiveDateTime,
    pub(crate) last_activity_at: NaiveDateTime,
    pub(crate) signing_pubkey: Option<String>,
    #[diesel(embed)]
    pub(crate) aggregates: Aggregates,
    #[diesel(embed)]
    pub(crate) chain: ChainColumns,
    activity_counts: String,
}

impl SessionState {
    /// The aggregates as the domain folds events into them.
    pub(crate) fn totals(&self) -> SessionTotals {
        self.aggregates.totals(self.started_at, self.last_activity_at)
    }

    /// The session's start, end and last activity.
    pub(crate) fn span(&self) -> SessionSpan {
        span(self.started_at, self.ended_at, self.last_activity_at)
    }

    /// Its events counted by kind and tool, as ingest keeps them.
    pub(crate) fn activity(&self) -> Result<ActivityCounts, StorageError> {
        serde_json::from_str(&self.activity_counts)
            .map_err(|error| StorageError::Corrupt(format!("sessions.activity_counts {error}")))
    }

    /// The session's signing key, if it has one.
    pub(crate) fn signing_key(&self) -> Result<Option<PublicKey>, StorageError> {
        self.signing_pubkey.as_deref().map(parse_stored_key).transpose()
    }

    /// The session's metrics as of now.
    pub(crate) fn metrics(&self) -> SessionMetrics {
        self.totals().metrics(&self.span())
    }
}

/// Reads a stored signing key, which was checked when it was stored.
pub(crate) fn parse_stored_key(text: &str) -> Result<PublicKey, StorageError> {
    PublicKey::parse(text)
        .map_err(|error| StorageError::Corrupt(format!("sessions.signing_pubkey {error}")))
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
            .for_no_key_update()
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

/// Reads the ingest state of those of `ids` that exist, locking their rows on PostgreSQL until the transaction
/// ends. The rows are locked in one statement, in the order of their ids, whatever the order of `ids`: two
/// requests writing overlapping sets of sessions then wait for each other instead of each holding a row the
/// other wants (a deadlock). `FOR NO KEY UPDATE`, the lock an update of non-key columns takes anyway, leaves
/// foreign-key checks of other tables' rows (which take `FOR KEY SHARE`) free to proceed.
pub(crate) fn lock_sessions(
    connection: &mut AnyConnection,
    ids: &[&str],
) -> Result<Vec<SessionState>, StorageError> {
    let states = match connection {
        AnyConnection::Postgres(pg) => sessions::table
            .filter(sessions::id.eq_any(ids))
            .filter(planned_with_values())
            .order(sessions::id.asc())
            .select(SessionState::as_select())
            .for_no_key_update()
            .load(pg)?,
        // SQLite has one writer at a time: the transaction itself is the lock.
        AnyConnection::Sqlite(sqlite) => sessions::table
            .filter(sessions::id.eq_any(ids))
            .select(SessionState::as_select())
            .load(sqlite)?,
    };
    Ok(states)
}

/// The state of a session, whoever owns it; for work that has already checked access.
pub(crate) fn get(connection: &mut AnyConnection, id: &str) -> Result<SessionState, StorageError> {
    Ok(sessions::table.find(id).select(SessionState::as_select()).first(connection)?)
}

/// The metrics of a session inside `scope`, or [`StorageError::NotFound`].
pub fn session_metrics(
    connection: &mut AnyConnection,
    scope: &SessionScope,
    id: &SessionId,
) -> Result<SessionMetrics, StorageError> {
    let state: SessionState = scope
        .sessions()
        .filter(sessions::id.eq(id.as_str()))
        .select(SessionState::as_select())
        .first(connection)?;
    Ok(state.metrics())
}

/// The metrics of every session in an assessment's cohort at `now` (spec §7, by the domain's
/// [`cohort_rule`]), keyed by session id, in the ids' byte order.
pub fn cohort_metrics(
    connection: &mut AnyConnection,
    assessment_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(String, SessionMetrics)>, StorageError> {
    let now = to_stored_time(now);
    let (always, once_expired) = cohort_rule();
    let member_ids: HashSet<String> = candidate_keys::table
        .filter(candidate_keys::assessment_id.eq(assessment_id))
        .filter(candidate_keys::revoked_at.is_null())
        .filter(candidate_keys::status.eq_any(always).or(
            candidate_keys::status.eq_any(once_expired).and(candidate_keys::expires_at.le(now)),
        ))
        .filter(candidate_keys::session_id.is_not_null())
        .select(candidate_keys::session_id.assume_not_null())
        .load_iter::<String, DefaultLoadingMode>(connection)?
        .collect::<Result<_, _>>()?;
    // A key's session carries the key's assessment (set when the session is created, never changed), so the
    // members are among the assessment's sessions: two range scans of the `assessment_id` indexes, joined here.
    // Looking each member up by id instead (`IN (subquery)`) costs SQLite, which has no hash join, a search of
    // the text primary key per member: 21 ms of the database's time for 10,000 members against 7 ms.
    let mut members: Vec<CohortMember> = sessions::table
        .filter(sessions::assessment_id.eq(assessment_id))
        .select(CohortMember::as_select())
        .load_iter::<CohortMember, DefaultLoadingMode>(connection)?
        .filter(|member| match member {
            Ok(member) => member_ids.contains(&member.id),
            Err(_) => true,
        })
        .collect::<Result<_, _>>()?;
    // Ordered here, by bytes, rather than by `ORDER BY`: PostgreSQL would sort by the database's collation,
    // which spent 10 of a 10,000-member cohort's 22 ms in the database, and orders differently from SQLite.
    members.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    Ok(members
        .into_iter()
        .map(|member| {
            let metrics = member.metrics();
            (member.id, metrics)
        })
        .collect())
}

/// The columns a cohort member's metrics are computed from, and no others: a cohort reads one row per member,
/// and the wide ones (activity counts, the chain, the signing key) would multiply what it reads and parses.
#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct CohortMember {
    id: String,
    ended_at: Option<NaiveDateTime>,
    started_at: NaiveDateTime,
    last_activity_at: NaiveDateTime,
    #[diesel(embed)]
    aggregates: Aggregates,
}

impl CohortMember {
    fn metrics(&self) -> SessionMetrics {
        let span = span(self.started_at, self.ended_at, self.last_activity_at);
        self.aggregates.totals(self.started_at, self.last_activity_at).metrics(&span)
    }
}

/// A session's span from its stored columns.
fn span(
    started_at: NaiveDateTime,
    ended_at: Option<NaiveDateTime>,
    last_activity_at: NaiveDateTime,
) -> SessionSpan {
    SessionSpan {
        started_at: from_stored_time(started_at),
        ended_at: ended_at.map(from_stored_time),
        last_activity_at: from_stored_time(last_activity_at),
    }
}
