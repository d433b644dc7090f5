//! Org API keys: stored by the hash of their secret, looked up on every reviewer request, listed and revoked
//! (spec §10.3).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use traceline_domain::api_key::ApiKey;
use traceline_domain::{OrgId, Scopes};

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, to_stored_time};
use crate::schema::api_keys;

/// How stale `lastUsedAt` may get: a key's use is written at most this often, not on every request.
pub const LAST_USED_PRECISION: TimeDelta = TimeDelta::minutes(1);

/// A key to store. The secret itself never reaches storage.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// The key's id (not secret; used to revoke it).
    pub id: String,
    /// The org the key acts for.
    pub org_id: OrgId,
    /// SHA-256 of the secret.
    pub secret_hash: String,
    /// What the key may do.
    pub scopes: Scopes,
    /// Its name, if it was given one.
    pub name: Option<String>,
    /// The first characters of the secret, shown in listings.
    pub prefix: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = api_keys)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct NewApiKeyRow<'a> {
    id: &'a str,
    org_id: &'a str,
    secret_hash: &'a str,
    scopes: String,
    name: Option<&'a str>,
    prefix: &'a str,
    created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_keys)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ApiKeyRow {
    id: String,
    org_id: String,
    scopes: String,
    name: Option<String>,
    prefix: Option<String>,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StorageError;

    fn try_from(row: ApiKeyRow) -> Result<Self, StorageError> {
        let scopes = Scopes::parse(&row.scopes)
            .map_err(|error| StorageError::Corrupt(format!("api_keys.scopes: {error}")))?;
        Ok(ApiKey {
            id: row.id,
            org_id: OrgId::new(row.org_id),
            name: row.name,
            scopes,
            prefix: row.prefix,
            created_at: from_stored_time(row.created_at),
            last_used_at: row.last_used_at.map(from_stored_time),
            revoked_at: row.revoked_at.map(from_stored_time),
        })
    }
}

/// Stores a key. Fails with [`StorageError::NotFound`] when the org does not exist.
pub fn insert(connection: &mut AnyConnection, key: &NewApiKey) -> Result<ApiKey, StorageError> {
    crate::orgs::get(connection, &key.org_id)?;
    let row = NewApiKeyRow {
        id: &key.id,
        org_id: key.org_id.as_str(),
        secret_hash: &key.secret_hash,
        scopes: key.scopes.to_string(),
        name: key.name.as_deref(),
        prefix: &key.prefix,
        created_at: to_stored_time(key.created_at),
    };
    diesel::insert_into(api_keys::table).values(&row).execute(connection)?;
    get(connection, &key.org_id, &key.id)
}

/// The unrevoked key whose secret hashes to `secret_hash`, if there is one.
pub fn find_active_by_hash(
    connection: &mut AnyConnection,
    secret_hash: &str,
) -> Result<Option<ApiKey>, StorageError> {
    api_keys::table
        .filter(api_keys::secret_hash.eq(secret_hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .first(connection)
        .optional()?
        .map(ApiKey::try_from)
        .transpose()
}

/// The org's key `id`, revoked or not, or [`StorageError::NotFound`].
pub fn get(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: &str,
) -> Result<ApiKey, StorageError> {
    api_keys::table
        .filter(api_keys::id.eq(id))
        .filter(api_keys::org_id.eq(org_id.as_str()))
        .select(ApiKeyRow::as_select())
        .first(connection)?
        .try_into()
}

/// Every key of the org, revoked ones included, in creation order.
pub fn list(connection: &mut AnyConnection, org_id: &OrgId) -> Result<Vec<ApiKey>, StorageError> {
    api_keys::table
        .filter(api_keys::org_id.eq(org_id.as_str()))
        .order((api_keys::created_at.asc(), api_keys::id.asc()))
        .select(ApiKeyRow::as_select())
        .load(connection)?
        .into_iter()
        .map(ApiKey::try_from)
        .collect()
}

/// Revokes the org's key `id` at `now`; returns it and whether this call revoked it (a key revoked before keeps
/// its first `revokedAt`). [`StorageError::NotFound`] when the org has no such key.
pub fn revoke(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(ApiKey, bool), StorageError> {
    let changed = diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(id))
            .filter(api_keys::org_id.eq(org_id.as_str()))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(to_stored_time(now)))
    .execute(connection)?;
    Ok((get(connection, org_id, id)?, changed == 1))
}

/// Records that key `id` authenticated a request at `now`, unless that was already recorded less than
/// [`LAST_USED_PRECISION`] before: one write a minute per key, not one per request.
pub fn touch(
    connection: &mut AnyConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let now = to_stored_time(now);
    let stale = to_stored_time(from_stored_time(now) - LAST_USED_PRECISION);
    diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(id))
            .filter(api_keys::last_used_at.is_null().or(api_keys::last_used_at.le(stale))),
    )
    .set(api_keys::last_used_at.eq(now))
    .execute(connection)?;
    Ok(())
}

/// Whether key `key` was last recorded as used long enough before `now` that its use should be written again.
pub fn use_is_stale(key: &ApiKey, now: DateTime<Utc>) -> bool {
    key.last_used_at.is_none_or(|last| now - last >= LAST_USED_PRECISION)
}
