//! The operator commands of the `traceline` binary (spec §9, §10.3, §11): migrate, create an org, create, list
//! and revoke API keys, create a user.
//!
//! Each returns the JSON it prints, so tests can check the output without a process.

use anyhow::Context;
use chrono::Utc;
use serde_json::{json, Value};
use traceline_domain::api_key_record::secret_prefix;
use traceline_domain::time::{format_timestamp, to_storage_precision};
use traceline_domain::user::{check_password, generate_password, normalize_email, Role, User};
use traceline_domain::{ApiKeySecret, Org, OrgId, OrgName, Scopes};
use traceline_storage::api_keys::{self, NewApiKey};
use traceline_storage::{migrations, orgs, users, Database, StorageError};
use uuid::Uuid;

use crate::password::hash_password;
pub use crate::random::os_random;

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
    let (secret, key) = new_key(&org.id, Scopes::READ_WRITE, None)?;
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

/// Creates an API key for an existing org: `{"apiKey": "psk_live_…", "id", "orgId", "scopes", "name"}`.
pub fn create_api_key(
    database: &Database,
    org_id: &str,
    scopes: &str,
    name: Option<&str>,
) -> anyhow::Result<Value> {
    let scopes = Scopes::parse(scopes)?;
    let org_id = OrgId::new(org_id);
    let name = name.map(str::trim).filter(|name| !name.is_empty()).map(str::to_owned);
    let (secret, key) = new_key(&org_id, scopes, name.clone())?;
    let key_id = key.id.clone();
    database
        .write(move |connection| api_keys::insert(connection, &key))
        .map_err(|error| org_error(error, &org_id, "storing the API key"))?;
    Ok(json!({
        "apiKey": secret.expose(),
        "id": key_id,
        "orgId": org_id.as_str(),
        "scopes": scopes.to_string(),
        "name": name,
    }))
}

/// Lists an org's API keys, revoked ones included, as `GET /v1/api-keys` does: `{"apiKeys": [...]}`.
pub fn list_api_keys(database: &Database, org_id: &str) -> anyhow::Result<Value> {
    let org_id = OrgId::new(org_id);
    let listed = org_id.clone();
    let keys = database
        .read(move |connection| {
            orgs::get(connection, &listed)?;
            api_keys::list(connection, &listed)
        })
        .map_err(|error| org_error(error, &org_id, "listing the API keys"))?;
    Ok(json!({"apiKeys": keys}))
}

/// Revokes an org's API key: `{"ok": true, "id", "revokedAt"}`. Servers refuse it once their cached lookups of it
/// expire, within 5 seconds. Revoking a revoked key changes nothing and reports its first `revokedAt`.
pub fn revoke_api_key(database: &Database, org_id: &str, key_id: &str) -> anyhow::Result<Value> {
    let org_id = OrgId::new(org_id);
    let (owner, id) = (org_id.clone(), key_id.to_owned());
    let now = to_storage_precision(Utc::now());
    let key = database
        .write(move |connection| api_keys::revoke(connection, &owner, &id, now))
        .map_err(|error| match error {
            StorageError::NotFound => {
                anyhow::anyhow!("org {org_id} has no API key with id {key_id}")
            }
            other => anyhow::Error::new(other).context("revoking the API key"),
        })?;
    let revoked_at = key.revoked_at.map(|at| format_timestamp(&at));
    Ok(json!({"ok": true, "id": key.id, "revokedAt": revoked_at}))
}

fn org_error(error: StorageError, org_id: &OrgId, doing: &'static str) -> anyhow::Error {
    match error {
        StorageError::NotFound => anyhow::anyhow!("no org with id {org_id}"),
        other => anyhow::Error::new(other).context(doing),
    }
}

/// A fresh API key for `org_id`: its secret (to show once) and what is stored of it.
pub(crate) fn new_key(
    org_id: &OrgId,
    scopes: Scopes,
    name: Option<String>,
) -> anyhow::Result<(ApiKeySecret, NewApiKey)> {
    let secret = ApiKeySecret::generate(&mut os_random).context("reading random bytes")?;
    let key = NewApiKey {
        id: Uuid::new_v4().to_string(),
        org_id: org_id.clone(),
        name,
        secret_hash: secret.hash(),
        prefix: secret_prefix(secret.expose()),
        scopes,
        created_at: to_storage_precision(Utc::now()),
    };
    Ok((secret, key))
}

/// A user to create from the command line (`traceline user create`).
#[derive(Debug, Clone)]
pub struct UserCommand {
    /// The org's id.
    pub org_id: String,
    /// The sign-in address.
    pub email: String,
    /// The display name; the address's local part when absent.
    pub name: Option<String>,
    /// `admin` or `reviewer`.
    pub role: String,
    /// The password read from stdin; `None` generates one, printed once.
    pub password: Option<String>,
}

/// Creates a user (spec §11): `{"user": {...}, "password"?}`, the password only when it was generated.
pub fn create_user(database: &Database, command: UserCommand) -> anyhow::Result<Value> {
    let email = normalize_email(&command.email)
        .with_context(|| format!("'{}' is not an e-mail address", command.email))?;
    let role = Role::parse(&command.role)
        .with_context(|| format!("unknown role '{}' (expected admin or reviewer)", command.role))?;
    let generated = command.password.is_none();
    let password = match command.password {
        Some(password) => password,
        None => generate_password(&mut os_random).context("reading random bytes")?,
    };
    check_password(&password).map_err(|problem| anyhow::anyhow!("the password {problem}"))?;
    let name = command
        .name
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| traceline_domain::user::default_name(&email));
    let user = User {
        id: Uuid::now_v7().to_string(),
        org_id: OrgId::new(command.org_id),
        email,
        name,
        role,
        created_at: to_storage_precision(Utc::now()),
        disabled_at: None,
    };
    let hash = hash_password(&password)?;
    let stored = user.clone();
    database.write(move |connection| users::insert(connection, &stored, &hash)).map_err(
        |error| match error {
            StorageError::NotFound => anyhow::anyhow!("no org with id {}", user.org_id),
            StorageError::Conflict { .. } => {
                anyhow::anyhow!("a user with the address {} already exists", user.email)
            }
            other => anyhow::Error::new(other).context("storing the user"),
        },
    )?;
    let mut printed = json!({"user": user});
    if generated {
        printed["password"] = json!(password);
    }
    Ok(printed)
}
