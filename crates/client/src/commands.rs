//! The commands a person runs: `start`, `explain`, `flush`, `done` and `status`. Each of them first looks for changes
//! in the working tree that no hook reported, since the person is at the keyboard.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use chrono::Utc;
use traceline_capture::{decision_event, session_end, session_start, CaptureContext, Tool};
use traceline_domain::event::Envelope;

use crate::backoff::Backoff;
use crate::flush::{flush as deliver_spool, FlushBudget, FlushReport};
use crate::install::{hook_command, install, is_installed, Installed};
use crate::observe::{baseline, observe, Moment, Observation};
use crate::server::{Patience, Server};
use crate::shell::install::{installed as shell_installed, ShellHome};
use crate::signer;
use crate::spool::Spool;
use crate::state::{capture_context, SessionState, StateDir};
use crate::workspace::find_state_dir;

/// The tools `start` installs hooks for. Codex's hooks are experimental and need a feature flag in its own config,
/// so it is installed on request (`traceline install codex`), as is the shell hook, which edits files outside the
/// workspace.
const TOOLS_INSTALLED_BY_START: [Tool; 2] = [Tool::ClaudeCode, Tool::Cursor];

pub(crate) fn start(
    key: &str,
    server_url: &str,
    workspace: Option<PathBuf>,
    name: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let workspace = match workspace {
        Some(path) => path,
        None => std::env::current_dir().context("no current directory")?,
    };
    let workspace = workspace
        .canonicalize()
        .with_context(|| format!("{} is not a directory", workspace.display()))?;
    let dir = StateDir::of_workspace(&workspace);
    let previous = dir.is_initialised().then(|| dir.load()).transpose()?;

    // The signing key is made before the session exists: the server keeps the first key it is given.
    dir.create()?;
    let public_key = signer::key(&dir)?.public_key().to_base64();
    let server = Server::new(server_url, Patience::Interactive);
    let redeemed = server.redeem(key.trim(), name, Some(&public_key))?;
    if let Some(previous) = &previous {
        if previous.session_id != redeemed.session_id && !Spool::of(&dir).is_empty()? {
            bail!(
                "{} still holds undelivered events of session {}; run `traceline flush` (or `traceline done`) \
                 for it before starting another",
                dir.path().display(),
                previous.session_id
            );
        }
    }
    let state = SessionState {
        server: server.base().to_owned(),
        session_id: redeemed.session_id.clone(),
        session_token: redeemed.session_token,
        assessment_id: redeemed.assessment_id.clone(),
        assessment_title: redeemed.assessment_title.clone(),
        started_at: previous.as_ref().map_or_else(Utc::now, |previous| previous.started_at),
        completed_at: None,
    };
    dir.create()?;
    dir.save(&state)?;
    if previous.is_none_or(|previous| previous.session_id != state.session_id) {
        let event = session_start(&context(&dir, &state)?, redeemed.assessment_id.as_deref());
        Spool::of(&dir).append(&[event])?;
    }

    println!("Recording {} as session {}.", workspace.display(), state.session_id);
    if let Some(title) = &redeemed.assessment_title {
        println!("Assessment: {title}");
    }
    if let Some(minutes) = redeemed.time_limit_minutes {
        println!("Time limit: {minutes} minutes");
    }
    if let Some(brief) = &redeemed.task_brief {
        println!("\n{brief}\n");
    }
    let executable = executable()?;
    for tool in TOOLS_INSTALLED_BY_START {
        match install(&workspace, tool, &hook_command(&executable, tool)) {
            Ok(Installed::Written(path)) => {
                println!("{tool} hooks installed in {}", path.display())
            }
            Ok(Installed::AlreadyPresent(path)) => {
                println!("{tool} hooks already in {}", path.display())
            }
            Err(error) => eprintln!("warning: {tool} hooks not installed: {error:#}"),
        }
    }
    // After the hooks: the tools' config files are part of the tree as the session starts.
    match baseline(&dir) {
        Ok(files) => println!("Watching {files} files for changes no tool reports."),
        Err(error) => eprintln!("warning: could not take a snapshot of the workspace: {error}"),
    }
    print_delivery(&deliver(&dir, &state)?);
    println!(
        "\nWork as usual. `traceline install shell` records the commands you type in your own terminal too; \
         `traceline explain \"why\"` records a decision; `traceline done` when you have finished."
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn explain(
    workspace: Option<PathBuf>,
    rationale: &str,
    title: Option<&str>,
    impact: Option<u8>,
) -> anyhow::Result<ExitCode> {
    let (dir, state) = session(workspace)?;
    let context = context(&dir, &state)?;
    let mut events = changes_now(&dir, &context);
    events.push(decision_event(&context, rationale, title, impact));
    Spool::of(&dir).append(&events)?;
    let report = deliver(&dir, &state)?;
    println!("Decision recorded.");
    print_delivery(&report);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn flush(workspace: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let (dir, state) = session(workspace)?;
    if state.completed_at.is_none() {
        Spool::of(&dir).append(&changes_now(&dir, &context(&dir, &state)?))?;
    }
    let report = deliver(&dir, &state)?;
    print_delivery(&report);
    Ok(if report.remaining == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub(crate) fn done(workspace: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let (dir, mut state) = session(workspace)?;
    if let Some(completed_at) = state.completed_at {
        println!("Session {} was completed at {completed_at}.", state.session_id);
        return Ok(ExitCode::SUCCESS);
    }
    let context = context(&dir, &state)?;
    let mut events = changes_now(&dir, &context);
    events.push(session_end(&context));
    Spool::of(&dir).append(&events)?;
    let report = deliver(&dir, &state)?;
    if report.remaining > 0 {
        print_delivery(&report);
        bail!(
            "{} events could not be delivered, so the session stays open; run `traceline done` again when the \
             server is reachable",
            report.remaining
        );
    }
    let server = Server::new(&state.server, Patience::Interactive);
    let completed_at = server.complete(&state.session_token, &state.session_id)?;
    state.completed_at = Some(Utc::now());
    dir.save(&state)?;
    println!("Session {} completed at {completed_at}. Thank you!", state.session_id);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn status(workspace: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let (dir, state) = session(workspace)?;
    let spool = Spool::of(&dir);
    println!("workspace:   {}", dir.workspace().display());
    println!("server:      {}", state.server);
    println!("session:     {}", state.session_id);
    if let Some(title) = &state.assessment_title {
        println!("assessment:  {title}");
    }
    println!("started:     {}", state.started_at);
    match state.completed_at {
        Some(at) => println!("completed:   {at}"),
        None => println!("completed:   not yet (`traceline done` when you have finished)"),
    }
    println!("spooled:     {} events waiting", spool.len()?);
    println!(
        "skipped:     {} unreadable spool lines (kept in .traceline/skipped.jsonl)",
        spool.skipped_count()?
    );
    println!("rejected:    {} events refused by the server", spool.rejected_count()?);
    if let Some(backoff) = Backoff::load(&dir) {
        println!("last error:  {} (retrying after {})", backoff.last_error, backoff.until);
    }
    let checked = Observation::load(&dir).checked_at;
    println!("tree check:  {}", checked.map_or_else(|| "never".to_owned(), |at| at.to_string()));
    for tool in Tool::ALL {
        let installed =
            if is_installed(dir.workspace(), tool) { "installed" } else { "not installed" };
        println!("{:<12} {installed}", format!("{tool}:"));
    }
    let shells = ShellHome::from_env().map(|home| shell_installed(&home)).unwrap_or_default();
    let names: Vec<&str> = shells.iter().map(|(shell, _, _)| shell.name()).collect();
    println!(
        "shell:       {}",
        if names.is_empty() {
            "not installed (`traceline install shell`)".to_owned()
        } else {
            names.join(", ")
        }
    );
    match Server::new(&state.server, Patience::Quick)
        .session(&state.session_token, &state.session_id)
    {
        Ok(session) => println!(
            "on server:   {} events, status {}",
            session.get("eventCount").unwrap_or(&serde_json::Value::Null),
            session.get("status").and_then(serde_json::Value::as_str).unwrap_or("unknown")
        ),
        Err(error) => println!("on server:   {error:#}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The initialised workspace: the one given, else the one found from the tools' variables or the working directory.
pub(crate) fn located(workspace: Option<PathBuf>) -> anyhow::Result<StateDir> {
    let dir = match workspace {
        Some(path) => StateDir::of_workspace(&path),
        None => {
            let current = std::env::current_dir().ok();
            find_state_dir(|name| std::env::var(name).ok(), current.as_deref()).context(
                "no Traceline session here; run `traceline start KEY` in your workspace first",
            )?
        }
    };
    if !dir.is_initialised() {
        bail!(
            "{} has no Traceline session; run `traceline start KEY` there first",
            dir.workspace().display()
        );
    }
    Ok(dir)
}

pub(crate) fn session(workspace: Option<PathBuf>) -> anyhow::Result<(StateDir, SessionState)> {
    let dir = located(workspace)?;
    let state = dir.load()?;
    Ok((dir, state))
}

/// This binary, by absolute path: what the hooks run.
pub(crate) fn executable() -> anyhow::Result<PathBuf> {
    let path = std::env::current_exe().context("cannot tell where this binary is")?;
    Ok(path.canonicalize().unwrap_or(path))
}

fn context(dir: &StateDir, state: &SessionState) -> anyhow::Result<CaptureContext> {
    capture_context(dir, state, Utc::now())
}

/// The person's changes since the last look; a failure to look is reported and costs only those.
fn changes_now(dir: &StateDir, context: &CaptureContext) -> Vec<Envelope> {
    observe(dir, context, Moment::PersonCommand).unwrap_or_else(|error| {
        eprintln!("warning: could not compare the working tree with its snapshot: {error}");
        Vec::new()
    })
}

fn deliver(dir: &StateDir, state: &SessionState) -> anyhow::Result<FlushReport> {
    let server = Server::new(&state.server, Patience::Interactive);
    Ok(deliver_spool(dir, state, &server, FlushBudget::Everything)?)
}

fn print_delivery(report: &FlushReport) {
    if report.delivered > 0 {
        println!("Sent {} events.", report.delivered);
    }
    if report.rejected > 0 {
        println!("The server refused {} events; see .traceline/rejected.jsonl.", report.rejected);
    }
    if report.remaining > 0 {
        println!(
            "{} events wait in the spool ({}); they go with the next hook call or `traceline flush`.",
            report.remaining,
            report.error.as_deref().unwrap_or("not sent yet")
        );
    }
}
