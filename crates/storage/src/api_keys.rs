//! Org API keys: stored by the hash of their secret, looked up on every reviewer request.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use traceline_domain::{OrgId, Scopes};

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::to_stored_time;
use crate::schema::api_keys;

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
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// What a valid key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyGrant {
    /// The key's id.
    pub key_id: String,
    /// The org it acts for.
    pub org_id: OrgId,
    /// Its scopes.
    pub scopes: Scopes,
}

#[derive(Insertable)]
#[diesel(table_name = api_keys)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct NewApiKeyRow<'a> {
    id: &'a str,
    org_id: &'a str,
    secret_hash: &'a str,
    scopes: String,
    created_at: chrono::NaiveDateTime,
}

/// Stores a key. Fails with [`StorageError::NotFound`] when the org does not exist.
pub fn insert(connection: &mut AnyConnection, key: &NewApiKey) -> Result<(), StorageError> {
    crate::orgs::get(connection, &key.org_id)?;
    let row = NewApiKeyRow {
        id: &key.id,
        org_id: key.org_id.as_str(),
        secret_hash: &key.secret_hash,
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
        .select((api_keys::id, api_keys::org_id, api_keys::scopes))
        .first::<(String, String, String)>(connection)
        .optional()?;
    found
        .map(|(key_id, org_id, scopes)| {
            let scopes =
                Scopes::parse(&scopes).map_err(|error| StorageError::Corrupt(error.to_string()))?;
            Ok(ApiKeyGrant { key_id, org_id: OrgId::new(org_id), scopes })
        })
        .transpose()
}
