//! Erasing a candidate (spec §12, `DELETE /v1/candidates?email=`): every session made through their keys is
//! deleted as `DELETE /v1/sessions/:id` does, their keys keep no name or e-mail, and no webhook delivery about
//! them, sent or not, is kept.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use traceline_domain::{OrgId, SessionId};

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::outbox::{self, DeletionReason};
use crate::schema::{candidate_keys, sessions};
use crate::scope::SessionScope;

/// What an erasure removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Erased {
    /// The sessions deleted.
    pub session_ids: Vec<String>,
    /// The keys whose name and e-mail were cleared.
    pub key_ids: Vec<String>,
}

/// Erases the org's candidate with address `email` (any case). Run it in one write transaction.
pub fn erase_candidate(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Erased, StorageError> {
    let key_ids = keys_of(connection, org_id, email)?;
    if key_ids.is_empty() {
        return Ok(Erased::default());
    }
    lock_keys(connection, &key_ids)?;
    let session_ids: Vec<String> = sessions::table
        .filter(sessions::org_id.eq(org_id.as_str()))
        .filter(sessions::candidate_key_id.eq_any(&key_ids))
        .order(sessions::id.asc())
        .select(sessions::id)
        .load(connection)?;
    // Deliveries about the candidate go first, so the session.deleted events below (which name no one) stay.
    outbox::forget_subjects(connection, &key_ids)?;
    let scope = SessionScope::org(org_id.clone());
    for id in &session_ids {
        let id = SessionId::from_stored(id.clone());
        let session = crate::sessions::get(connection, &scope, &id)?;
        crate::sessions::delete(connection, &scope, &id)?;
        outbox::session_deleted(connection, &session, DeletionReason::Erasure, now)?;
    }
    diesel::update(candidate_keys::table.filter(candidate_keys::id.eq_any(&key_ids)))
        .set((
            candidate_keys::candidate_name.eq(None::<String>),
            candidate_keys::candidate_email.eq(None::<String>),
        ))
        .execute(connection)?;
    Ok(Erased { session_ids, key_ids })
}

/// The ids of every key of the org issued to `email` (any case; revoked keys too, which still hold the name).
fn keys_of(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    email: &str,
) -> Result<Vec<String>, StorageError> {
    let keys: Vec<(String, Option<String>)> = candidate_keys::table
        .filter(candidate_keys::org_id.eq(org_id.as_str()))
        .filter(candidate_keys::candidate_email.is_not_null())
        .select((candidate_keys::id, candidate_keys::candidate_email))
        .load(connection)?;
    let wanted = email.trim().to_lowercase();
    Ok(keys
        .into_iter()
        .filter(|(_, stored)| {
            stored.as_deref().is_some_and(|stored| stored.trim().to_lowercase() == wanted)
        })
        .map(|(id, _)| id)
        .collect())
}

/// Locks the keys' rows on PostgreSQL, in the order of their ids, before any of their sessions: the order ingest
/// takes them in (the key, then its sessions), so an erasure and a candidate's upload wait for each other rather
/// than deadlock.
fn lock_keys(connection: &mut AnyConnection, key_ids: &[String]) -> Result<(), StorageError> {
    if let AnyConnection::Postgres(pg) = connection {
        candidate_keys::table
            .filter(candidate_keys::id.eq_any(key_ids))
            .order(candidate_keys::id.asc())
            .select(candidate_keys::id)
            .for_no_key_update()
            .load::<String>(pg)?;
    }
    Ok(())
}
