//! Candidate keys and the session tokens redeemed from them: issue, list, revoke, and the state changes of
//! redeem, complete, hire and reject. Revoked keys are never returned.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use traceline_domain::candidate_key::{CandidateKey, KeyStatus};
use traceline_domain::{OrgId, Page};

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, to_stored_time};
use crate::schema::{assessments, candidate_keys, session_tokens};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = candidate_keys)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct KeyRow {
    id: String,
    org_id: String,
    assessment_id: String,
    key: String,
    candidate_name: Option<String>,
    candidate_email: Option<String>,
    status: String,
    session_id: Option<String>,
    expires_at: NaiveDateTime,
    redeemed_at: Option<NaiveDateTime>,
    completed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

impl TryFrom<KeyRow> for CandidateKey {
    type Error = StorageError;

    fn try_from(row: KeyRow) -> Result<Self, StorageError> {
        let stored_status = KeyStatus::parse_stored(&row.status).ok_or_else(|| {
            StorageError::Corrupt(format!("candidate_keys.status '{}'", row.status))
        })?;
        Ok(CandidateKey {
            id: row.id,
            org_id: OrgId::new(row.org_id),
            assessment_id: row.assessment_id,
            key: row.key,
            candidate_name: row.candidate_name,
            candidate_email: row.candidate_email,
            stored_status,
            session_id: row.session_id,
            expires_at: from_stored_time(row.expires_at),
            redeemed_at: row.redeemed_at.map(from_stored_time),
            completed_at: row.completed_at.map(from_stored_time),
            created_at: from_stored_time(row.created_at),
        })
    }
}

fn to_row(key: &CandidateKey) -> KeyRow {
    KeyRow {
        id: key.id.clone(),
        org_id: key.org_id.as_str().to_owned(),
        assessment_id: key.assessment_id.clone(),
        key: key.key.clone(),
        candidate_name: key.candidate_name.clone(),
        candidate_email: key.candidate_email.clone(),
        status: key.stored_status.as_str().to_owned(),
        session_id: key.session_id.clone(),
        expires_at: to_stored_time(key.expires_at),
        redeemed_at: key.redeemed_at.map(to_stored_time),
        completed_at: key.completed_at.map(to_stored_time),
        created_at: to_stored_time(key.created_at),
    }
}

fn load_all(rows: Vec<KeyRow>) -> Result<Vec<CandidateKey>, StorageError> {
    rows.into_iter().map(CandidateKey::try_from).collect()
}

/// Stores a key. A key string already used anywhere is [`StorageError::Conflict`]; the insert runs in a
/// savepoint so the caller's transaction survives that and can retry with another key.
pub fn insert(connection: &mut AnyConnection, key: &CandidateKey) -> Result<(), StorageError> {
    let row = to_row(key);
    connection.transaction(|connection| {
        diesel::insert_into(candidate_keys::table).values(&row).execute(connection)?;
        Ok(())
    })
}

/// Number of live keys of an assessment at `now`: unrevoked, pending or active, and not expired; the keys a
/// candidate can still use. Completed, hired and expired keys are history, not capacity.
pub fn count_live(
    connection: &mut AnyConnection,
    assessment_id: &str,
    now: DateTime<Utc>,
) -> Result<i64, StorageError> {
    Ok(candidate_keys::table
        .filter(candidate_keys::assessment_id.eq(assessment_id))
        .filter(candidate_keys::revoked_at.is_null())
        .filter(candidate_keys::status.eq_any(["pending", "active"]))
        .filter(candidate_keys::expires_at.gt(to_stored_time(now)))
        .count()
        .get_result(connection)?)
}

/// The unrevoked keys of an assessment, in issue order.
pub fn list_for_assessment(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    assessment_id: &str,
) -> Result<Vec<CandidateKey>, StorageError> {
    load_all(
        candidate_keys::table
            .filter(candidate_keys::org_id.eq(org_id.as_str()))
            .filter(candidate_keys::assessment_id.eq(assessment_id))
            .filter(candidate_keys::revoked_at.is_null())
            .order((candidate_keys::created_at.asc(), candidate_keys::id.asc()))
            .select(KeyRow::as_select())
            .load(connection)?,
    )
}

/// Every unrevoked key of the org's live (undeleted) assessments, in issue order.
pub fn list_all_for_org(
    connection: &mut AnyConnection,
    org_id: &OrgId,
) -> Result<Vec<CandidateKey>, StorageError> {
    load_all(
        candidate_keys::table
            .inner_join(assessments::table)
            .filter(candidate_keys::org_id.eq(org_id.as_str()))
            .filter(candidate_keys::revoked_at.is_null())
            .filter(assessments::deleted_at.is_null())
            .order((candidate_keys::created_at.asc(), candidate_keys::id.asc()))
            .select(KeyRow::as_select())
            .load(connection)?,
    )
}

/// The org's unrevoked keys with these ids (those that exist), in no particular order.
pub fn find_by_ids(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    ids: &[String],
) -> Result<Vec<CandidateKey>, StorageError> {
    load_all(
        candidate_keys::table
            .filter(candidate_keys::org_id.eq(org_id.as_str()))
            .filter(candidate_keys::id.eq_any(ids))
            .filter(candidate_keys::revoked_at.is_null())
            .select(KeyRow::as_select())
            .load(connection)?,
    )
}

/// One page of the org's unrevoked keys of live assessments, newest first, each with its assessment's title.
pub fn list_for_org(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    page: Page,
) -> Result<(Vec<(CandidateKey, String)>, i64), StorageError> {
    let base = || {
        candidate_keys::table
            .inner_join(assessments::table)
            .filter(candidate_keys::org_id.eq(org_id.as_str()))
            .filter(candidate_keys::revoked_at.is_null())
            .filter(assessments::deleted_at.is_null())
    };
    let total = base().count().get_result::<i64>(connection)?;
    let rows = base()
        .order((candidate_keys::created_at.desc(), candidate_keys::id.asc()))
        .limit(page.limit)
        .offset(page.offset)
        .select((KeyRow::as_select(), assessments::title))
        .load::<(KeyRow, String)>(connection)?;
    let keys = rows
        .into_iter()
        .map(|(row, title)| Ok((CandidateKey::try_from(row)?, title)))
        .collect::<Result<_, StorageError>>()?;
    Ok((keys, total))
}

/// The unrevoked key `key_id` of the org's assessment `assessment_id`, or [`StorageError::NotFound`].
pub fn get(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    assessment_id: &str,
    key_id: &str,
) -> Result<CandidateKey, StorageError> {
    candidate_keys::table
        .filter(candidate_keys::id.eq(key_id))
        .filter(candidate_keys::org_id.eq(org_id.as_str()))
        .filter(candidate_keys::assessment_id.eq(assessment_id))
        .filter(candidate_keys::revoked_at.is_null())
        .select(KeyRow::as_select())
        .first(connection)?
        .try_into()
}

/// Revokes a key: it stops authenticating and leaves every listing.
pub fn revoke(
    connection: &mut AnyConnection,
    key_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    diesel::update(candidate_keys::table.find(key_id))
        .set(candidate_keys::revoked_at.eq(to_stored_time(now)))
        .execute(connection)?;
    Ok(())
}

/// Sets the stored status (a reviewer's decision: hired or rejected). Returns whether it changed, decided by the
/// update itself, so of two concurrent identical decisions exactly one changes it.
pub fn set_status(
    connection: &mut AnyConnection,
    key_id: &str,
    status: KeyStatus,
) -> Result<bool, StorageError> {
    let changed = diesel::update(
        candidate_keys::table
            .filter(candidate_keys::id.eq(key_id))
            .filter(candidate_keys::status.ne(status.as_str())),
    )
    .set(candidate_keys::status.eq(status.as_str()))
    .execute(connection)?;
    Ok(changed == 1)
}

/// The stored status of key `key_id`, read for a write made with it (spec §10.1). On PostgreSQL the row is
/// locked until the transaction ends: a concurrent complete or hire, which update the row, then waits for this
/// write to commit, or this write sees its result; never a write committed after the record closed. SQLite has
/// one writer, so its transaction is the lock.
///
/// The lock is `FOR NO KEY UPDATE`, not a shared one, so writes made with one key take turns (they mostly write
/// the same sessions, whose rows they would take turns on anyway): a write that creates the key's first session
/// links it here, an update of this row, and upgrading a lock that concurrent writes share would deadlock with
/// any of them waiting for that session. Foreign-key checks (`FOR KEY SHARE`) still pass. Every write locks the
/// key before its sessions, so the order is the same everywhere.
pub fn lock_status(
    connection: &mut AnyConnection,
    key_id: &str,
) -> Result<KeyStatus, StorageError> {
    let query = candidate_keys::table.find(key_id).select(candidate_keys::status);
    let status: String = match connection {
        AnyConnection::Postgres(pg) => query.for_no_key_update().first(pg)?,
        AnyConnection::Sqlite(sqlite) => query.first(sqlite)?,
    };
    KeyStatus::parse_stored(&status)
        .ok_or_else(|| StorageError::Corrupt(format!("candidate_keys.status '{status}'")))
}

/// [`lock_status`] of several keys at once, by id and in id order, with the same exclusive lock (a shared one
/// would be upgraded by the writes that follow); [`StorageError::NotFound`] unless every key exists.
pub fn lock_statuses(
    connection: &mut AnyConnection,
    key_ids: &[&str],
) -> Result<HashMap<String, KeyStatus>, StorageError> {
    let query = candidate_keys::table
        .filter(candidate_keys::id.eq_any(key_ids))
        .order(candidate_keys::id.asc())
        .select((candidate_keys::id, candidate_keys::status));
    let rows: Vec<(String, String)> = match connection {
        AnyConnection::Postgres(pg) => query.for_no_key_update().load(pg)?,
        AnyConnection::Sqlite(sqlite) => query.load(sqlite)?,
    };
    let mut statuses = HashMap::with_capacity(rows.len());
    for (id, status) in rows {
        let parsed = KeyStatus::parse_stored(&status)
            .ok_or_else(|| StorageError::Corrupt(format!("candidate_keys.status '{status}'")))?;
        statuses.insert(id, parsed);
    }
    if key_ids.iter().any(|id| !statuses.contains_key(*id)) {
        return Err(StorageError::NotFound);
    }
    Ok(statuses)
}

/// The unrevoked key with this canonical key string, if any.
pub fn find_by_key(
    connection: &mut AnyConnection,
    key: &str,
) -> Result<Option<CandidateKey>, StorageError> {
    candidate_keys::table
        .filter(candidate_keys::key.eq(key))
        .filter(candidate_keys::revoked_at.is_null())
        .select(KeyRow::as_select())
        .first(connection)
        .optional()?
        .map(CandidateKey::try_from)
        .transpose()
}

/// The unrevoked key a session token was redeemed from, if any.
pub fn find_by_token_hash(
    connection: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<CandidateKey>, StorageError> {
    candidate_keys::table
        .inner_join(session_tokens::table)
        .filter(session_tokens::token_hash.eq(token_hash))
        .filter(candidate_keys::revoked_at.is_null())
        .select(KeyRow::as_select())
        .first(connection)
        .optional()?
        .map(CandidateKey::try_from)
        .transpose()
}

/// Stores the hash of a new session token for a key.
pub fn insert_token(
    connection: &mut AnyConnection,
    key_id: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    diesel::insert_into(session_tokens::table)
        .values((
            session_tokens::token_hash.eq(token_hash),
            session_tokens::candidate_key_id.eq(key_id),
            session_tokens::created_at.eq(to_stored_time(now)),
        ))
        .execute(connection)?;
    Ok(())
}

/// Moves a pending key to active. Returns false when it was no longer pending, so two concurrent redeems
/// cannot both activate it.
pub fn activate(
    connection: &mut AnyConnection,
    key_id: &str,
    candidate_name: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let target = candidate_keys::table
        .filter(candidate_keys::id.eq(key_id))
        .filter(candidate_keys::status.eq("pending"));
    let changed = match candidate_name {
        Some(name) => diesel::update(target)
            .set((
                candidate_keys::status.eq("active"),
                candidate_keys::redeemed_at.eq(to_stored_time(now)),
                candidate_keys::candidate_name.eq(name),
            ))
            .execute(connection)?,
        None => diesel::update(target)
            .set((
                candidate_keys::status.eq("active"),
                candidate_keys::redeemed_at.eq(to_stored_time(now)),
            ))
            .execute(connection)?,
    };
    Ok(changed == 1)
}

/// Makes `session_id` the key's session unless it already has one; returns the key's session afterwards.
/// The conditional update makes the first session win under concurrency.
pub fn link_session(
    connection: &mut AnyConnection,
    key_id: &str,
    session_id: &str,
) -> Result<Option<String>, StorageError> {
    diesel::update(
        candidate_keys::table
            .filter(candidate_keys::id.eq(key_id))
            .filter(candidate_keys::session_id.is_null()),
    )
    .set(candidate_keys::session_id.eq(session_id))
    .execute(connection)?;
    Ok(candidate_keys::table.find(key_id).select(candidate_keys::session_id).first(connection)?)
}

/// What completing a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// When the key was completed: now, or the earlier time when it already was (or was hired or rejected).
    pub completed_at: Option<DateTime<Utc>>,
    /// Whether this call completed it. Decided by the update itself, so of two concurrent calls exactly one is.
    pub newly: bool,
}

/// Marks a pending or active key completed at `now`.
pub fn complete(
    connection: &mut AnyConnection,
    key_id: &str,
    now: DateTime<Utc>,
) -> Result<Completion, StorageError> {
    let changed = diesel::update(
        candidate_keys::table
            .filter(candidate_keys::id.eq(key_id))
            .filter(candidate_keys::status.eq_any(["pending", "active"])),
    )
    .set((
        candidate_keys::status.eq("completed"),
        candidate_keys::completed_at.eq(to_stored_time(now)),
    ))
    .execute(connection)?;
    let completed_at: Option<NaiveDateTime> = candidate_keys::table
        .find(key_id)
        .select(candidate_keys::completed_at)
        .first(connection)?;
    Ok(Completion { completed_at: completed_at.map(from_stored_time), newly: changed == 1 })
}
