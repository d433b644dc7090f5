//! `cargo xtask bench-hook`: what one `traceline hook` call costs the tool that runs it, with the server up and with
//! it down, measured on the release binary and written into a marked section of `docs/BENCHMARKS.md`.
//!
//! A hook call is a whole process: start, read the payload, map it, append and sync the spool, one HTTP request
//! (or a refused connection), exit. So it is timed from outside, as the tool sees it: spawn to exit.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use clap::Args;

use super::database::BenchDatabase;
use super::sections::{existing_marked, replace_marked};
use super::server::{create_org, Server};
use super::{build_server, commit, machine, output_of, scenarios, Backend};
use crate::say;

/// Where the section starts and ends in the report; `cargo xtask bench` keeps it when it rewrites the rest.
pub(crate) const SECTION_START: &str = "<!-- bench-hook:start -->";
/// See [`SECTION_START`].
pub(crate) const SECTION_END: &str = "<!-- bench-hook:end -->";

/// A prompt and a test command with its output: the two payloads a session sends most and the largest usual one.
const PAYLOADS: [(&str, &str); 2] = [
    (
        "UserPromptSubmit",
        include_str!("../../../crates/capture/tests/fixtures/claude-code/UserPromptSubmit.json"),
    ),
    (
        "PostToolUse Bash `cargo test`",
        include_str!(
            "../../../crates/capture/tests/fixtures/claude-code/PostToolUse-Bash-cargo-test.json"
        ),
    ),
];

/// Options of `cargo xtask bench-hook`.
#[derive(Debug, Args)]
pub(crate) struct HookBenchArgs {
    /// Timed hook calls per payload and server state.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=100_000))]
    calls: u64,
    /// The report to update, relative to the workspace root unless absolute.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
}

/// The server's state while a row is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    Up,
    /// Down, with the hook's backoff in force: calls after the first only spool.
    DownBackingOff,
    /// Down, with the backoff cleared before every call: each call tries, and is refused.
    DownEveryCallTries,
}

impl ServerState {
    fn label(self) -> &'static str {
        match self {
            ServerState::Up => "up",
            ServerState::DownBackingOff => "down (backoff)",
            ServerState::DownEveryCallTries => "down (every call connects)",
        }
    }
}

/// Timings of one payload in one server state.
struct Row {
    payload: &'static str,
    server: ServerState,
    sorted: Vec<Duration>,
}

/// Runs the hook bench and rewrites its section of the report.
pub(crate) fn bench_hook(root: &Path, args: &HookBenchArgs) -> Result<()> {
    let binary = build_server(root)?;
    let work_dir =
        std::env::temp_dir().join(format!("traceline-bench-hook-{}", std::process::id()));
    fs::create_dir_all(&work_dir)?;
    let result = measure(&binary, &work_dir, usize::try_from(args.calls)?);
    _ = fs::remove_dir_all(&work_dir);
    let rows = result?;
    let section = render(&rows, &machine(root), &commit(root)?, args.calls)?;
    let out = root.join(&args.out);
    let existing = fs::read_to_string(&out).unwrap_or_default();
    fs::write(&out, replace_section(&existing, &section))
        .with_context(|| format!("could not write {}", out.display()))?;
    say(&format!("wrote the hook section of {}", out.display()));
    Ok(())
}

fn measure(binary: &Path, work_dir: &Path, calls: usize) -> Result<Vec<Row>> {
    let database = BenchDatabase::create(Backend::Sqlite, work_dir)?;
    let api_key = create_org(binary, database.url())?;
    let mut server = Server::start(binary, database.url(), &work_dir.join("server.log"))?;
    let key = scenarios::candidate_keys(server.address, &api_key, 1)?
        .pop()
        .context("no candidate key was issued")?;
    let workspace = work_dir.join("workspace");
    fs::create_dir_all(&workspace)?;
    let url = format!("http://{}", server.address);
    output_of(
        Command::new(binary)
            .args(["start", &key, "--server", &url, "--workspace"])
            .arg(&workspace)
            .env("RUST_LOG", "warn"),
    )?;

    let mut rows = Vec::new();
    for state in [ServerState::Up, ServerState::DownBackingOff, ServerState::DownEveryCallTries] {
        if state == ServerState::DownBackingOff {
            server.stop()?;
        }
        for (name, payload) in PAYLOADS {
            let sorted = time_calls(binary, &workspace, payload, calls, state)?;
            say(&format!(
                "  {name}, server {}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
                state.label(),
                percentile_ms(&sorted, 50.0),
                percentile_ms(&sorted, 95.0),
                percentile_ms(&sorted, 100.0)
            ));
            rows.push(Row { payload: name, server: state, sorted });
        }
    }
    let spooled = fs::read_to_string(workspace.join(".traceline/spool.jsonl")).unwrap_or_default();
    let waiting = spooled.lines().filter(|line| !line.trim().is_empty()).count();
    ensure!(
        waiting >= 2 * calls * PAYLOADS.len(),
        "with the server down every call must leave its events in the spool; {waiting} are there"
    );
    Ok(rows)
}

/// Runs the hook `calls` times on one payload, from the workspace as a tool would; returns the sorted wall times.
fn time_calls(
    binary: &Path,
    workspace: &Path,
    payload: &str,
    calls: usize,
    state: ServerState,
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        if state == ServerState::DownEveryCallTries {
            _ = fs::remove_file(workspace.join(".traceline/backoff.json"));
        }
        let started = Instant::now();
        let mut child = Command::new(binary)
            .args(["hook", "claude-code"])
            .current_dir(workspace)
            .env("CLAUDE_PROJECT_DIR", workspace)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("could not start the hook")?;
        child.stdin.take().context("no stdin")?.write_all(payload.as_bytes())?;
        let status = child.wait()?;
        times.push(started.elapsed());
        ensure!(status.success(), "the hook exited with {status}");
    }
    times.sort_unstable();
    Ok(times)
}

fn percentile_ms(sorted: &[Duration], percentile: f64) -> f64 {
    let rank = ((percentile / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).map_or(f64::NAN, |time| time.as_secs_f64() * 1000.0)
}

fn render(rows: &[Row], machine: &str, commit: &str, calls: u64) -> Result<String> {
    let date = output_of(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))?;
    let mut out = format!(
        "{SECTION_START}\n## Capture hook: cost per call\n\n\
         `cargo xtask bench-hook --calls {calls}` on {date}, commit {commit}; {machine}.\n\n\
         Each call is the release `traceline hook claude-code` as a tool runs it: a new process, the payload on \
         stdin, mapped, appended and synced to the spool, then one batch request (server up, SQLite). With the \
         server down, a call is refused at connect and starts a backoff (2 s doubling to 2 min) during which \
         calls only spool; the last rows clear the backoff before each call, so every call connects, after reading \
         the whole spool, which grows through the down rows (to {} events). Timed from spawn to exit, {calls} \
         calls a row. Target: under 100 ms with the server down.\n\n\
         | payload | server | p50 | p95 | max |\n|---|---|---|---|---|\n",
        2 * calls * PAYLOADS.len() as u64
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms |\n",
            row.payload,
            row.server.label(),
            percentile_ms(&row.sorted, 50.0),
            percentile_ms(&row.sorted, 95.0),
            percentile_ms(&row.sorted, 100.0)
        ));
    }
    out.push_str(SECTION_END);
    out.push('\n');
    Ok(out)
}

/// `report` with its hook section replaced by `section`, or with `section` appended when it has none.
pub(crate) fn replace_section(report: &str, section: &str) -> String {
    replace_marked(report, SECTION_START, SECTION_END, section)
}

/// The hook section of an existing report, so a full `cargo xtask bench` run can carry it over.
pub(crate) fn existing_section(report: &str) -> Option<&str> {
    existing_marked(report, SECTION_START, SECTION_END)
}
