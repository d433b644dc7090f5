//! Orgs: created by operators from the command line, read when authenticating.

use diesel::prelude::*;
use traceline_domain::{Org, OrgId, OrgName};

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, to_stored_time};
use crate::schema::orgs;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = orgs)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct OrgRow {
    id: String,
    name: String,
    created_at: chrono::NaiveDateTime,
}

impl TryFrom<OrgRow> for Org {
    type Error = StorageError;

    fn try_from(row: OrgRow) -> Result<Self, StorageError> {
        Ok(Org {
            id: OrgId::new(row.id),
            name: OrgName::parse(&row.name)
                .map_err(|error| StorageError::Corrupt(error.to_string()))?,
            created_at: from_stored_time(row.created_at),
        })
    }
}

/// Stores a new org.
pub fn insert(connection: &mut AnyConnection, org: &Org) -> Result<(), StorageError> {
    let row = OrgRow {
        id: org.id.as_str().to_owned(),
        name: org.name.as_str().to_owned(),
        created_at: to_stored_time(org.created_at),
    };
    diesel::insert_into(orgs::table).values(&row).execute(connection)?;
    Ok(())
}

/// The org with this id, or [`StorageError::NotFound`].
pub fn get(connection: &mut AnyConnection, id: &OrgId) -> Result<Org, StorageError> {
    orgs::table.find(id.as_str()).select(OrgRow::as_select()).first(connection)?.try_into()
}

/// The org's retention in days; `None` keeps its sessions for ever.
pub fn retention_days(
    connection: &mut AnyConnection,
    id: &OrgId,
) -> Result<Option<i64>, StorageError> {
    Ok(orgs::table.find(id.as_str()).select(orgs::retention_days).first(connection)?)
}

/// Sets the org's retention in days (`None`: for ever).
pub fn set_retention_days(
    connection: &mut AnyConnection,
    id: &OrgId,
    days: Option<i64>,
) -> Result<(), StorageError> {
    diesel::update(orgs::table.find(id.as_str()))
        .set(orgs::retention_days.eq(days))
        .execute(connection)?;
    Ok(())
}
