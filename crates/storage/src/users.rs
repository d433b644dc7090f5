//! Reviewer accounts: created by operators and admins, looked up by address at sign-in, disabled rather than
//! deleted (their scores and decisions keep naming them).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use traceline_domain::user::{Role, User, UserPatch};
use traceline_domain::OrgId;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, to_stored_time};
use crate::schema::{sign_ins, users};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct UserRow {
    id: String,
    org_id: String,
    email: String,
    name: String,
    role: String,
    created_at: NaiveDateTime,
    disabled_at: Option<NaiveDateTime>,
}

impl TryFrom<UserRow> for User {
    type Error = StorageError;

    fn try_from(row: UserRow) -> Result<Self, StorageError> {
        let role = Role::parse(&row.role)
            .ok_or_else(|| StorageError::Corrupt(format!("users.role '{}'", row.role)))?;
        Ok(User {
            id: row.id,
            org_id: OrgId::new(row.org_id),
            email: row.email,
            name: row.name,
            role,
            created_at: from_stored_time(row.created_at),
            disabled_at: row.disabled_at.map(from_stored_time),
        })
    }
}

/// Stores a user with the hash of their password. An address already in use (in any org) is
/// [`StorageError::Conflict`]; an org that does not exist is [`StorageError::NotFound`].
pub fn insert(
    connection: &mut AnyConnection,
    user: &User,
    password_hash: &str,
) -> Result<(), StorageError> {
    crate::orgs::get(connection, &user.org_id)?;
    // In a savepoint, so a taken address leaves the caller's transaction usable.
    connection.transaction(|connection| {
        diesel::insert_into(users::table)
            .values((
                users::id.eq(&user.id),
                users::org_id.eq(user.org_id.as_str()),
                users::email.eq(&user.email),
                users::name.eq(&user.name),
                users::role.eq(user.role.as_str()),
                users::password_hash.eq(password_hash),
                users::created_at.eq(to_stored_time(user.created_at)),
                users::disabled_at.eq(user.disabled_at.map(to_stored_time)),
            ))
            .execute(connection)?;
        Ok(())
    })
}

/// The user with this (normalised) address and their password hash, whatever their org, if there is one.
pub fn find_by_email(
    connection: &mut AnyConnection,
    email: &str,
) -> Result<Option<(User, String)>, StorageError> {
    users::table
        .filter(users::email.eq(email))
        .select((UserRow::as_select(), users::password_hash))
        .first::<(UserRow, String)>(connection)
        .optional()?
        .map(|(row, hash)| Ok((User::try_from(row)?, hash)))
        .transpose()
}

/// The org's user with this id, or [`StorageError::NotFound`].
pub fn get(connection: &mut AnyConnection, org_id: &OrgId, id: &str) -> Result<User, StorageError> {
    users::table
        .filter(users::id.eq(id))
        .filter(users::org_id.eq(org_id.as_str()))
        .select(UserRow::as_select())
        .first(connection)?
        .try_into()
}

/// The password hash of a user.
pub fn password_hash(connection: &mut AnyConnection, id: &str) -> Result<String, StorageError> {
    Ok(users::table.find(id).select(users::password_hash).first(connection)?)
}

/// The org's users, in creation order, disabled ones included.
pub fn list(connection: &mut AnyConnection, org_id: &OrgId) -> Result<Vec<User>, StorageError> {
    users::table
        .filter(users::org_id.eq(org_id.as_str()))
        .order((users::created_at.asc(), users::id.asc()))
        .select(UserRow::as_select())
        .load(connection)?
        .into_iter()
        .map(User::try_from)
        .collect()
}

/// Applies a patch to the org's user `id` and returns it. Disabling signs the user out everywhere.
pub fn update(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: &str,
    patch: &UserPatch,
    now: DateTime<Utc>,
) -> Result<User, StorageError> {
    let user = get(connection, org_id, id)?;
    if let Some(role) = patch.role {
        diesel::update(users::table.find(id))
            .set(users::role.eq(role.as_str()))
            .execute(connection)?;
    }
    match patch.disabled {
        Some(true) if user.is_enabled() => {
            diesel::update(users::table.find(id))
                .set(users::disabled_at.eq(Some(to_stored_time(now))))
                .execute(connection)?;
            diesel::delete(sign_ins::table.filter(sign_ins::user_id.eq(id))).execute(connection)?;
        }
        Some(false) => {
            diesel::update(users::table.find(id))
                .set(users::disabled_at.eq(None::<NaiveDateTime>))
                .execute(connection)?;
        }
        _ => {}
    }
    get(connection, org_id, id)
}

/// Replaces a user's password hash.
pub fn set_password_hash(
    connection: &mut AnyConnection,
    id: &str,
    password_hash: &str,
) -> Result<(), StorageError> {
    let changed = diesel::update(users::table.find(id))
        .set(users::password_hash.eq(password_hash))
        .execute(connection)?;
    if changed == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}
