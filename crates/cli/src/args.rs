//! The command line: subcommands, flags and the environment variables they fall back to.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use traceline_api::client_address::TrustedProxies;
use traceline_api::config::{
    DEFAULT_AUTH_FAILURES_PER_WINDOW, DEFAULT_BATCH_BODY_LIMIT_BYTES, DEFAULT_BODY_LIMIT_BYTES,
    DEFAULT_INGEST_RATE_PER_MIN, DEFAULT_IP_RATE_PER_MIN,
};
use traceline_api::Settings;
use traceline_storage::{DatabaseUrl, DEFAULT_CONNECTION_TIMEOUT, DEFAULT_WRITE_WAIT};

/// `traceline`: the server, its operator commands, and the candidate's capture client.
#[derive(Parser)]
#[command(name = "traceline", version, about = "Records AI-assisted coding sessions for reviewers")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
        action: UserAction,
    },
    /// Write a consistent copy of the SQLite database to a file, while the server runs (PostgreSQL: use
    /// pg_dump).
    Backup(BackupArgs),
    /// Replace the SQLite database with a backup; the server must be stopped (PostgreSQL: use pg_restore).
    Restore(RestoreArgs),
    /// The candidate's side: start, install, hook, explain, flush, done, status.
    #[command(flatten)]
    Client(traceline_client::ClientCommand),
}

#[derive(Subcommand)]
pub(crate) enum OrgCommand {
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
pub(crate) enum ApiKeyCommand {
    /// Create an API key for an org; prints it as JSON (it is shown only this once).
    Create {
        /// The org's id.
        #[arg(long)]
        org: String,
        /// Comma-separated scopes: read, write.
        #[arg(long, default_value = "read,write")]
        scopes: String,
        /// A name to tell the key apart in listings and the audit log.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List an org's API keys, revoked ones included (never the keys themselves); prints JSON.
    List {
        /// The org's id.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke an org's API key; running servers refuse it within 5 seconds. Prints JSON.
    Revoke {
        /// The org's id.
        #[arg(long)]
        org: String,
        /// The key's id, as `apikey list` shows it.
        id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

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

#[derive(Args)]
pub(crate) struct DatabaseArgs {
    /// A SQLite file path (or sqlite://PATH), or a postgres:// URL.
    #[arg(long, env = "DATABASE_URL", default_value = "traceline.db")]
    database_url: String,
}

impl DatabaseArgs {
    pub(crate) fn url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.database_url)
    }
}

#[derive(Args)]
pub(crate) struct BackupArgs {
    /// The file to write; replaced only once the new copy is complete and checked.
    #[arg(long)]
    pub(crate) to: PathBuf,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}

#[derive(Args)]
pub(crate) struct RestoreArgs {
    /// The backup to restore, as `traceline backup` wrote it.
    #[arg(long)]
    pub(crate) from: PathBuf,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TRACELINE_BIND", default_value = "127.0.0.1:8080")]
    pub(crate) bind: String,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "TRACELINE_BODY_LIMIT_BYTES", default_value_t = DEFAULT_BODY_LIMIT_BYTES)]
    body_limit_bytes: usize,
    /// Largest body of the batch ingest route, in bytes.
    #[arg(long, env = "TRACELINE_BATCH_BODY_LIMIT_BYTES", default_value_t = DEFAULT_BATCH_BODY_LIMIT_BYTES)]
    batch_body_limit_bytes: usize,
    /// Database connections in the pool.
    #[arg(long, env = "TRACELINE_DB_POOL_SIZE", default_value_t = 8)]
    db_pool_size: u32,
    /// Milliseconds a request waits for a database connection before it is answered 503.
    #[arg(long, env = "TRACELINE_DB_CONNECT_TIMEOUT_MS",
          default_value_t = u64::try_from(DEFAULT_CONNECTION_TIMEOUT.as_millis()).unwrap_or(2000),
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    db_connect_timeout_ms: u64,
    /// PostgreSQL: milliseconds a write waits for its turn at a connection, in arrival order, before it is
    /// answered 503.
    #[arg(long, env = "TRACELINE_DB_WRITE_WAIT_MS",
          default_value_t = u64::try_from(DEFAULT_WRITE_WAIT.as_millis()).unwrap_or(15_000),
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    db_write_wait_ms: u64,
    /// Requests per minute from one client IP over all routes; 0 turns the limit off.
    #[arg(long, env = "TRACELINE_IP_RATE_PER_MIN", default_value_t = DEFAULT_IP_RATE_PER_MIN)]
    ip_rate_per_min: u32,
    /// Events per minute one candidate credential may ingest (a batch costs its event count); 0 turns it off.
    #[arg(long, env = "TRACELINE_INGEST_RATE_PER_MIN", default_value_t = DEFAULT_INGEST_RATE_PER_MIN)]
    ingest_rate_per_min: u32,
    /// Failed credential checks one client address (IPv6: its /64) may make in 10 minutes before every route
    /// that reads a credential answers it 429 until the 10 minutes pass; 0 turns the limit off.
    #[arg(long, env = "TRACELINE_AUTH_FAILURES_PER_10MIN", default_value_t = DEFAULT_AUTH_FAILURES_PER_WINDOW)]
    auth_failures_per_10min: u32,
    /// Comma-separated addresses or CIDR networks of reverse proxies whose X-Forwarded-For / Forwarded headers
    /// name the client; empty trusts none.
    #[arg(long, env = "TRACELINE_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: TrustedProxies,
    /// Where browsers reach the server, e.g. `https://review.example.com`: the origin the web UI's requests must
    /// come from; https:// also marks the sign-in cookie Secure.
    #[arg(long, env = "TRACELINE_PUBLIC_URL", value_parser = parse_public_url)]
    public_url: Option<String>,
    /// Let webhooks post to loopback, link-local and private addresses (refused by default).
    #[arg(long, env = "TRACELINE_WEBHOOK_ALLOW_PRIVATE", default_value = "false",
          value_parser = clap::builder::BoolishValueParser::new())]
    webhook_allow_private: bool,
    /// Serve `GET /metrics` (Prometheus text format, no authentication); `off` answers it 404.
    #[arg(long, env = "TRACELINE_METRICS", default_value = "on",
          value_parser = clap::builder::BoolishValueParser::new())]
    metrics: bool,
    /// Milliseconds before the first retry of a failed webhook delivery; each later one waits twice as long (at
    /// most an hour), for 24 hours.
    #[arg(long, env = "TRACELINE_WEBHOOK_RETRY_BASE_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    webhook_retry_base_ms: u64,
    /// Seconds between two retention sweeps (at most an hour).
    #[arg(long, env = "TRACELINE_RETENTION_SWEEP_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    retention_sweep_secs: u64,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
}

impl ServeArgs {
    /// The server's settings.
    pub(crate) fn settings(&self) -> Settings {
        let mut settings = Settings::new(self.database.url());
        settings.body_limit_bytes = self.body_limit_bytes;
        settings.batch_body_limit_bytes = self.batch_body_limit_bytes;
        settings.pool.max_connections = self.db_pool_size;
        settings.pool.connection_timeout = Duration::from_millis(self.db_connect_timeout_ms);
        settings.pool.write_wait = Duration::from_millis(self.db_write_wait_ms);
        settings.ip_rate_per_min = self.ip_rate_per_min;
        settings.ingest_rate_per_min = self.ingest_rate_per_min;
        settings.auth_failures_per_window = self.auth_failures_per_10min;
        settings.trusted_proxies = self.trusted_proxies.clone();
        settings.public_url = self.public_url.clone();
        settings.webhooks.allow_private = self.webhook_allow_private;
        settings.metrics = self.metrics;
        settings.webhooks.retry.base = chrono::Duration::milliseconds(
            i64::try_from(self.webhook_retry_base_ms).unwrap_or(30_000),
        );
        settings.retention_sweep_interval = Duration::from_secs(self.retention_sweep_secs);
        settings
    }
}

/// `--public-url` must be an absolute http(s) URL; a trailing slash is dropped.
fn parse_public_url(text: &str) -> Result<String, String> {
    let lower = text.to_ascii_lowercase();
    let host = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    match host {
        Some(host) if !host.is_empty() && !host.starts_with('/') => {
            Ok(text.trim_end_matches('/').to_owned())
        }
        _ => Err(format!("'{text}' is not an http:// or https:// URL")),
    }
}
