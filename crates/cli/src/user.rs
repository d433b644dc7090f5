//! `traceline user create` (spec §11): a reviewer account for the web UI, its password read from stdin or
//! generated and printed once.

use std::io::{IsTerminal as _, Read as _};

use anyhow::Context as _;
use traceline_api::commands::{self, UserCommand};

use crate::args::UserAction;
use crate::database::open_migrated;
use crate::operator::print_json;

/// Runs the action against the migrated database and prints its JSON.
pub(crate) fn run(action: UserAction) -> anyhow::Result<()> {
    match action {
        UserAction::Create { org, email, name, role, database } => {
            let password = password_from_stdin()?;
            let (database, _in_use) = open_migrated(&database.url())?;
            let created = commands::create_user(
                &database,
                UserCommand { org_id: org, email, name, role, password },
            )?;
            print_json(&created)
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
