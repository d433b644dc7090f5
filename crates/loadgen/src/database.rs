//! A fresh database per backend run: a SQLite file in a temporary folder, or a PostgreSQL database created
//! with `psql` and dropped again when the run ends, failed or not.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};

use crate::say;

/// Overrides the PostgreSQL server the bench creates its database on.
const URL_VAR: &str = "TRACELINE_BENCH_DATABASE_URL";

/// The maintenance database the bench connects to when [`URL_VAR`] is unset.
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database engine the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The engine's name as the docs spell it.
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A database that exists until this is dropped.
pub enum BenchDatabase {
    /// A SQLite file alone in its folder.
    Sqlite {
        /// The folder, removed on drop.
        dir: PathBuf,
        /// The URL the server is given.
        url: String,
    },
    /// A database of its own on a PostgreSQL server.
    Postgres {
        /// The maintenance database `psql` creates and drops it from.
        admin_url: String,
        /// Its name.
        name: String,
        /// The URL the server is given.
        url: String,
    },
}

impl BenchDatabase {
    /// Creates an empty database for `backend`; SQLite's goes under `work_dir`.
    pub fn create(backend: Backend, work_dir: &Path) -> Result<BenchDatabase> {
        BenchDatabase::create_named(backend, work_dir, "bench")
    }

    /// [`BenchDatabase::create`] for one of several databases of a run, told apart by `name` (a word).
    pub fn create_named(backend: Backend, work_dir: &Path, name: &str) -> Result<BenchDatabase> {
        let suffix = if name == "bench" { String::new() } else { format!("-{name}") };
        match backend {
            Backend::Sqlite => {
                let dir = work_dir.join(format!("sqlite{suffix}"));
                fs::create_dir_all(&dir)
                    .with_context(|| format!("could not create {}", dir.display()))?;
                let url = format!("sqlite://{}", dir.join("bench.db").display());
                Ok(BenchDatabase::Sqlite { dir, url })
            }
            Backend::Postgres => {
                let admin_url = match env::var(URL_VAR) {
                    Ok(url) if !url.is_empty() => url,
                    _ => DEFAULT_URL.to_owned(),
                };
                let name =
                    format!("traceline_bench_{}{}", std::process::id(), suffix.replace('-', "_"));
                psql(&admin_url, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
                psql(&admin_url, &format!("CREATE DATABASE {name}"))?;
                let url = with_database(&admin_url, &name)?;
                say(&format!("  created database {name} on {}", host_of(&admin_url)));
                Ok(BenchDatabase::Postgres { admin_url, name, url })
            }
        }
    }

    /// The URL to hand `traceline`.
    pub fn url(&self) -> &str {
        match self {
            BenchDatabase::Sqlite { url, .. } | BenchDatabase::Postgres { url, .. } => url,
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        let result = match self {
            BenchDatabase::Sqlite { dir, .. } => fs::remove_dir_all(&*dir)
                .with_context(|| format!("could not remove {}", dir.display())),
            BenchDatabase::Postgres { admin_url, name, .. } => {
                psql(admin_url, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            }
        };
        if let Err(error) = result {
            say(&format!("warning: cleaning up the bench database failed: {error:#}"));
        }
    }
}

/// Runs one SQL statement with `psql` against `url`.
fn psql(url: &str, sql: &str) -> Result<()> {
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .context("could not run psql (is the PostgreSQL client installed?)")?;
    if !output.status.success() {
        bail!(
            "`psql` on {} failed to run `{sql}` ({}): {}",
            host_of(url),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The host (and port) of a PostgreSQL URL, which is all a message needs: its user info may hold a password.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority.rsplit_once('@').map_or(authority, |(_, host)| host)
}

/// `url` with its database name replaced by `name`, query string kept.
fn with_database(url: &str, name: &str) -> Result<String> {
    let (scheme, rest) = url.split_once("://").context("a PostgreSQL URL needs a scheme")?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |at| &tail[at..]);
    Ok(format!("{scheme}://{authority}/{name}{query}"))
}

#[cfg(test)]
mod tests {
    use super::{host_of, with_database};

    #[test]
    fn messages_name_the_host_and_never_the_password() {
        assert_eq!(host_of("postgres://app:s3cret@db:5432/traceline"), "db:5432");
        assert_eq!(host_of("postgresql://127.0.0.1/x?sslmode=disable"), "127.0.0.1");
    }

    #[test]
    fn database_name_is_replaced() {
        let cases = [
            ("postgres://postgres@127.0.0.1:5432/postgres", "postgres://postgres@127.0.0.1:5432/b"),
            ("postgres://u:p@db/app?sslmode=disable", "postgres://u:p@db/b?sslmode=disable"),
            ("postgresql://db:5432", "postgresql://db:5432/b"),
            ("postgres://db?sslmode=require", "postgres://db/b?sslmode=require"),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "b").unwrap(), expected);
        }
    }
}
