//! `traceline hook TOOL`: one payload on stdin, mapped, spooled, and sent if the server can take it.
//!
//! The hook runs inside the tool's loop, so it must be quick and must never fail the tool: it exits 0 whatever
//! happens and reports problems in `.traceline/hook.log` instead.

use std::io::Read;
use std::path::Path;

use chrono::Utc;
use serde_json::Value;
use traceline_capture::{map_hook, CaptureContext, Tool};

use crate::backoff::Backoff;
use crate::flush::{flush, FlushBudget};
use crate::server::{Patience, Server};
use crate::signer;
use crate::workspace::find_state_dir;

/// Payloads larger than this are cut off: tool outputs are truncated before sending anyway, and reading an unbounded
/// stdin could stall the tool.
const MAX_PAYLOAD_BYTES: u64 = 32 * 1024 * 1024;

/// A hook call never sends more requests than this; a backlog drains over the following calls or `traceline flush`.
const HOOK_REQUESTS: usize = 2;

/// Runs one hook call. Returns what to print on stdout for the tool, if anything.
pub(crate) fn run_hook(
    tool: Tool,
    stdin: impl Read,
    env: impl Fn(&str) -> Option<String>,
    current_dir: Option<&Path>,
) -> Option<&'static str> {
    let mut text = String::new();
    let read = stdin.take(MAX_PAYLOAD_BYTES).read_to_string(&mut text);
    let payload: Option<Value> = serde_json::from_str(&text).ok();
    let reply = payload.as_ref().and_then(|payload| reply_for(tool, payload));
    // Outside a workspace that ran `traceline start` (hooks installed globally, another project) there is nothing
    // to record and nowhere to log.
    let Some(dir) = find_state_dir(env, current_dir) else { return reply };
    let state = match dir.load() {
        Ok(state) => state,
        Err(error) => {
            dir.log(&format!("{tool}: {error:#}"));
            return reply;
        }
    };
    if state.completed_at.is_some() {
        return reply;
    }
    if let Err(error) = read {
        dir.log(&format!("{tool}: could not read the payload: {error}"));
        return reply;
    }
    let Some(payload) = payload else {
        dir.log(&format!("{tool}: the payload is not JSON ({} bytes)", text.len()));
        return reply;
    };

    let context = CaptureContext {
        session_id: state.session_id.clone(),
        workspace: dir.workspace().to_path_buf(),
        received_at: Utc::now(),
    };
    let envelopes = map_hook(tool, &payload, &context);
    let count = envelopes.len();
    if let Err(error) = signer::append(&dir, &state.session_id, envelopes) {
        dir.log(&format!("{tool}: could not spool {count} events: {error:#}"));
        return reply;
    }
    if Backoff::load(&dir).is_some_and(|backoff| backoff.is_waiting(Utc::now())) {
        return reply;
    }
    let server = Server::new(&state.server, Patience::Hook);
    match flush(&dir, &state, &server, FlushBudget::Requests(HOOK_REQUESTS)) {
        Ok(report) => {
            if let Some(error) = report.error {
                dir.log(&format!("{tool}: {} events wait in the spool: {error}", report.remaining));
            }
        }
        Err(error) => dir.log(&format!("{tool}: could not deliver the spool: {error}")),
    }
    reply
}

/// The answer some events expect on stdout. Cursor waits for `beforeSubmitPrompt` to say whether the prompt may go
/// on; everything else we hook only observes, and silence means "carry on" (Claude Code would even add plain stdout
/// to the model's context on some events, so we print nothing there).
fn reply_for(tool: Tool, payload: &Value) -> Option<&'static str> {
    let event = payload.get("hook_event_name").and_then(Value::as_str)?;
    (tool == Tool::Cursor && event == "beforeSubmitPrompt").then_some(r#"{"continue":true}"#)
}
