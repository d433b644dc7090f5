//! Retention (spec §12): which sessions an org's retention has expired, and deleting them one by one exactly as
//! `DELETE /v1/sessions/:id` does. The sweep that drives it, in small transactions, runs in the server.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use traceline_domain::{OrgId, SessionId};

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::outbox::{self, DeletionReason};
use crate::rows::to_stored_time;
use crate::schema::{orgs, sessions};
use crate::scope::SessionScope;
use crate::session_state::lock_session;

/// Every org that keeps sessions for a limited time, with its retention in days.
pub fn orgs_with_retention(
    connection: &mut AnyConnection,
) -> Result<Vec<(OrgId, i64)>, StorageError> {
    let rows: Vec<(String, Option<i64>)> = orgs::table
        .filter(orgs::retention_days.is_not_null())
        .select((orgs::id, orgs::retention_days))
        .load(connection)?;
    Ok(rows.into_iter().filter_map(|(id, days)| Some((OrgId::new(id), days?))).collect())
}

/// Up to `limit` ids of the org's sessions that ended before `cutoff`, or, still open, were last active before it.
pub fn expired_sessions(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<SessionId>, StorageError> {
    let cutoff = to_stored_time(cutoff);
    let ids: Vec<String> = sessions::table
        .filter(sessions::org_id.eq(org_id.as_str()))
        .filter(
            sessions::ended_at
                .lt(cutoff)
                .or(sessions::ended_at.is_null().and(sessions::last_activity_at.lt(cutoff))),
        )
        .order(sessions::id.asc())
        .limit(limit)
        .select(sessions::id)
        .load(connection)?;
    Ok(ids.into_iter().map(SessionId::from_stored).collect())
}

/// Deletes session `id` of the org, as `DELETE /v1/sessions/:id` does, if it is still expired at `cutoff` (it may
/// have been written to since it was listed, or deleted by another instance's sweep), and tells the webhooks
/// (`session.deleted`). Returns whether it was deleted. The session's row is locked first on PostgreSQL, so two
/// sweeps never both delete (and announce) it.
pub fn delete_if_expired(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: &SessionId,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    // The session's key first, then the session: the order every write takes them in (deleting the session
    // unlinks it from its key).
    let key_id: Option<Option<String>> = sessions::table
        .find(id.as_str())
        .select(sessions::candidate_key_id)
        .first(connection)
        .optional()?;
    if let Some(Some(key_id)) = key_id {
        crate::candidate_keys::lock_status(connection, &key_id)?;
    }
    if lock_session(connection, id.as_str())?.is_none() {
        return Ok(false);
    }
    let scope = SessionScope::org(org_id.clone());
    let Some(session) = crate::sessions::find(connection, &scope, id)? else {
        return Ok(false);
    };
    if session.ended_at.unwrap_or(session.last_activity_at) >= cutoff {
        return Ok(false);
    }
    crate::sessions::delete(connection, &scope, id)?;
    outbox::session_deleted(connection, &session, DeletionReason::Retention, now)?;
    Ok(true)
}
