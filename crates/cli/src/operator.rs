//! The operator commands that provision: `migrate`, `org create`, `apikey create|list|revoke`.

use serde_json::Value;
use traceline_api::commands;

use crate::args::DatabaseArgs;
use crate::database::open_migrated;

/// `traceline migrate`: applies pending migrations and exits.
pub(crate) fn migrate(database: &DatabaseArgs) -> anyhow::Result<()> {
    open_migrated(&database.url()).map(drop)
}

/// `traceline org create`: prints the org and its first key.
pub(crate) fn create_org(database: &DatabaseArgs, name: &str) -> anyhow::Result<()> {
    let (database, _in_use) = open_migrated(&database.url())?;
    print_json(&commands::create_org(&database, name)?)
}

/// `traceline apikey create`: prints the new key.
pub(crate) fn create_api_key(
    database: &DatabaseArgs,
    org: &str,
    scopes: &str,
    name: Option<&str>,
) -> anyhow::Result<()> {
    let (database, _in_use) = open_migrated(&database.url())?;
    print_json(&commands::create_api_key(&database, org, scopes, name)?)
}

/// `traceline apikey list`: prints the org's keys.
pub(crate) fn list_api_keys(database: &DatabaseArgs, org: &str) -> anyhow::Result<()> {
    let (database, _in_use) = open_migrated(&database.url())?;
    print_json(&commands::list_api_keys(&database, org)?)
}

/// `traceline apikey revoke`: revokes one key and prints it.
pub(crate) fn revoke_api_key(database: &DatabaseArgs, org: &str, id: &str) -> anyhow::Result<()> {
    let (database, _in_use) = open_migrated(&database.url())?;
    print_json(&commands::revoke_api_key(&database, org, id)?)
}

/// Prints a command's result, the one thing it writes on stdout.
#[expect(clippy::print_stdout, reason = "the command's output is its JSON on stdout")]
pub(crate) fn print_json(value: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
