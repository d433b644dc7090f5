//! The `traceline` binary: serve the API, apply migrations, and the operator commands of spec §9.

use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use traceline_api::{commands, AppState, Settings};
use traceline_storage::{Database, DatabaseUrl};

mod user;

#[derive(Parser)]
#[command(name = "traceline", version, about = "Records AI-assisted coding sessions for reviewers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the HTTP API.
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage orgs.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Manage org API keys.
    Apikey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Manage reviewer accounts of the web UI.
    User {
        #[command(subcommand)]
        action: user::UserAction,
    },
    /// The candidate's side: start, install, hook, explain, flush, done, status.
    #[command(flatten)]
    Client(traceline_client::ClientCommand),
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an org and a read+write API key for it; prints both as JSON.
    Create {
        /// Display name of the org.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create an API key for an org; prints it as JSON (it is shown only this once).
    Create {
        /// The org's id.
        #[arg(long)]
        org: String,
        /// Comma-separated scopes: read, write.
        #[arg(long, default_value = "read,write")]
        scopes: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Args)]
pub(crate) struct DatabaseArgs {
    /// A SQLite file path (or sqlite://PATH), or a postgres:// URL.
    #[arg(long, env = "DATABASE_URL", default_value = "traceline.db")]
    database_url: String,
}

impl DatabaseArgs {
    fn open(&self) -> Database {
        let settings = Settings::new(DatabaseUrl::parse(&self.database_url));
        Database::open(&settings.database_url, &settings.pool)
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TRACELINE_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "TRACELINE_BODY_LIMIT_BYTES", default_value_t = traceline_api::config::DEFAULT_BODY_LIMIT_BYTES)]
    body_limit_bytes: usize,
    /// Largest body of the batch ingest route, in bytes.
    #[arg(long, env = "TRACELINE_BATCH_BODY_LIMIT_BYTES", default_value_t = traceline_api::config::DEFAULT_BATCH_BODY_LIMIT_BYTES)]
    batch_body_limit_bytes: usize,
    /// Database connections in the pool.
    #[arg(long, env = "TRACELINE_DB_POOL_SIZE", default_value_t = 8)]
    db_pool_size: u32,
    /// Milliseconds a request waits for a database connection before it is answered 503.
    #[arg(long, env = "TRACELINE_DB_CONNECT_TIMEOUT_MS",
          default_value_t = u64::try_from(traceline_storage::DEFAULT_CONNECTION_TIMEOUT.as_millis()).unwrap_or(2000),
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    db_connect_timeout_ms: u64,
    /// Requests per minute from one client IP over all routes; 0 turns the limit off.
    #[arg(long, env = "TRACELINE_IP_RATE_PER_MIN", default_value_t = traceline_api::config::DEFAULT_IP_RATE_PER_MIN)]
    ip_rate_per_min: u32,
    /// Events per minute one candidate credential may ingest (a batch costs its event count); 0 turns it off.
    #[arg(long, env = "TRACELINE_INGEST_RATE_PER_MIN", default_value_t = traceline_api::config::DEFAULT_INGEST_RATE_PER_MIN)]
    ingest_rate_per_min: u32,
    /// Where browsers reach the server, e.g. https://review.example.com: the origin the web UI's requests must
    /// come from; https:// also marks the sign-in cookie Secure.
    #[arg(long, env = "TRACELINE_PUBLIC_URL", value_parser = parse_public_url)]
    public_url: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

fn main() -> anyhow::Result<ExitCode> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let done = match Cli::parse().command {
        Command::Client(command) => return traceline_client::run(command),
        Command::Serve(args) => serve(args),
        Command::Migrate(database) => commands::migrate(&database.open()).map(|applied| {
            log::info!("applied {} migration(s)", applied.len());
        }),
        Command::Org { command: OrgCommand::Create { name, database } } => migrated(&database)
            .and_then(|database| commands::create_org(&database, &name))
            .and_then(|org| print_json(&org)),
        Command::Apikey { command: ApiKeyCommand::Create { org, scopes, database } } => {
            migrated(&database)
                .and_then(|database| commands::create_api_key(&database, &org, &scopes))
                .and_then(|key| print_json(&key))
        }
        Command::User { action } => migrated(action.database())
            .and_then(|database| user::run(action, &database))
            .and_then(|created| print_json(&created)),
    };
    done.map(|()| ExitCode::SUCCESS)
}

/// `--public-url` must be an absolute http(s) URL.
fn parse_public_url(text: &str) -> Result<String, String> {
    let lower = text.to_ascii_lowercase();
    let host = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    match host {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(text.trim_end_matches('/').to_owned()),
        _ => Err(format!("'{text}' is not an http:// or https:// URL")),
    }
}

/// Operator commands migrate first, so `org create` works on a brand-new database file.
fn migrated(database: &DatabaseArgs) -> anyhow::Result<Database> {
    let database = database.open();
    commands::migrate(&database)?;
    Ok(database)
}

#[expect(clippy::print_stdout, reason = "the command's output is its JSON on stdout")]
fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[actix_web::main]
async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut settings = Settings::new(DatabaseUrl::parse(&args.database.database_url));
    settings.body_limit_bytes = args.body_limit_bytes;
    settings.batch_body_limit_bytes = args.batch_body_limit_bytes;
    settings.pool.max_connections = args.db_pool_size;
    settings.pool.connection_timeout = std::time::Duration::from_millis(args.db_connect_timeout_ms);
    settings.ip_rate_per_min = args.ip_rate_per_min;
    settings.ingest_rate_per_min = args.ingest_rate_per_min;
    settings.public_url = args.public_url;
    let state = AppState::new(settings);
    let database = state.database.clone();
    let applied = actix_web::web::block(move || commands::migrate(&database)).await??;
    if !applied.is_empty() {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    let listener =
        TcpListener::bind(&args.bind).with_context(|| format!("binding {}", args.bind))?;
    let address = listener.local_addr()?;
    log::info!("serving {} on http://{address}", state.settings.database_url);
    announce(address);
    traceline_api::run(listener, state)?.await?;
    log::info!("stopped");
    Ok(())
}

/// One line on stdout once the port is bound, so scripts and tests that ask for port 0 learn the real one.
#[expect(clippy::print_stdout, reason = "the listening address is part of the command's output")]
fn announce(address: std::net::SocketAddr) {
    println!("traceline listening on http://{address}");
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
