//! `traceline doctor`: every condition a recording depends on, checked, each failure with the fix to apply. Exits 1
//! when something must be fixed for events to reach the reviewer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::Utc;
use traceline_capture::Tool;

use crate::backoff::Backoff;
use crate::commands::{executable, session};
use crate::install::installed_executable;
use crate::observe::Observation;
use crate::server::{Patience, Server};
use crate::shell::install::{installed as shell_installed, ShellHome};
use crate::spool::Spool;
use crate::state::{SessionState, StateDir};

/// Clocks further apart than this make event times (and so durations) wrong by that much.
const CLOCK_SKEW_WARN_SECONDS: i64 = 60;
/// The server refuses events more than 24 hours ahead of its clock; well before that, timelines read wrong.
const CLOCK_SKEW_FAIL_SECONDS: i64 = 15 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

/// The findings, printed as they come.
#[derive(Debug, Default)]
struct Report {
    failed: bool,
}

impl Report {
    fn line(&mut self, verdict: Verdict, what: &str, detail: &str, fix: Option<&str>) {
        let label = match verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
        };
        self.failed |= verdict == Verdict::Fail;
        println!("{label}  {what:<12} {detail}");
        if let Some(fix) = fix.filter(|_| verdict != Verdict::Ok) {
            println!("      {:<12} fix: {fix}", "");
        }
    }
}

/// Runs every check and prints one line per check.
pub(crate) fn run(workspace: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let mut report = Report::default();
    let (dir, state) = match session(workspace) {
        Ok(found) => found,
        Err(error) => {
            report.line(
                Verdict::Fail,
                "session",
                &format!("{error:#}"),
                Some("run `traceline start KEY` in your workspace"),
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let done = state.completed_at.is_some();
    let detail = format!("{} in {}", state.session_id, dir.workspace().display());
    report.line(Verdict::Ok, "session", &detail, None);
    if let Some(at) = state.completed_at {
        report.line(Verdict::Ok, "completed", &format!("at {at}; nothing more is recorded"), None);
    }
    server(&mut report, &state);
    let this_binary = executable().ok();
    for tool in Tool::ALL {
        hooks(&mut report, &dir, tool, this_binary.as_deref());
    }
    shell(&mut report);
    spool(&mut report, &dir, done);
    let checked = Observation::load(&dir).checked_at;
    let detail = checked
        .map_or_else(|| "not compared yet".to_owned(), |at| format!("last compared at {at}"));
    report.line(Verdict::Ok, "working tree", &detail, None);
    Ok(if report.failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn server(report: &mut Report, state: &SessionState) {
    let probe =
        Server::new(&state.server, Patience::Quick).probe(&state.session_token, &state.session_id);
    let probe = match probe {
        Ok(probe) => probe,
        Err(error) => {
            let fix = "check the address (`traceline start KEY --server URL`) and your network; events wait in the \
                       spool meanwhile";
            report.line(
                Verdict::Fail,
                "server",
                &format!("{} unreachable: {error}", state.server),
                Some(fix),
            );
            return;
        }
    };
    let took = probe.took.as_millis();
    report.line(Verdict::Ok, "server", &format!("{} answered in {took} ms", state.server), None);
    match probe.status {
        200 => report.line(Verdict::Ok, "token", "accepted", None),
        401 | 403 | 404 => report.line(
            Verdict::Fail,
            "token",
            &format!("refused ({})", probe.status),
            Some("the key was revoked or has expired: ask the hiring team for a new key, then `traceline start KEY`"),
        ),
        status => report.line(
            Verdict::Warn,
            "token",
            &format!("could not be checked: the server answered {status}"),
            Some("try again in a minute; if it persists, tell the hiring team"),
        ),
    }
    let Some(server_time) = probe.server_time else {
        report.line(Verdict::Warn, "clock", "the server sent no Date header to compare with", None);
        return;
    };
    // The Date header has whole seconds and is stamped before the answer travels back.
    let skew = (Utc::now() - server_time).num_seconds();
    let verdict = match skew.abs() {
        seconds if seconds > CLOCK_SKEW_FAIL_SECONDS => Verdict::Fail,
        seconds if seconds > CLOCK_SKEW_WARN_SECONDS => Verdict::Warn,
        _ => Verdict::Ok,
    };
    report.line(
        verdict,
        "clock",
        &format!("{skew:+} s from the server's"),
        Some("set your clock from the network (e.g. `sudo timedatectl set-ntp true`, or the OS's date settings)"),
    );
}

fn hooks(report: &mut Report, dir: &StateDir, tool: Tool, this_binary: Option<&Path>) {
    let name = tool.to_string();
    let install = format!("traceline install {tool}");
    let Some(binary) = installed_executable(dir.workspace(), tool) else {
        let verdict = if tool == Tool::Codex { Verdict::Ok } else { Verdict::Warn };
        let detail = if tool == Tool::Codex { "not installed (optional)" } else { "not installed" };
        report.line(verdict, &name, detail, Some(&format!("run `{install}` if you use {tool}")));
        return;
    };
    if !binary.is_file() {
        let detail = format!("hooks run {}, which does not exist", binary.display());
        report.line(Verdict::Fail, &name, &detail, Some(&format!("run `{install}`")));
    } else if this_binary.is_some_and(|this| this != binary) {
        let detail = format!("hooks run {}, not this traceline", binary.display());
        report.line(
            Verdict::Warn,
            &name,
            &detail,
            Some(&format!("run `{install}` to use this one")),
        );
    } else {
        report.line(Verdict::Ok, &name, &format!("hooks run {}", binary.display()), None);
    }
}

fn shell(report: &mut Report) {
    let Ok(home) = ShellHome::from_env() else {
        report.line(
            Verdict::Warn,
            "shell",
            "HOME is not set, so the shell hook cannot be checked",
            None,
        );
        return;
    };
    let installed = shell_installed(&home);
    if installed.is_empty() {
        let fix =
            "run `traceline install shell` to record the commands you type in your own terminal";
        report.line(Verdict::Warn, "shell", "hook not installed", Some(fix));
    }
    for (shell, rc, binary) in installed {
        let path = binary.trim_matches('\'');
        let detail = format!("{} hook in {} runs {path}", shell.name(), rc.display());
        if Path::new(path).is_file() {
            report.line(Verdict::Ok, "shell", &detail, None);
        } else {
            let detail = format!("{detail}, which does not exist");
            report.line(Verdict::Fail, "shell", &detail, Some("run `traceline install shell`"));
        }
    }
}

fn spool(report: &mut Report, dir: &StateDir, done: bool) {
    let spool = Spool::of(dir);
    let (waiting, skipped, rejected) =
        match (spool.len(), spool.skipped_count(), spool.rejected_count()) {
            (Ok(waiting), Ok(skipped), Ok(rejected)) => (waiting, skipped, rejected),
            (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
                let fix = format!("check the permissions of {}", dir.path().display());
                report.line(Verdict::Fail, "spool", &format!("unreadable: {error}"), Some(&fix));
                return;
            }
        };
    let backoff = Backoff::load(dir).filter(|backoff| backoff.is_waiting(Utc::now()));
    let detail = format!(
        "{waiting} events waiting, {skipped} unreadable lines set aside, {rejected} refused"
    );
    let verdict =
        if waiting > 0 && (done || backoff.is_some()) { Verdict::Warn } else { Verdict::Ok };
    report.line(
        verdict,
        "spool",
        &detail,
        Some("run `traceline flush` once the server is reachable"),
    );
    if let Some(backoff) = backoff {
        let detail =
            format!("hooks leave the server alone until {}: {}", backoff.until, backoff.last_error);
        report.line(Verdict::Warn, "delivery", &detail, Some("`traceline flush` tries now"));
    }
}
