//! The operator commands of the `traceline` binary (spec §9): migrate, create an org, create an API key.
//!
//! Each returns the JSON it prints, so tests can check the output without a process.

use anyhow::Context;
use chrono::Utc;
use serde_json::{json, Value};
use traceline_domain::time::to_storage_precision;
use traceline_domain::{ApiKeySecret, Org, OrgId, OrgName, Scopes};
use traceline_storage::api_keys::{self, NewApiKey};
use traceline_storage::{migrations, orgs, Database, StorageError};
use uuid::Uuid;

/// Fills a buffer from the operating system's CSPRNG.
pub fn os_random(buffer: &mut [u8]) -> Result<(), getrandom::Error> {
    getrandom::fill(buffer)
}

/// Applies pending migrations; returns the versions applied.
pub fn migrate(database: &Database) -> anyhow::Result<Vec<String>> {
    migrations::run_pending(database).context("applying migrations")
}

/// Creates an org and a read+write API key for it: `{"org": {"id", "name"}, "apiKey": "psk_live_…"}`.
pub fn create_org(database: &Database, name: &str) -> anyhow::Result<Value> {
    let name = OrgName::parse(name)?;
    let org = Org {
        id: OrgId::new(Uuid::new_v4().to_string()),
        name,
        created_at: to_storage_precision(Utc::now()),
    };
    let (secret, key) = new_key(&org.id, Scopes::READ_WRITE)?;
    let stored = org.clone();
    database
        .write(move |connection| {
            orgs::insert(connection, &stored)?;
            api_keys::insert(connection, &key)
        })
        .context("storing the org")?;
    Ok(
        json!({"org": {"id": org.id.as_str(), "name": org.name.as_str()}, "apiKey": secret.expose()}),
    )
}

/// Creates an API key for an existing org: `{"apiKey": "psk_live_…", "id", "orgId", "scopes"}`.
pub fn create_api_key(database: &Database, org_id: &str, scopes: &str) -> anyhow::Result<Value> {
    let scopes = Scopes::parse(scopes)?;
    let org_id = OrgId::new(org_id);
    let (secret, key) = new_key(&org_id, scopes)?;
    let key_id = key.id.clone();
    database.write(move |connection| api_keys::insert(connection, &key)).map_err(|error| {
        match error {
            StorageError::NotFound => anyhow::anyhow!("no org with id {org_id}"),
            other => anyhow::Error::new(other).context("storing the API key"),
        }
    })?;
    Ok(
        json!({"apiKey": secret.expose(), "id": key_id, "orgId": org_id.as_str(), "scopes": scopes.to_string()}),
    )
}

fn new_key(org_id: &OrgId, scopes: Scopes) -> anyhow::Result<(ApiKeySecret, NewApiKey)> {
    let secret = ApiKeySecret::generate(&mut os_random).context("reading random bytes")?;
    let key = NewApiKey {
        id: Uuid::new_v4().to_string(),
        org_id: org_id.clone(),
        secret_hash: secret.hash(),
        scopes,
        created_at: to_storage_precision(Utc::now()),
    };
    Ok((secret, key))
}
