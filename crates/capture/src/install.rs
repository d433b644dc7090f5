//! Installing Traceline's hook command into a tool's hook configuration, merged into what is there.
//!
//! The merge never removes or changes a user's own hooks and is idempotent: Traceline's handlers (recognised by
//! a command containing ` hook <tool>`, or equal to the new command) are first taken out of every event, then
//! added back, once, at the end of the events Traceline listens to. So a second run gives the same document, and
//! an older Traceline entry, even on an event no longer listened to, is replaced rather than duplicated. A
//! document of an unexpected shape is refused ([`InstallError`]), never overwritten.

use serde_json::{json, Map, Value};

use crate::tool::Tool;

/// Why a configuration document cannot be merged into.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    /// The document, or a part of it, is not the shape the tool defines; `at` names the part.
    #[error("{at} is not {expected}; refusing to rewrite it")]
    UnexpectedShape {
        /// Where in the document: `the document`, `hooks`, `hooks.PostToolUse`, …
        at: String,
        /// What the tool expects there.
        expected: &'static str,
    },
    /// A Cursor `hooks.json` of another `version` than 1.
    #[error("hooks.json has version {0}; only version 1 is understood")]
    UnsupportedVersion(String),
}

/// Claude Code events Traceline listens to (matcher-less events ignore a matcher; tool events get `*`, except
/// `PreToolUse`, which only shell commands need: the client brackets them to tell the files they change from the
/// person's).
pub const CLAUDE_EVENTS: &[&str] = &[
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "SubagentStart",
    "SubagentStop",
    "Stop",
    "StopFailure",
    "PreCompact",
    "Notification",
    "SessionEnd",
];

/// Cursor events Traceline listens to.
pub const CURSOR_EVENTS: &[&str] = &[
    "sessionStart",
    "beforeSubmitPrompt",
    "beforeReadFile",
    "afterFileEdit",
    "preToolUse",
    "postToolUse",
    "postToolUseFailure",
    "afterMCPExecution",
    "subagentStart",
    "subagentStop",
    "preCompact",
    "afterAgentThought",
    "afterAgentResponse",
    "sessionEnd",
];

/// Codex events Traceline listens to.
pub const CODEX_EVENTS: &[&str] = &[
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "Stop",
    "PreCompact",
    "SessionEnd",
];

/// Seconds a tool waits for the hook; the hook returns in milliseconds, this only bounds a stuck one.
const TIMEOUT_SECONDS: u64 = 10;

/// The matcher of a tool event's handler: every tool after a call, only shell commands before one.
fn matcher(tool: Tool, event: &str) -> Option<&'static str> {
    match (tool, event) {
        (Tool::ClaudeCode, "PreToolUse") => Some("Bash|PowerShell"),
        (Tool::Codex, "PreToolUse") => Some("Bash"),
        (Tool::Cursor, "preToolUse") => Some("Shell"),
        (Tool::ClaudeCode | Tool::Codex, "PostToolUse" | "PostToolUseFailure") => Some("*"),
        _ => None,
    }
}

/// Merges Traceline's `command` into `.claude/settings.local.json` (`None`: the file does not exist).
pub fn merge_claude_settings(
    existing: Option<Value>,
    command: &str,
) -> Result<Value, InstallError> {
    merge_grouped(existing, command, Tool::ClaudeCode, CLAUDE_EVENTS)
}

/// Merges Traceline's `command` into `.codex/hooks.json` (`None`: the file does not exist).
pub fn merge_codex_hooks(existing: Option<Value>, command: &str) -> Result<Value, InstallError> {
    merge_grouped(existing, command, Tool::Codex, CODEX_EVENTS)
}

/// Merges Traceline's `command` into `.cursor/hooks.json` (`None`: the file does not exist). Cursor's layout is
/// flat: `{"version": 1, "hooks": {"<event>": [{"command": …}]}}`.
pub fn merge_cursor_hooks(existing: Option<Value>, command: &str) -> Result<Value, InstallError> {
    let mut document = existing.unwrap_or_else(|| json!({}));
    let root = object(&mut document, "the document")?;
    match root.get("version") {
        None | Some(Value::Null) => {
            root.insert("version".to_owned(), json!(1));
        }
        Some(version) if version.as_f64() == Some(1.0) => {}
        Some(version) => return Err(InstallError::UnsupportedVersion(version.to_string())),
    }
    let hooks = hooks_object(root)?;
    remove_ours(hooks, false, |handler| is_ours(handler, Tool::Cursor, command))?;
    for event in CURSOR_EVENTS {
        let mut handler = json!({"command": command, "timeout": TIMEOUT_SECONDS});
        if let (Some(matcher), Value::Object(fields)) = (matcher(Tool::Cursor, event), &mut handler)
        {
            fields.insert("matcher".to_owned(), json!(matcher));
        }
        let handlers = hooks.entry(*event).or_insert_with(|| json!([]));
        array(handlers, event)?.push(handler);
    }
    Ok(document)
}

/// Claude Code and Codex: `{"hooks": {"<Event>": [{"matcher"?, "hooks": [{"type": "command", …}]}]}}`.
fn merge_grouped(
    existing: Option<Value>,
    command: &str,
    tool: Tool,
    events: &[&str],
) -> Result<Value, InstallError> {
    let mut document = existing.unwrap_or_else(|| json!({}));
    let hooks = hooks_object(object(&mut document, "the document")?)?;
    remove_ours(hooks, true, |handler| is_ours(handler, tool, command))?;
    for event in events {
        let mut group = Map::new();
        if let Some(matcher) = matcher(tool, event) {
            group.insert("matcher".to_owned(), json!(matcher));
        }
        let handler = json!({"type": "command", "command": command, "timeout": TIMEOUT_SECONDS});
        group.insert("hooks".to_owned(), json!([handler]));
        let groups = hooks.entry(*event).or_insert_with(|| json!([]));
        array(groups, event)?.push(Value::Object(group));
    }
    Ok(document)
}

/// Takes Traceline's handlers out of every event. A matcher group, or an event, that held only Traceline's is
/// removed with them; one the user left empty stays as written.
fn remove_ours(
    hooks: &mut Map<String, Value>,
    grouped: bool,
    ours: impl Fn(&Value) -> bool,
) -> Result<(), InstallError> {
    let mut emptied = Vec::new();
    for (event, list) in hooks.iter_mut() {
        let list = array(list, event)?;
        let before = list.len();
        if grouped {
            let mut kept = Vec::with_capacity(before);
            for mut group in std::mem::take(list) {
                let handlers =
                    match object(&mut group, &format!("hooks.{event}[]"))?.get_mut("hooks") {
                        Some(handlers) => array(handlers, event)?,
                        None => {
                            kept.push(group);
                            continue;
                        }
                    };
                let count = handlers.len();
                handlers.retain(|handler| !ours(handler));
                if handlers.len() == count || !handlers.is_empty() {
                    kept.push(group);
                }
            }
            *list = kept;
        } else {
            list.retain(|handler| !ours(handler));
        }
        if before > 0 && list.is_empty() {
            emptied.push(event.clone());
        }
    }
    for event in emptied {
        hooks.remove(&event);
    }
    Ok(())
}

/// Whether a handler is Traceline's: its command runs `… hook <tool>`, or is exactly the one being installed.
fn is_ours(handler: &Value, tool: Tool, command: &str) -> bool {
    let marker = format!(" hook {tool}");
    handler
        .get("command")
        .and_then(Value::as_str)
        .is_some_and(|existing| existing == command || existing.contains(&marker))
}

fn object<'a>(value: &'a mut Value, at: &str) -> Result<&'a mut Map<String, Value>, InstallError> {
    value.as_object_mut().ok_or_else(|| shape(at, "a JSON object"))
}

fn array<'a>(value: &'a mut Value, at: &str) -> Result<&'a mut Vec<Value>, InstallError> {
    value.as_array_mut().ok_or_else(|| shape(&format!("hooks.{at}"), "a JSON array"))
}

fn hooks_object(root: &mut Map<String, Value>) -> Result<&mut Map<String, Value>, InstallError> {
    let hooks = root.entry("hooks").or_insert_with(|| json!({}));
    if hooks.is_null() {
        *hooks = json!({});
    }
    hooks.as_object_mut().ok_or_else(|| shape("hooks", "a JSON object"))
}

fn shape(at: &str, expected: &'static str) -> InstallError {
    InstallError::UnexpectedShape { at: at.to_owned(), expected }
}
