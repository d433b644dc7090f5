//! `traceline-bench`: Traceline's benchmark, run by `cargo xtask bench` and `cargo xtask bench-hook`, which
//! build it optimised (the load generator shares the machine's cores with the server it measures).
//!
//! `bench` measures the release server on SQLite and PostgreSQL and writes `docs/BENCHMARKS.md`; `hook`
//! measures the capture hook as a tool runs it and `signed` what signed events cost, each in its own section of
//! the same file.

mod bench;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context as _, Result};
use clap::{Parser, Subcommand};
use traceline_loadgen::say;

/// Traceline's benchmark.
#[derive(Debug, Parser)]
#[command(name = "traceline-bench")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Load-test the release server on SQLite and PostgreSQL and write `docs/BENCHMARKS.md`.
    Bench(bench::BenchArgs),
    /// Time `traceline hook` calls with the server up and down; updates its section of `docs/BENCHMARKS.md`.
    Hook(bench::HookBenchArgs),
    /// Time signed against unsigned ingest and reading a long signed session; updates its section of the report.
    Signed(bench::SignedBenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let done = match cli.task {
        Task::Bench(args) => bench::bench(&root, &args),
        Task::Hook(args) => bench::bench_hook(&root, &args),
        Task::Signed(args) => bench::bench_signed(&root, &args),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            say(&format!("error: {error:#}"));
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: two folders above this crate's manifest (resolved, so messages show a plain path).
fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// `cargo`, the one that runs us when there is one (`CARGO`), from the workspace root.
fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root);
    cmd
}

/// Runs a command to completion, failing unless it exits successfully.
fn run(mut cmd: Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    say(&format!("$ {shown}"));
    let status = cmd.status().with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}
