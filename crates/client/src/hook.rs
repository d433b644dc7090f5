//! `traceline hook TOOL` and `traceline hook shell`: one payload on stdin, mapped, spooled, and handed to a detached
//! flusher.
//!
//! The hook runs inside the tool's loop (or after every command in the person's shell), so it must be quick and must
//! never fail the caller: it exits 0 whatever happens, never waits on the network, and reports problems in
//! `.traceline/hook.log` instead.

use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use chrono::Utc;
use serde_json::Value;
use traceline_capture::{map_hook, shell_command, CaptureContext, Tool};
use traceline_domain::event::Envelope;

use crate::observe::{observe, Moment};
use crate::shell::payload::ShellPayload;
use crate::spool::Spool;
use crate::state::{SessionState, StateDir};
use crate::workspace::find_state_dir;
use crate::{background, state};

/// Payloads larger than this are cut off: tool outputs are truncated before sending anyway, and reading an unbounded
/// stdin could stall the tool.
const MAX_PAYLOAD_BYTES: u64 = 32 * 1024 * 1024;

/// What runs a hook (and what `install` installs): an AI tool, or the person's shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookSource {
    /// An AI coding tool's hook, with its JSON payload.
    Tool(Tool),
    /// The shell hook of `traceline install shell`, with a finished command.
    Shell,
}

impl FromStr for HookSource {
    type Err = String;

    fn from_str(text: &str) -> Result<HookSource, String> {
        match text {
            "shell" => Ok(HookSource::Shell),
            _ => text
                .parse()
                .map(HookSource::Tool)
                .map_err(|_| "expected claude-code, cursor, codex or shell".to_owned()),
        }
    }
}

/// Runs one hook call. Returns what to print on stdout for the tool, if anything.
pub(crate) fn run_hook(
    source: HookSource,
    stdin: impl Read,
    env: impl Fn(&str) -> Option<String>,
    current_dir: Option<&Path>,
) -> Option<&'static str> {
    let mut bytes = Vec::new();
    let read = stdin.take(MAX_PAYLOAD_BYTES).read_to_end(&mut bytes);
    match source {
        HookSource::Tool(tool) => tool_hook(tool, &bytes, read.is_ok(), env, current_dir),
        HookSource::Shell => {
            shell_hook(&bytes);
            None
        }
    }
}

fn tool_hook(
    tool: Tool,
    bytes: &[u8],
    read_whole: bool,
    env: impl Fn(&str) -> Option<String>,
    current_dir: Option<&Path>,
) -> Option<&'static str> {
    let payload: Option<Value> = serde_json::from_slice(bytes).ok();
    let reply = payload.as_ref().and_then(|payload| reply_for(tool, payload));
    // Outside a workspace that ran `traceline start` (hooks installed globally, another project) there is nothing
    // to record and nowhere to log.
    let Some((dir, state)) = open_session(find_state_dir(env, current_dir), &tool.to_string())
    else {
        return reply;
    };
    if !read_whole {
        dir.log(&format!("{tool}: could not read the whole payload"));
        return reply;
    }
    let Some(payload) = payload else {
        dir.log(&format!("{tool}: the payload is not JSON ({} bytes)", bytes.len()));
        return reply;
    };
    let Some(context) = context(&dir, &state) else { return reply };
    let mut events = observed(&dir, &context, Moment::Hook { tool, payload: &payload });
    events.extend(map_hook(tool, &payload, &context));
    record(&dir, &tool.to_string(), &events);
    reply
}

/// A command the person typed: spooled as theirs, with the changes it made. `traceline` commands are left out: they
/// record themselves (`explain` as a decision, `done` as the end).
fn shell_hook(bytes: &[u8]) {
    let Some(payload) = ShellPayload::parse(bytes) else { return };
    if payload.runs_traceline() {
        return;
    }
    let directory = Path::new(&payload.cwd);
    let Some((dir, state)) = open_session(find_state_dir(|_| None, Some(directory)), "shell")
    else {
        return;
    };
    let Some(context) = context(&dir, &state) else { return };
    let mut events = observed(&dir, &context, Moment::ShellCommand);
    events.push(shell_command(&context, &payload.command(context.received_at)));
    record(&dir, "shell", &events);
}

/// The session of an initialised workspace that has not completed yet.
fn open_session(dir: Option<StateDir>, source: &str) -> Option<(StateDir, SessionState)> {
    let dir = dir?;
    match dir.load() {
        Ok(state) if state.completed_at.is_none() => Some((dir, state)),
        Ok(_) => None,
        Err(error) => {
            dir.log(&format!("{source}: {error:#}"));
            None
        }
    }
}

fn context(dir: &StateDir, state: &SessionState) -> Option<CaptureContext> {
    match state::capture_context(dir, state, Utc::now()) {
        Ok(context) => Some(context),
        Err(error) => {
            dir.log(&format!("{error:#}"));
            None
        }
    }
}

/// Changes in the working tree found now; a failure to look is logged and costs only those.
fn observed(dir: &StateDir, context: &CaptureContext, moment: Moment<'_>) -> Vec<Envelope> {
    observe(dir, context, moment).unwrap_or_else(|error| {
        dir.log(&format!("could not compare the working tree with its snapshot: {error}"));
        Vec::new()
    })
}

/// Spools the events, then starts the background delivery if anything waits (this call's events, or a backlog).
fn record(dir: &StateDir, source: &str, events: &[Envelope]) {
    let spool = Spool::of(dir);
    if let Err(error) = spool.append(events) {
        dir.log(&format!("{source}: could not spool {} events: {error}", events.len()));
        return;
    }
    if !spool.has_lines() {
        return;
    }
    if let Err(error) = background::start(dir) {
        dir.log(&format!("{source}: could not start the background delivery: {error}"));
    }
}

/// The answer some events expect on stdout. Cursor waits for `beforeSubmitPrompt` to say whether the prompt may go
/// on; everything else we hook only observes, and silence means "carry on" (Claude Code would even add plain stdout
/// to the model's context on some events, so we print nothing there).
fn reply_for(tool: Tool, payload: &Value) -> Option<&'static str> {
    let event = payload.get("hook_event_name").and_then(Value::as_str)?;
    (tool == Tool::Cursor && event == "beforeSubmitPrompt").then_some(r#"{"continue":true}"#)
}
