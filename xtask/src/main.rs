//! Traceline's developer tasks, run as `cargo xtask <task>` (the matklad/cargo-xtask pattern).
//!
//! Every task shells out to the `cargo` that started us (the `CARGO` variable) from the workspace root.
//! xtask depends on no workspace crate, so it builds in seconds and never waits for diesel or actix.
//! The repository's rules live in `tidy.rs` as ordinary tests, so plain `cargo test --workspace` enforces
//! them too.

// Printing is what xtask is for, but only through `say`, so every print stays in one visible place.
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod fuzz;
#[cfg(test)]
mod lockfile;
mod migration;
#[cfg(test)]
mod modgraph;
mod soak;
#[cfg(test)]
mod tidy;
mod ui;

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, Context as _, Result};
use clap::{Parser, Subcommand};

/// The variable the test harness reads for its PostgreSQL server.
const TEST_DATABASE_URL_VAR: &str = "TRACELINE_TEST_DATABASE_URL";

/// What the test harness uses when [`TEST_DATABASE_URL_VAR`] is unset; kept in step with the harness.
const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Traceline's developer tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

/// One task per subcommand.
#[derive(Debug, Subcommand)]
enum Task {
    /// Run every test of the workspace, then the browser suite; backend tests run on SQLite and on PostgreSQL
    /// (`TRACELINE_TEST_DATABASE_URL`).
    Test {
        /// Passed through to the test binaries, e.g. `cargo xtask test -- sessions --nocapture`.
        #[arg(last = true, value_name = "TEST_ARGS")]
        test_args: Vec<OsString>,
    },
    /// Run only the browser suite (`tests/ui`: Playwright on Debian's Chromium, both backends).
    UiTest {
        /// Passed through to pytest, e.g. `cargo xtask ui-test -- -k sqlite`.
        #[arg(last = true, value_name = "PYTEST_ARGS")]
        pytest_args: Vec<OsString>,
    },
    /// Apply pending migrations with `traceline migrate` (the binary also reads `DATABASE_URL`).
    Migrate {
        /// The database to migrate, e.g. `sqlite://traceline.db` or `postgres://…`.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// What CI checks: formatting, clippy with `-D warnings`, then the tests.
    Ci,
    /// Create a paired PostgreSQL and SQLite migration under one shared timestamp.
    NewMigration {
        /// Snake case, e.g. `add_events`.
        name: String,
    },
    /// Load-test the release server on SQLite and PostgreSQL and write `docs/BENCHMARKS.md` (runs
    /// `traceline-bench bench`, built optimised; `cargo xtask bench --help` lists its options).
    #[command(disable_help_flag = true)]
    Bench {
        /// Passed to `traceline-bench bench`, e.g. `--backend sqlite --seconds 5`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "BENCH_ARGS")]
        args: Vec<OsString>,
    },
    /// Time `traceline hook` calls with the server up and down; updates its section of `docs/BENCHMARKS.md`
    /// (runs `traceline-bench hook`).
    #[command(disable_help_flag = true)]
    BenchHook {
        /// Passed to `traceline-bench hook`, e.g. `--calls 200`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "HOOK_BENCH_ARGS")]
        args: Vec<OsString>,
    },
    /// Time ingest of signed against unsigned events, and reading a 100,000-event signed session; updates its
    /// section of `docs/BENCHMARKS.md` (runs `traceline-bench signed`).
    #[command(disable_help_flag = true)]
    BenchSigned {
        /// Passed to `traceline-bench signed`, e.g. `--events 20000`.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "SIGNED_BENCH_ARGS"
        )]
        args: Vec<OsString>,
    },
    /// Build a libFuzzer target of `fuzz/` (no cargo-fuzz needed) and run it for a bounded time.
    Fuzz(fuzz::FuzzArgs),
    /// Kill the server with SIGKILL and restart it under ingest load for N minutes per backend, then check
    /// that nothing acknowledged was lost or doubled.
    Soak(soak::SoakArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = project_root()?;
    match cli.task {
        Task::Test { test_args } => test(&root, &test_args).and_then(|()| ui::test(&root, &[])),
        Task::UiTest { pytest_args } => ui::test(&root, &pytest_args),
        Task::Migrate { database_url } => migrate(&root, database_url.as_deref()),
        Task::Ci => ci(&root),
        Task::NewMigration { name } => migration::create(&root, &name, SystemTime::now()),
        Task::Bench { args } => bench(&root, "bench", &args),
        Task::BenchHook { args } => bench(&root, "hook", &args),
        Task::BenchSigned { args } => bench(&root, "signed", &args),
        Task::Fuzz(args) => fuzz::fuzz(&root, &args),
        Task::Soak(args) => soak::soak(&root, &args),
    }
}

/// Runs a task of the benchmark program (`crates/loadgen`), built optimised: its load generator shares the
/// machine's cores with the server it measures, so it must be cheap.
fn bench(root: &Path, task: &str, args: &[OsString]) -> Result<()> {
    let mut cmd = cargo(root);
    cmd.args(["run", "--quiet", "--release", "--locked", "-p", "traceline_loadgen"])
        .args(["--bin", "traceline-bench", "--", task])
        .args(args);
    run(cmd)
}

/// The workspace root: the parent of xtask's own manifest directory.
fn project_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("xtask's manifest directory has no parent")
}

/// `cargo test --workspace --locked`, with the environment passed through to the harness.
fn test(root: &Path, test_args: &[OsString]) -> Result<()> {
    let (url, origin) = match env::var_os(TEST_DATABASE_URL_VAR) {
        Some(url) if !url.is_empty() => {
            (url.to_string_lossy().into_owned(), format!("from {TEST_DATABASE_URL_VAR}"))
        }
        _ => (
            DEFAULT_TEST_DATABASE_URL.to_owned(),
            format!("the harness default; set {TEST_DATABASE_URL_VAR} to change it"),
        ),
    };
    say(&format!("PostgreSQL tests will use {} ({origin})", redact_password(&url)));

    let mut cmd = cargo(root);
    cmd.args(["test", "--workspace", "--locked"]);
    if !test_args.is_empty() {
        cmd.arg("--").args(test_args);
    }
    run(cmd)
}

/// `traceline migrate`, built and run through cargo.
fn migrate(root: &Path, database_url: Option<&str>) -> Result<()> {
    let mut cmd = cargo(root);
    cmd.args(["run", "--quiet", "-p", "traceline_cli", "--bin", "traceline", "--", "migrate"]);
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    run(cmd)
}

/// Formatting, clippy, then the tests (the browser suite included), stopping at the first failure.
fn ci(root: &Path) -> Result<()> {
    let mut fmt = cargo(root);
    fmt.args(["fmt", "--all", "--check"]);
    run(fmt)?;

    let mut clippy = cargo(root);
    clippy.args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]);
    run(clippy)?;

    test(root, &[])?;
    ui::test(root, &[])
}

/// A `cargo` command run from the workspace root, preferring the cargo that started xtask.
fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root);
    cmd
}

/// Runs a command to completion, failing unless it exits successfully.
fn run(mut cmd: Command) -> Result<()> {
    let shown = std::iter::once("cargo".into())
        .chain(cmd.get_args().map(|arg| arg.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    say(&format!("$ {shown}"));
    let status = cmd.status().with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// The URL with any password replaced by `***`, fit to print in a CI log.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((user_info, host)) = authority.rsplit_once('@') else { return url.to_owned() };
    match user_info.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

/// Tells the developer what xtask is doing.
#[expect(clippy::print_stdout, reason = "reporting each step is what xtask is for")]
fn say(message: &str) {
    println!("{message}");
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::{redact_password, Cli};

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_password("postgres://app:s3cret@db:5432/traceline"),
            "postgres://app:***@db:5432/traceline"
        );
        assert_eq!(
            redact_password("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        assert_eq!(redact_password("postgres://a:b@h/db?x=y@z"), "postgres://a:***@h/db?x=y@z");
        assert_eq!(redact_password("sqlite://traceline.db"), "sqlite://traceline.db");
    }
}
