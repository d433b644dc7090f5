//! `traceline user create` (spec §11): a reviewer account for the web UI, its password read from stdin or
//! generated and printed once.

use std::io::{IsTerminal as _, Read as _};

use anyhow::Context as _;
use clap::Subcommand;
use traceline_api::commands::{self, UserCommand};
use traceline_storage::Database;

use crate::DatabaseArgs;

/// `traceline user …`.
#[derive(Subcommand)]
pub(crate) enum UserAction {
    /// Create a user; the password is read from stdin, or generated and printed once when stdin is a terminal
    /// or empty. Prints the user as JSON.
    Create {
        /// The org's id.
        #[arg(long)]
        org: String,
        /// The sign-in address.
        #[arg(long)]
        email: String,
        /// The display name (default: the part of the address before the @).
        #[arg(long)]
        name: Option<String>,
        /// admin (also manages users and API keys) or reviewer.
        #[arg(long, default_value = "reviewer")]
        role: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

impl UserAction {
    /// The database the action works on.
    pub(crate) fn database(&self) -> &DatabaseArgs {
        match self {
            UserAction::Create { database, .. } => database,
        }
    }
}

/// Runs the action against a migrated database; returns the JSON to print.
pub(crate) fn run(action: UserAction, database: &Database) -> anyhow::Result<serde_json::Value> {
    match action {
        UserAction::Create { org, email, name, role, database: _ } => {
            let password = password_from_stdin()?;
            commands::create_user(
                database,
                UserCommand { org_id: org, email, name, role, password },
            )
        }
    }
}

/// The password piped in, without its line ending; `None` when there is none to read.
fn password_from_stdin() -> anyhow::Result<Option<String>> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut text = String::new();
    stdin.read_to_string(&mut text).context("reading the password from stdin")?;
    let password = text.strip_suffix('\n').unwrap_or(&text);
    let password = password.strip_suffix('\r').unwrap_or(password);
    Ok((!password.is_empty()).then(|| password.to_owned()))
}
