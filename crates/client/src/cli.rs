//! The candidate's subcommands of the `traceline` binary. `main` flattens [`ClientCommand`] into its own command
//! list and hands the parsed command to [`run`].

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use traceline_capture::Tool;

use crate::hook::{run_hook, HookSource};
use crate::install::{hook_command, install, Installed};
use crate::shell::install::{
    install as install_shell, uninstall as uninstall_shell, RcChange, ShellHome,
};
use crate::{background, commands, doctor, verify};

/// Where the server is when neither `--server` nor `TRACELINE_SERVER` says otherwise: `traceline serve`'s default
/// address.
const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

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
    /// Install a tool's hooks into the workspace (merged into what is there), or the shell hook into ~/.bashrc and
    /// ~/.zshrc.
    Install {
        /// claude-code, cursor, codex or shell.
        target: HookSource,
        /// The workspace (default: the one `traceline start` set up, found from here).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
    /// Remove the shell hook from ~/.bashrc and ~/.zshrc (nothing else in them is touched).
    Uninstall {
        /// shell.
        #[arg(value_parser = parse_shell)]
        target: HookSource,
    },
    /// Record one hook payload read from stdin (run by the tools and the shell hook, not by people). Always exits 0.
    Hook {
        /// claude-code, cursor, codex or shell.
        source: HookSource,
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
        /// Run as the detached flusher a hook starts: print nothing, log problems to .traceline/hook.log.
        #[arg(long, hide = true)]
        background: bool,
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
    /// Check that everything a recording needs works, and say how to fix what does not.
    Doctor {
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

fn parse_shell(text: &str) -> Result<HookSource, String> {
    match text {
        "shell" => Ok(HookSource::Shell),
        _ => Err(
            "only the shell hook is uninstalled this way; a tool's hooks live in its config file"
                .to_owned(),
        ),
    }
}

/// Runs a candidate command. `hook` always succeeds; the others fail with a message a person can act on.
pub fn run(command: ClientCommand) -> anyhow::Result<ExitCode> {
    match command {
        ClientCommand::Start { key, server, workspace, name } => {
            commands::start(&key, &server, workspace, name.as_deref())
        }
        ClientCommand::Install { target: HookSource::Tool(tool), workspace } => {
            let dir = commands::located(workspace)?;
            report_install(
                tool,
                install(dir.workspace(), tool, &hook_command(&commands::executable()?, tool))?,
            );
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Install { target: HookSource::Shell, .. } => {
            let binary = crate::install::shell_quote(&commands::executable()?.to_string_lossy());
            report_rc(&install_shell(&ShellHome::from_env()?, &binary)?);
            println!("Open a new terminal (or source the file) for it to take effect.");
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Uninstall { .. } => {
            let changes = uninstall_shell(&ShellHome::from_env()?)?;
            if changes.is_empty() {
                println!("The shell hook was not installed.");
            }
            report_rc(&changes);
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Hook { source } => {
            let current_dir = std::env::current_dir().ok();
            let outcome = std::panic::catch_unwind(|| {
                run_hook(
                    source,
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
            commands::explain(workspace, &rationale, title.as_deref(), impact)
        }
        ClientCommand::Flush { workspace, background: true } => {
            // Detached and silent: whatever happens is logged, and nobody reads the exit code.
            if let Ok((dir, state)) = commands::session(workspace) {
                background::run(&dir, &state);
            }
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Flush { workspace, background: false } => commands::flush(workspace),
        ClientCommand::Done { workspace } => commands::done(workspace),
        ClientCommand::Status { workspace } => commands::status(workspace),
        ClientCommand::Doctor { workspace } => doctor::run(workspace),
        ClientCommand::Verify { session_id, workspace } => verify::run(session_id, workspace),
    }
}

fn report_install(tool: Tool, installed: Installed) {
    match installed {
        Installed::Written(path) => println!("{tool} hooks installed in {}", path.display()),
        Installed::AlreadyPresent(path) => println!("{tool} hooks already in {}", path.display()),
    }
}

fn report_rc(changes: &[RcChange]) {
    for change in changes {
        match change {
            RcChange::Written(path) => println!("shell hook installed in {}", path.display()),
            RcChange::Unchanged(path) => println!("shell hook already in {}", path.display()),
            RcChange::Removed(path) => println!("shell hook removed from {}", path.display()),
        }
    }
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
    fn hooks_and_installs_name_tools_and_the_shell() {
        for args in
            [["t", "hook", "claude-code"], ["t", "hook", "shell"], ["t", "install", "shell"]]
        {
            assert!(Cli::try_parse_from(args).is_ok(), "{args:?}");
        }
        assert!(Cli::try_parse_from(["t", "hook", "vim"]).is_err());
        assert!(Cli::try_parse_from(["t", "uninstall", "shell"]).is_ok());
        assert!(Cli::try_parse_from(["t", "uninstall", "cursor"]).is_err());
    }
}
