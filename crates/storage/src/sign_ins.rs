//! Web sign-ins: one row per signed-in browser, keyed by the hash of its cookie's token, read on every request
//! the cookie authenticates.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use traceline_domain::sign_in::{SignInSpan, IDLE_TIMEOUT, MAX_AGE};
use traceline_domain::user::User;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, to_stored_time};
use crate::schema::{sign_ins, users};
use crate::users::UserRow;

/// Records a sign-in of `user_id` at `now`, and forgets every sign-in that has ended by then (of anyone), so the
/// table holds only live ones.
pub fn insert(
    connection: &mut AnyConnection,
    token_hash: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    diesel::delete(
        sign_ins::table.filter(
            sign_ins::last_seen_at
                .le(to_stored_time(now - IDLE_TIMEOUT))
                .or(sign_ins::created_at.le(to_stored_time(now - MAX_AGE))),
        ),
    )
    .execute(connection)?;
    let now = to_stored_time(now);
    diesel::insert_into(sign_ins::table)
        .values((
            sign_ins::token_hash.eq(token_hash),
            sign_ins::user_id.eq(user_id),
            sign_ins::created_at.eq(now),
            sign_ins::last_seen_at.eq(now),
        ))
        .execute(connection)?;
    Ok(())
}

/// The enabled user signed in under `token_hash`, with the sign-in's span; the caller judges whether it is
/// still current.
pub fn find(
    connection: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<(User, SignInSpan)>, StorageError> {
    sign_ins::table
        .inner_join(users::table)
        .filter(sign_ins::token_hash.eq(token_hash))
        .filter(users::disabled_at.is_null())
        .select((UserRow::as_select(), sign_ins::created_at, sign_ins::last_seen_at))
        .first::<(UserRow, chrono::NaiveDateTime, chrono::NaiveDateTime)>(connection)
        .optional()?
        .map(|(row, created_at, last_seen_at)| {
            let span = SignInSpan {
                created_at: from_stored_time(created_at),
                last_seen_at: from_stored_time(last_seen_at),
            };
            Ok((User::try_from(row)?, span))
        })
        .transpose()
}

/// Records a use of the sign-in at `now`.
pub fn touch(
    connection: &mut AnyConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    diesel::update(sign_ins::table.find(token_hash))
        .set(sign_ins::last_seen_at.eq(to_stored_time(now)))
        .execute(connection)?;
    Ok(())
}

/// Ends one sign-in (sign-out). Ending one that is already gone is not an error.
pub fn delete(connection: &mut AnyConnection, token_hash: &str) -> Result<(), StorageError> {
    diesel::delete(sign_ins::table.find(token_hash)).execute(connection)?;
    Ok(())
}

/// Ends every sign-in of a user but the one under `keep` (after a password change, the browser that changed it
/// stays signed in).
pub fn delete_others(
    connection: &mut AnyConnection,
    user_id: &str,
    keep: Option<&str>,
) -> Result<(), StorageError> {
    let of_user = sign_ins::table.filter(sign_ins::user_id.eq(user_id));
    match keep {
        Some(keep) => {
            diesel::delete(of_user.filter(sign_ins::token_hash.ne(keep))).execute(connection)?
        }
        None => diesel::delete(of_user).execute(connection)?,
    };
    Ok(())
}
