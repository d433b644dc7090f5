//! The candidate's subcommands of the `traceline` binary. `main` flattens [`ClientCommand`] into its own command
//! list and hands the parsed command to [`run`].

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use chrono::Utc;
use clap::Subcommand;
use traceline_capture::{decision_event, session_end, session_start, CaptureContext, Tool};
use traceline_domain::signing::PublicKey;

use crate::backoff::Backoff;
use crate::flush::{flush, FlushBudget, FlushReport};
use crate::hook::run_hook;
use crate::install::{hook_command, install, is_installed, Installed};
use crate::server::{Patience, Server};
use crate::signer;
use crate::spool::Spool;
use crate::state::{SessionState, StateDir};
use crate::verify;
use crate::workspace::find_state_dir;

/// Where `start` sends events when neither `--server` nor `TRACELINE_SERVER` says otherwise: `traceline serve`'s
/// default address.
const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// The tools `start` installs hooks for. Codex's hooks are experimental and need a feature flag in its own config,
/// so it is installed on request (`traceline install codex`).
const TOOLS_INSTALLED_BY_START: [Tool; 2] = [Tool::ClaudeCode, Tool::Cursor];

/// The candidate's commands.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Redeem a candidate key for this workspace and install the Claude Code and Cursor hooks.
    Start {
        /// The key the hiring team sent, e.g. PST-ABCD-EFGH.
        key: String,
        /// The Traceline server.
        #[arg(long, env = "TRACELINE_SERVER", default_value = DEFAULT_SERVER)]
        server: String,
        /// The workspace to record (default: the current directory).
        #[arg(long)]
        workspace: Option<PathBuf>,
        /// Your name, as the hiring team should see it.
        #[arg(long)]
        name: Option<String>,
    },
    /// Install one tool's hooks into the workspace (merged into what is there).
    Install {
        /// claude-code, cursor or codex.
        #[arg(value_parser = parse_tool)]
        tool: Tool,
        /// The workspace (default: the one `traceline start` set up, found from here).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
    /// Record one hook payload read from stdin (run by the tools, not by people). Always exits 0.
    Hook {
        /// claude-code, cursor or codex.
        #[arg(value_parser = parse_tool)]
        tool: Tool,
    },
    /// Record a design decision and why you made it.
    Explain {
        /// Why: the reasoning, in a sentence or a paragraph.
        rationale: String,
        /// A short title for the decision.
        #[arg(long)]
        title: Option<String>,
        /// How much the decision shapes the result, 1 (little) to 5 (a lot).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
        impact: Option<u8>,
        /// The workspace (default: found from here).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
    /// Send every event still waiting in the spool.
    Flush {
        /// The workspace (default: found from here).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
    /// Finish: send what is waiting, end the session and complete the key.
    Done {
        /// The workspace (default: found from here).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
    /// Show the session, the spool and the installed hooks.
    Status {
        /// The workspace (default: found from here).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
    /// Check the session's signed events as the server holds them: every signature, and the chain from the first
    /// event to the last. Exits non-zero when the chain is broken.
    Verify {
        /// The session to check (default: the workspace's own).
        session_id: Option<String>,
        /// The workspace (default: found from here).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
}

/// Runs a candidate command. `hook` always succeeds; the others fail with a message a person can act on.
pub fn run(command: ClientCommand) -> anyhow::Result<ExitCode> {
    match command {
        ClientCommand::Start { key, server, workspace, name } => {
            start(&key, &server, workspace, name.as_deref())
        }
        ClientCommand::Install { tool, workspace } => {
            let dir = located(workspace)?;
            report_install(
                tool,
                install(dir.workspace(), tool, &hook_command(&executable()?, tool))?,
            );
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Hook { tool } => {
            let current_dir = std::env::current_dir().ok();
            let outcome = std::panic::catch_unwind(|| {
                run_hook(
                    tool,
                    std::io::stdin().lock(),
                    |name| std::env::var(name).ok(),
                    current_dir.as_deref(),
                )
            });
            if let Ok(Some(reply)) = outcome {
                let mut stdout = std::io::stdout().lock();
                let _ignored = writeln!(stdout, "{reply}");
            }
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Explain { rationale, title, impact, workspace } => {
            let (dir, state) = session(workspace)?;
            let event =
                decision_event(&context(&dir, &state), &rationale, title.as_deref(), impact);
            signer::append(&dir, &state.session_id, vec![event])?;
            let report = deliver(&dir, &state)?;
            println!("Decision recorded.");
            print_delivery(&report);
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Flush { workspace } => {
            let (dir, state) = session(workspace)?;
            let report = deliver(&dir, &state)?;
            print_delivery(&report);
            Ok(if report.remaining == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        ClientCommand::Done { workspace } => done(workspace),
        ClientCommand::Status { workspace } => status(workspace),
        ClientCommand::Verify { session_id, workspace } => verify(session_id, workspace),
    }
}

fn start(
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

    // The signing key is made before the session exists: the server keeps the key it is first given.
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
    dir.save(&state)?;
    if previous.is_none_or(|previous| previous.session_id != state.session_id) {
        let event = session_start(&context(&dir, &state), redeemed.assessment_id.as_deref());
        signer::append(&dir, &state.session_id, vec![event])?;
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
            Ok(installed) => report_install(tool, installed),
            Err(error) => eprintln!("warning: {tool} hooks not installed: {error:#}"),
        }
    }
    print_delivery(&deliver(&dir, &state)?);
    println!(
        "\nWork as usual. `traceline explain \"why\"` records a decision; `traceline done` when you have finished."
    );
    Ok(ExitCode::SUCCESS)
}

fn done(workspace: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let (dir, mut state) = session(workspace)?;
    if let Some(completed_at) = state.completed_at {
        println!("Session {} was completed at {completed_at}.", state.session_id);
        return Ok(ExitCode::SUCCESS);
    }
    signer::append(&dir, &state.session_id, vec![session_end(&context(&dir, &state))])?;
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

fn status(workspace: Option<PathBuf>) -> anyhow::Result<ExitCode> {
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
    println!("rejected:    {} events refused by the server", spool.rejected_count()?);
    if let Some(backoff) = Backoff::load(&dir) {
        println!("last error:  {} (retrying after {})", backoff.last_error, backoff.until);
    }
    for tool in Tool::ALL {
        let installed =
            if is_installed(dir.workspace(), tool) { "installed" } else { "not installed" };
        println!("{:<12} {installed}", format!("{tool}:"));
    }
    match Server::new(&state.server, Patience::Hook)
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

/// `traceline verify`: the session's signed log, checked here; exit 1 when the chain is broken (or nothing is
/// signed).
fn verify(session_id: Option<String>, workspace: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let (dir, state) = session(workspace)?;
    let session_id = session_id.unwrap_or_else(|| state.session_id.clone());
    let server = Server::new(&state.server, Patience::Interactive);
    let (key, events) = verify::fetch_log(&server, &state.session_token, &session_id)?;
    let key = key
        .as_deref()
        .map(PublicKey::parse)
        .transpose()
        .map_err(|error| anyhow::anyhow!("the server's signing key for the session {error}"))?;
    if session_id == state.session_id {
        let ours = signer::public_key(&dir)?;
        if let (Some(ours), Some(theirs)) = (&ours, &key) {
            if ours != theirs {
                println!(
                    "✗ the server holds another signing key for this session than this workspace's"
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    let verdict = verify::walk(key.as_ref(), &events);
    println!("{}", verdict.line());
    Ok(if verdict.broken.is_none() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The initialised workspace: the one given, else the one found from the tools' variables or the working directory.
fn located(workspace: Option<PathBuf>) -> anyhow::Result<StateDir> {
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

fn session(workspace: Option<PathBuf>) -> anyhow::Result<(StateDir, SessionState)> {
    let dir = located(workspace)?;
    let state = dir.load()?;
    Ok((dir, state))
}

fn context(dir: &StateDir, state: &SessionState) -> CaptureContext {
    CaptureContext {
        session_id: state.session_id.clone(),
        workspace: dir.workspace().to_path_buf(),
        received_at: Utc::now(),
    }
}

fn deliver(dir: &StateDir, state: &SessionState) -> anyhow::Result<FlushReport> {
    let server = Server::new(&state.server, Patience::Interactive);
    Ok(flush(dir, state, &server, FlushBudget::Everything)?)
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

fn report_install(tool: Tool, installed: Installed) {
    match installed {
        Installed::Written(path) => println!("{tool} hooks installed in {}", path.display()),
        Installed::AlreadyPresent(path) => println!("{tool} hooks already in {}", path.display()),
    }
}

fn executable() -> anyhow::Result<PathBuf> {
    let path = std::env::current_exe().context("cannot tell where this binary is")?;
    Ok(path.canonicalize().unwrap_or(path))
}

fn parse_tool(text: &str) -> Result<Tool, String> {
    text.parse::<Tool>().map_err(|_| "expected claude-code, cursor or codex".to_owned())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser};

    use super::ClientCommand;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: ClientCommand,
    }

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn impact_is_bounded() {
        assert!(Cli::try_parse_from(["t", "explain", "why", "--impact", "6"]).is_err());
        assert!(Cli::try_parse_from(["t", "explain", "why", "--impact", "5"]).is_ok());
    }

    #[test]
    fn tools_are_named_as_the_hooks_are() {
        assert!(Cli::try_parse_from(["t", "hook", "claude-code"]).is_ok());
        assert!(Cli::try_parse_from(["t", "hook", "vim"]).is_err());
    }
}
