//! From one tool's hook payload to drafts of canonical events; one module per tool, and here what they share:
//! the payload's context (paths, subagent role) and the events more than one tool produces (shell commands with
//! their test runs, file changes).

pub(crate) mod activity;
mod claude_code;
mod codex;
mod cursor;
mod shared;

use serde_json::Value;

use crate::envelope::Draft;
use crate::tool::Tool;
use crate::CaptureContext;

/// The drafts of one payload, in the order they happened. Anything but a JSON object gives none.
pub(crate) fn map(tool: Tool, payload: &Value, context: &CaptureContext) -> Vec<Draft> {
    if !payload.is_object() {
        return Vec::new();
    }
    let hook = shared::Hook::new(payload, context);
    match tool {
        Tool::ClaudeCode => claude_code::map(&hook),
        Tool::Cursor => cursor::map(&hook),
        Tool::Codex => codex::map(&hook),
    }
}
