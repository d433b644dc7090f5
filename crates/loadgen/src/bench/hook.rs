//! `cargo xtask bench-hook`: what one `traceline hook` call costs the tool that runs it (server up, hung, down; a
//! small workspace and one of 10,000 files), and what the shell hook adds to a prompt, measured on the release binary
//! and written into a marked section of `docs/BENCHMARKS.md`.
//!
//! A hook call is a whole process: start, read the payload, compare the working tree with its snapshot when the
//! moment calls for it, map, append and sync the spool, start the detached flusher, exit. So it is timed from
//! outside, as the tool sees it: spawn to exit.

use std::fs;
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use clap::Args;

use traceline_loadgen::database::{Backend, BenchDatabase};
use traceline_loadgen::server::{create_org, Server, ServerOptions};

use super::sections::{existing_marked, replace_marked};
use super::{build_server, commit, machine, output_of, scenarios};
use traceline_loadgen::say;

/// Where the section starts and ends in the report; `cargo xtask bench` keeps it when it rewrites the rest.
pub(crate) const SECTION_START: &str = "<!-- bench-hook:start -->";
/// See [`SECTION_START`].
pub(crate) const SECTION_END: &str = "<!-- bench-hook:end -->";

/// Files in the large workspace: the bound is a check that finds nothing in 10,000 files.
const LARGE_WORKSPACE_FILES: usize = 10_000;

/// Commands typed per shell run when timing the prompt.
const SHELL_COMMANDS: usize = 200;

/// An agent shell command about to run: the hook compares the whole tree with its snapshot every time.
const TREE_CHECK: (&str, &str) = (
    "PreToolUse Bash (checks the tree)",
    include_str!("../../../capture/tests/fixtures/claude-code/PreToolUse-Bash.json"),
);

/// A prompt and a test command with its output: the two payloads a session sends most and the largest usual one.
const PAYLOADS: [(&str, &str); 2] = [
    (
        "UserPromptSubmit",
        include_str!("../../../capture/tests/fixtures/claude-code/UserPromptSubmit.json"),
    ),
    (
        "PostToolUse Bash `cargo test`",
        include_str!(
            "../../../capture/tests/fixtures/claude-code/PostToolUse-Bash-cargo-test.json"
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
    /// Accepts connections and never answers; the backoff is cleared before every call, so each starts a flusher.
    Hung,
    /// Down, with the hook's backoff in force: calls after the first only spool.
    DownBackingOff,
    /// Down, with the backoff cleared before every call: each call starts a flusher, which is refused.
    DownEveryCallTries,
}

impl ServerState {
    fn label(self) -> &'static str {
        match self {
            ServerState::Up => "up",
            ServerState::Hung => "hung (accepts, never answers)",
            ServerState::DownBackingOff => "down (backoff)",
            ServerState::DownEveryCallTries => "down (every call starts a flusher)",
        }
    }

    fn clears_backoff(self) -> bool {
        matches!(self, ServerState::Hung | ServerState::DownEveryCallTries)
    }
}

/// Timings of one payload in one condition.
struct Row {
    payload: &'static str,
    condition: String,
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
    let measured = result?;
    let section = render(&measured, &machine(root), &commit(root)?, args.calls)?;
    let out = root.join(&args.out);
    let existing = fs::read_to_string(&out).unwrap_or_default();
    fs::write(&out, replace_section(&existing, &section))
        .with_context(|| format!("could not write {}", out.display()))?;
    say(&format!("wrote the hook section of {}", out.display()));
    Ok(())
}

/// What was measured: the hook rows, and the shell prompt's cost per command with and without the hook.
struct Measured {
    rows: Vec<Row>,
    prompt_without: Duration,
    prompt_with: Duration,
    /// The one-minute load average when the timing started and when it ended: other work on the machine shows.
    load: (String, String),
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn measure(binary: &Path, work_dir: &Path, calls: usize) -> Result<Measured> {
    let database = BenchDatabase::create(Backend::Sqlite, work_dir)?;
    let api_key = create_org(binary, database.url())?;
    let mut server = Server::start(
        binary,
        database.url(),
        &ServerOptions::unlimited(&work_dir.join("server.log")),
    )?;
    let mut keys = scenarios::candidate_keys(server.address, &api_key, 2)?;
    let url = format!("http://{}", server.address);
    let workspace = work_dir.join("workspace");
    let large = work_dir.join("workspace-10k");
    fs::create_dir_all(&workspace)?;
    fill(&large, LARGE_WORKSPACE_FILES)?;
    for dir in [&workspace, &large] {
        let key = keys.pop().context("no candidate key was issued")?;
        output_of(
            Command::new(binary)
                .args(["start", &key, "--server", &url, "--workspace"])
                .arg(dir)
                .env("RUST_LOG", "warn"),
        )?;
    }

    let load_before = load_average();
    let mut rows = Vec::new();
    let mut timed = |name: &'static str, condition: String, sorted: Vec<Duration>| {
        say(&format!(
            "  {name}, {condition}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            percentile_ms(&sorted, 50.0),
            percentile_ms(&sorted, 95.0),
            percentile_ms(&sorted, 100.0)
        ));
        rows.push(Row { payload: name, condition, sorted });
    };
    let (name, payload) = TREE_CHECK;
    for (dir, files) in [(&workspace, "a few files"), (&large, "10,000 files")] {
        let sorted = time_calls(binary, dir, payload, calls, ServerState::Up)?;
        timed(name, format!("server up, workspace of {files}"), sorted);
    }
    let (prompt_without, prompt_with) = time_prompts(binary, work_dir, &workspace)?;

    let hung = TcpListener::bind("127.0.0.1:0")?;
    let hung_url = format!("http://{}", hung.local_addr()?);
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for stream in hung.incoming().flatten() {
            held.push(stream);
        }
    });
    for state in [
        ServerState::Up,
        ServerState::Hung,
        ServerState::DownBackingOff,
        ServerState::DownEveryCallTries,
    ] {
        match state {
            ServerState::Hung => point_at(&workspace, &url, &hung_url)?,
            ServerState::DownBackingOff => {
                point_at(&workspace, &hung_url, &url)?;
                server.stop()?;
            }
            ServerState::Up | ServerState::DownEveryCallTries => {}
        }
        for (name, payload) in PAYLOADS {
            let sorted = time_calls(binary, &workspace, payload, calls, state)?;
            timed(name, format!("server {}", state.label()), sorted);
        }
    }
    let spooled = fs::read_to_string(workspace.join(".traceline/spool.jsonl")).unwrap_or_default();
    let waiting = spooled.lines().filter(|line| !line.trim().is_empty()).count();
    ensure!(
        waiting >= 2 * calls * PAYLOADS.len(),
        "with the server down every call must leave its events in the spool; {waiting} are there"
    );
    Ok(Measured { rows, prompt_without, prompt_with, load: (load_before, load_average()) })
}

/// `count` small source files in nested folders, as a medium-sized repository has.
fn fill(root: &Path, count: usize) -> Result<()> {
    for index in 0..count {
        let dir = root.join(format!("src/module_{:03}", index / 100));
        fs::create_dir_all(&dir)?;
        let text = format!("// File {index}.\npub fn f{index}() -> usize {{\n    {index}\n}}\n");
        fs::write(dir.join(format!("file_{index:05}.rs")), text)?;
    }
    Ok(())
}

/// Points the workspace's session at another server (the state file names it once).
fn point_at(workspace: &Path, from: &str, to: &str) -> Result<()> {
    let path = workspace.join(".traceline/session.json");
    let state = fs::read_to_string(&path)?;
    ensure!(state.contains(from), "{} does not name {from}", path.display());
    fs::write(&path, state.replace(from, to))?;
    Ok(())
}

/// Wall time per command of an interactive bash (under `script`, which gives it a terminal) typing `true`
/// [`SHELL_COMMANDS`] times in the workspace: without the shell hook, then with it.
fn time_prompts(binary: &Path, work_dir: &Path, workspace: &Path) -> Result<(Duration, Duration)> {
    let mut per_command = Vec::new();
    for hooked in [false, true] {
        let home = work_dir.join(if hooked { "home-hooked" } else { "home-plain" });
        fs::create_dir_all(&home)?;
        fs::write(home.join(".bashrc"), "PS1='$ '\n")?;
        if hooked {
            output_of(Command::new(binary).args(["install", "shell"]).env("HOME", &home))?;
        }
        let started = Instant::now();
        let mut shell = Command::new("script")
            .args(["-qfec", "bash -i", "/dev/null"])
            .current_dir(workspace)
            .env("HOME", &home)
            .env("TERM", "dumb")
            .env_remove("PROMPT_COMMAND")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("could not run bash under script(1)")?;
        let mut typed = "true\n".repeat(SHELL_COMMANDS);
        typed.push_str("exit\n");
        shell.stdin.take().context("no stdin")?.write_all(typed.as_bytes())?;
        let status = shell.wait()?;
        ensure!(status.success(), "bash exited with {status}");
        per_command.push(started.elapsed() / u32::try_from(SHELL_COMMANDS)?);
    }
    say(&format!(
        "  shell prompt: {:.2} ms a command without the hook, {:.2} ms with it",
        per_command[0].as_secs_f64() * 1000.0,
        per_command[1].as_secs_f64() * 1000.0
    ));
    Ok((per_command[0], per_command[1]))
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
        if state.clears_backoff() {
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

fn render(measured: &Measured, machine: &str, commit: &str, calls: u64) -> Result<String> {
    let date = output_of(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))?;
    let mut out = format!(
        "{SECTION_START}\n## Capture hook: cost per call\n\n\
         `cargo xtask bench-hook --calls {calls}` on {date}, commit {commit}; {machine}; one-minute load average {} \
         at the start and {} at the end.\n\n\
         Each call is the release `traceline hook claude-code` as a tool runs it: a new process, the payload on \
         stdin, a comparison of the working tree with its snapshot when the moment calls for it, mapped, appended \
         and synced to the spool, then a detached `traceline flush --background` started (never waited for). \
         `PreToolUse Bash` compares the whole tree every time (an agent command is about to change files), in the \
         bench's workspace and in one of {LARGE_WORKSPACE_FILES} files where nothing changed. The hung server accepts \
         connections and never answers. With the server down, a flusher is refused at connect and starts a backoff \
         (2 s doubling to 2 min) during which calls start no flusher; the last rows clear the backoff before each \
         call. Timed from spawn to exit, {calls} calls a row. Targets: under 100 ms against a hung or down server; \
         a check that finds nothing in 10,000 files under 50 ms (the difference between the two `PreToolUse` rows).\n\n\
         | payload | condition | p50 | p95 | max |\n|---|---|---|---|---|\n",
        measured.load.0, measured.load.1
    );
    for row in &measured.rows {
        out.push_str(&format!(
            "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms |\n",
            row.payload,
            row.condition,
            percentile_ms(&row.sorted, 50.0),
            percentile_ms(&row.sorted, 95.0),
            percentile_ms(&row.sorted, 100.0)
        ));
    }
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    out.push_str(&format!(
        "\nShell prompt: an interactive bash under `script(1)` typing `true` {SHELL_COMMANDS} times in the \
         workspace takes {:.2} ms a command without the hook and {:.2} ms with it (`traceline install shell`): \
         {:.2} ms added, against a target of 10 ms. Inside a workspace the hook forks once to read the history and \
         once to start `traceline hook shell` in the background.\n",
        ms(measured.prompt_without),
        ms(measured.prompt_with),
        ms(measured.prompt_with.saturating_sub(measured.prompt_without))
    ));
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
