//! The `traceline` binary: serve the API, apply migrations, the operator commands of spec §9 (and backups), and
//! the candidate's capture client.

mod allocator;
mod args;
mod backup;
mod database;
mod failure;
mod operator;
mod serve;
mod user;

use std::process::ExitCode;

use clap::Parser;

use args::{ApiKeyCommand, Cli, Command, OrgCommand};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match run(Cli::parse().command) {
        Ok(code) => code,
        Err(error) => {
            failure::report(&error);
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    let done = match command {
        Command::Client(command) => return traceline_client::run(command),
        Command::Backup(args) => backup::backup(&args),
        Command::Restore(args) => backup::restore(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Migrate(database) => operator::migrate(&database),
        Command::Org { command: OrgCommand::Create { name, database } } => {
            operator::create_org(&database, &name)
        }
        Command::Apikey { command: ApiKeyCommand::Create { org, scopes, name, database } } => {
            operator::create_api_key(&database, &org, &scopes, name.as_deref())
        }
        Command::Apikey { command: ApiKeyCommand::List { org, database } } => {
            operator::list_api_keys(&database, &org)
        }
        Command::Apikey { command: ApiKeyCommand::Revoke { org, id, database } } => {
            operator::revoke_api_key(&database, &org, &id)
        }
        Command::User { action } => user::run(action),
    };
    done.map(|()| ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
