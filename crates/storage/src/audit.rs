//! The audit log (spec §10.4): entries appended in the transaction of the change they record, and read newest
//! first by cursor. Nothing here updates or deletes an entry, and the database refuses both (a trigger).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use traceline_domain::actor_ref::{ActorKind, ActorRef};
use traceline_domain::audit::{AuditAction, AuditEntry};
use traceline_domain::OrgId;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, object_from_text, object_to_text, to_stored_time};
use crate::schema::audit_log;
use crate::timeline::PageError;

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct NewEntryRow<'a> {
    id: &'a str,
    org_id: &'a str,
    at: NaiveDateTime,
    actor_type: &'a str,
    actor_id: &'a str,
    actor_name: &'a str,
    action: &'a str,
    target_type: &'a str,
    target_id: &'a str,
    details: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct EntryRow {
    id: String,
    at: NaiveDateTime,
    actor_type: String,
    actor_id: String,
    actor_name: String,
    action: String,
    target_id: String,
    details: String,
}

impl TryFrom<EntryRow> for AuditEntry {
    type Error = StorageError;

    fn try_from(row: EntryRow) -> Result<Self, StorageError> {
        let corrupt = |column: &str, value: &str| {
            StorageError::Corrupt(format!("audit_log.{column} '{value}'"))
        };
        let kind = ActorKind::parse(&row.actor_type)
            .ok_or_else(|| corrupt("actor_type", &row.actor_type))?;
        let action =
            AuditAction::parse_stored(&row.action).ok_or_else(|| corrupt("action", &row.action))?;
        Ok(AuditEntry {
            id: row.id,
            at: from_stored_time(row.at),
            actor: ActorRef { kind, id: row.actor_id, name: row.actor_name },
            action,
            target_type: action.target_type(),
            target_id: row.target_id,
            details: object_from_text("audit_log.details", &row.details)?,
        })
    }
}

/// Appends `entry` to the org's log. Call it in the transaction of the change it records.
pub fn record(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    entry: &AuditEntry,
) -> Result<(), StorageError> {
    let row = NewEntryRow {
        id: &entry.id,
        org_id: org_id.as_str(),
        at: to_stored_time(entry.at),
        actor_type: entry.actor.kind.as_str(),
        actor_id: &entry.actor.id,
        actor_name: &entry.actor.name,
        action: entry.action.as_str(),
        target_type: entry.target_type,
        target_id: &entry.target_id,
        details: object_to_text(&entry.details),
    };
    diesel::insert_into(audit_log::table).values(&row).execute(connection)?;
    Ok(())
}

/// One page of the log, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// Whether older entries follow.
    pub has_more: bool,
}

/// Up to `limit` of the org's entries older than the entry `after` (from the newest when `None`), newest first.
pub fn list(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    after: Option<&str>,
    limit: i64,
) -> Result<AuditPage, PageError> {
    let mut query = audit_log::table.filter(audit_log::org_id.eq(org_id.as_str())).into_boxed();
    if let Some(after) = after {
        let seq: i64 = audit_log::table
            .filter(audit_log::org_id.eq(org_id.as_str()))
            .filter(audit_log::id.eq(after))
            .select(audit_log::seq)
            .first(connection)
            .optional()?
            .ok_or(PageError::UnknownCursor)?;
        query = query.filter(audit_log::seq.lt(seq));
    }
    let mut rows = query
        .order(audit_log::seq.desc())
        .limit(limit + 1)
        .select(EntryRow::as_select())
        .load(connection)?;
    let has_more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let entries = rows.into_iter().map(AuditEntry::try_from).collect::<Result<_, _>>()?;
    Ok(AuditPage { entries, has_more })
}
