//! The operator commands of the `traceline` binary (spec §9, §11): migrate, create an org, an API key, a user.
//!
//! Each returns the JSON it prints, so tests can check the output without a process.

use anyhow::Context;
use chrono::Utc;
use serde_json::{json, Value};
use traceline_domain::api_key_record::secret_prefix;
use traceline_domain::time::to_storage_precision;
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

/// Creates an API key for an existing org: `{"apiKey": "psk_live_…", "id", "orgId", "scopes"}`.
pub fn create_api_key(database: &Database, org_id: &str, scopes: &str) -> anyhow::Result<Value> {
    let scopes = Scopes::parse(scopes)?;
    let org_id = OrgId::new(org_id);
    let (secret, key) = new_key(&org_id, scopes, None)?;
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
