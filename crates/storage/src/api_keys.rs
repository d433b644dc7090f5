//! Org API keys: stored by the hash of their secret, looked up on every reviewer request, listed and revoked by
//! reviewers (spec §10.3).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use traceline_domain::api_key_record::{api_key_name, last_use_is_stale, ApiKeyRecord};
use traceline_domain::{OrgId, Scopes};

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, to_stored_time};
use crate::schema::api_keys;

/// A key to store. The secret itself never reaches storage.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// The key's id (not secret; used to revoke it).
    pub id: String,
    /// The org the key acts for.
    pub org_id: OrgId,
    /// What people call it.
    pub name: Option<String>,
    /// SHA-256 of the secret.
    pub secret_hash: String,
    /// The secret's first characters, kept so people can tell keys apart.
    pub prefix: String,
    /// What the key may do.
    pub scopes: Scopes,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// What a valid key grants, and what it is called when it acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyGrant {
    /// The key's id.
    pub key_id: String,
    /// The org it acts for.
    pub org_id: OrgId,
    /// Its scopes.
    pub scopes: Scopes,
    /// The name it acts under (see [`api_key_name`]).
    pub name: String,
    /// When it last authenticated a request, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKeyGrant {
    /// Whether a request at `now` should record itself as the key's last use.
    pub fn needs_touch(&self, now: DateTime<Utc>) -> bool {
        last_use_is_stale(self.last_used_at, now)
    }
}

#[derive(Insertable)]
#[diesel(table_name = api_keys)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct NewApiKeyRow<'a> {
    id: &'a str,
    org_id: &'a str,
    name: Option<&'a str>,
    secret_hash: &'a str,
    prefix: &'a str,
    scopes: String,
    created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_keys)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ApiKeyRow {
    id: String,
    org_id: String,
    name: Option<String>,
    scopes: String,
    prefix: Option<String>,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl TryFrom<ApiKeyRow> for ApiKeyRecord {
    type Error = StorageError;

    fn try_from(row: ApiKeyRow) -> Result<Self, StorageError> {
        Ok(ApiKeyRecord {
            scopes: parse_scopes(&row.scopes)?,
            id: row.id,
            org_id: OrgId::new(row.org_id),
            name: row.name,
            prefix: row.prefix,
            created_at: from_stored_time(row.created_at),
            last_used_at: row.last_used_at.map(from_stored_time),
            revoked_at: row.revoked_at.map(from_stored_time),
        })
    }
}

fn parse_scopes(text: &str) -> Result<Scopes, StorageError> {
    Scopes::parse(text).map_err(|error| StorageError::Corrupt(format!("api_keys.scopes: {error}")))
}

/// Stores a key. Fails with [`StorageError::NotFound`] when the org does not exist.
pub fn insert(connection: &mut AnyConnection, key: &NewApiKey) -> Result<(), StorageError> {
    crate::orgs::get(connection, &key.org_id)?;
    let row = NewApiKeyRow {
        id: &key.id,
        org_id: key.org_id.as_str(),
        name: key.name.as_deref(),
        secret_hash: &key.secret_hash,
        prefix: &key.prefix,
        scopes: key.scopes.to_string(),
        created_at: to_stored_time(key.created_at),
    };
    diesel::insert_into(api_keys::table).values(&row).execute(connection)?;
    Ok(())
}

/// The grant of the unrevoked key whose secret hashes to `secret_hash`, if there is one.
pub fn find_active_by_hash(
    connection: &mut AnyConnection,
    secret_hash: &str,
) -> Result<Option<ApiKeyGrant>, StorageError> {
    let found = api_keys::table
        .filter(api_keys::secret_hash.eq(secret_hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .first::<ApiKeyRow>(connection)
        .optional()?;
    found
        .map(|row| {
            Ok(ApiKeyGrant {
                scopes: parse_scopes(&row.scopes)?,
                name: api_key_name(row.name.as_deref(), row.prefix.as_deref(), &row.id),
                key_id: row.id,
                org_id: OrgId::new(row.org_id),
                last_used_at: row.last_used_at.map(from_stored_time),
            })
        })
        .transpose()
}

/// Records that the key authenticated a request at `now`.
pub fn touch(
    connection: &mut AnyConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    diesel::update(api_keys::table.find(id))
        .set(api_keys::last_used_at.eq(Some(to_stored_time(now))))
        .execute(connection)?;
    Ok(())
}

/// Every key of the org, revoked ones included, in creation order.
pub fn list(
    connection: &mut AnyConnection,
    org_id: &OrgId,
) -> Result<Vec<ApiKeyRecord>, StorageError> {
    api_keys::table
        .filter(api_keys::org_id.eq(org_id.as_str()))
        .order((api_keys::created_at.asc(), api_keys::id.asc()))
        .select(ApiKeyRow::as_select())
        .load(connection)?
        .into_iter()
        .map(ApiKeyRecord::try_from)
        .collect()
}

/// The org's key with this id, revoked or not, or [`StorageError::NotFound`].
pub fn get(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: &str,
) -> Result<ApiKeyRecord, StorageError> {
    api_keys::table
        .filter(api_keys::id.eq(id))
        .filter(api_keys::org_id.eq(org_id.as_str()))
        .select(ApiKeyRow::as_select())
        .first(connection)?
        .try_into()
}

/// Revokes the org's key `id` at `now` (a key already revoked keeps its first `revokedAt`) and returns it.
pub fn revoke(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<ApiKeyRecord, StorageError> {
    get(connection, org_id, id)?;
    diesel::update(api_keys::table.find(id).filter(api_keys::revoked_at.is_null()))
        .set(api_keys::revoked_at.eq(Some(to_stored_time(now))))
        .execute(connection)?;
    get(connection, org_id, id)
}
