//! What a hook call says about who is changing the working tree, so the client can tell the person's edits from the
//! agent's: the files the agent's own tools changed (and, where the payload shows it, what they held before), and the
//! start and end of the agent's shell commands, whose file changes no hook reports one by one.

use serde_json::Value;

use super::shared::Hook;
use crate::patch::{apply_patch, FileOp};
use crate::payload::str_at;
use crate::tool::Tool;
use crate::CaptureContext;

/// What an agent hook call means for the working tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentActivity {
    /// The agent is about to run a shell command: what changed until now is not its doing.
    CommandStarting,
    /// The agent's shell command has finished: what changed while it ran is its doing.
    CommandFinished {
        /// The command line.
        command: String,
    },
    /// The agent's own tools changed these files and said so.
    FilesReported(Vec<ReportedFile>),
    /// No tool of the agent is running: a turn or a session starts or ends, the tool waits for the person. A
    /// change found now was made by someone no hook reports: the person.
    Idle,
    /// Anything else, in the middle of a turn (a read, a search, a subagent): another tool of the same turn may be
    /// writing a file whose report has not come yet, so the tree is not looked at now.
    Other,
}

/// A file an agent tool reported changing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedFile {
    /// Relative to the workspace, with `/` separators. Files outside the workspace are not reported.
    pub path: String,
    /// What the file held just before the tool changed it, as far as the payload tells.
    pub before: Before,
}

/// A file's content just before an agent tool changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Before {
    /// The payload carries it (Claude Code's `originalFile`).
    Known(String),
    /// The tool created the file.
    Absent,
    /// The tool replaced these `(old, new)` strings, in order; undoing them on the new content gives the old.
    Replacements(Vec<(String, String)>),
    /// The payload does not tell.
    Unknown,
}

impl Before {
    /// The content before the change, given the content after it: `None` when that cannot be known (or the file
    /// did not exist, for [`Before::Absent`]).
    pub fn reconstruct(&self, after: &str) -> Option<String> {
        match self {
            Before::Known(text) => Some(text.clone()),
            Before::Absent | Before::Unknown => None,
            Before::Replacements(edits) => {
                let mut text = after.to_owned();
                for (old, new) in edits.iter().rev() {
                    // An insertion of nothing, or a replacement no longer there, cannot be undone reliably.
                    let at = (!new.is_empty()).then(|| text.find(new.as_str())).flatten()?;
                    text.replace_range(at..at + new.len(), old);
                }
                Some(text)
            }
        }
    }
}

/// What `payload` of `tool` says about the working tree.
pub fn agent_activity(tool: Tool, payload: &Value, context: &CaptureContext) -> AgentActivity {
    if !payload.is_object() {
        return AgentActivity::Other;
    }
    let hook = Hook::new(payload, context);
    let tool_name = hook.str(&["tool_name"]).unwrap_or_default();
    let command = || hook.str(&["tool_input", "command"]).map(str::to_owned);
    let is_shell = matches!(
        (tool, tool_name),
        (Tool::ClaudeCode, "Bash" | "PowerShell") | (Tool::Cursor, "Shell") | (Tool::Codex, "Bash")
    );
    match (tool, hook.event()) {
        (Tool::ClaudeCode | Tool::Codex, "PreToolUse") | (Tool::Cursor, "preToolUse")
            if is_shell =>
        {
            AgentActivity::CommandStarting
        }
        (Tool::ClaudeCode | Tool::Codex, "PostToolUse" | "PostToolUseFailure")
        | (Tool::Cursor, "postToolUse" | "postToolUseFailure")
            if is_shell =>
        {
            command()
                .map_or(AgentActivity::Other, |command| AgentActivity::CommandFinished { command })
        }
        (Tool::ClaudeCode, "PostToolUse") => claude_files(&hook, tool_name),
        (Tool::Cursor, "afterFileEdit") => cursor_edit(&hook),
        (Tool::Cursor, "postToolUse") if tool_name == "Delete" => {
            let path = hook.str(&["tool_input", "path"]).or(hook.str(&["tool_input", "file_path"]));
            reported(&hook, path.into_iter().map(|path| (path, Before::Unknown)))
        }
        (Tool::Codex, "PostToolUse") if tool_name == "apply_patch" => codex_patch(&hook),
        (_, event)
            if is_idle(tool, event) || hook.str(&["type"]) == Some("agent-turn-complete") =>
        {
            AgentActivity::Idle
        }
        _ => AgentActivity::Other,
    }
}

/// Events at which none of the agent's tools runs.
fn is_idle(tool: Tool, event: &str) -> bool {
    match tool {
        Tool::ClaudeCode | Tool::Codex => matches!(
            event,
            "UserPromptSubmit"
                | "Stop"
                | "StopFailure"
                | "SessionStart"
                | "SessionEnd"
                | "Notification"
                | "PreCompact"
        ),
        Tool::Cursor => matches!(
            event,
            "beforeSubmitPrompt"
                | "afterAgentResponse"
                | "stop"
                | "sessionStart"
                | "sessionEnd"
                | "preCompact"
        ),
    }
}

fn claude_files(hook: &Hook<'_>, tool_name: &str) -> AgentActivity {
    if !matches!(tool_name, "Edit" | "MultiEdit" | "Write" | "NotebookEdit") {
        return AgentActivity::Other;
    }
    let input = hook.get(&["tool_input"]).unwrap_or(&Value::Null);
    let response = hook.get(&["tool_response"]).unwrap_or(&Value::Null);
    let path = str_at(response, &["filePath"])
        .or_else(|| str_at(input, &["file_path"]))
        .or_else(|| str_at(input, &["notebook_path"]));
    let before = if str_at(response, &["type"]) == Some("create") {
        Before::Absent
    } else if let Some(original) = str_at(response, &["originalFile"]) {
        Before::Known(original.to_owned())
    } else if tool_name == "Edit" {
        replacements([input]).unwrap_or(Before::Unknown)
    } else if tool_name == "MultiEdit" {
        let edits = input.get("edits").and_then(Value::as_array);
        edits.and_then(replacements).unwrap_or(Before::Unknown)
    } else {
        Before::Unknown
    };
    reported(hook, path.into_iter().map(|path| (path, before.clone())))
}

fn cursor_edit(hook: &Hook<'_>) -> AgentActivity {
    let edits = hook.get(&["edits"]).and_then(Value::as_array);
    let created = edits
        .is_some_and(|edits| edits.len() == 1 && str_at(&edits[0], &["old_string"]) == Some(""));
    let before = if created {
        Before::Absent
    } else {
        edits.and_then(replacements).unwrap_or(Before::Unknown)
    };
    reported(hook, hook.str(&["file_path"]).into_iter().map(|path| (path, before.clone())))
}

fn codex_patch(hook: &Hook<'_>) -> AgentActivity {
    let input = hook.get(&["tool_input"]).unwrap_or(&Value::Null);
    let text = match input {
        Value::String(text) => Some(text.as_str()),
        Value::Object(fields) => {
            fields.values().filter_map(Value::as_str).find(|text| text.contains("*** "))
        }
        _ => None,
    };
    let files = text.map(apply_patch).unwrap_or_default();
    let mut touched = Vec::new();
    for file in &files {
        match &file.op {
            FileOp::Add { .. } => touched.push((file.path.as_str(), Before::Absent)),
            FileOp::Update { moved_to } => {
                touched.push((file.path.as_str(), Before::Unknown));
                if let Some(to) = moved_to {
                    touched.push((to.as_str(), Before::Absent));
                }
            }
            FileOp::Delete => touched.push((file.path.as_str(), Before::Unknown)),
        }
    }
    reported(hook, touched.into_iter())
}

/// `(old_string, new_string)` of each edit, or `None` when one of them is not a pair of strings.
fn replacements<'a>(edits: impl IntoIterator<Item = &'a Value>) -> Option<Before> {
    let pairs: Option<Vec<(String, String)>> = edits
        .into_iter()
        .map(|edit| {
            let old = str_at(edit, &["old_string"])?;
            let new = str_at(edit, &["new_string"])?;
            Some((old.to_owned(), new.to_owned()))
        })
        .collect();
    pairs.filter(|pairs| !pairs.is_empty()).map(Before::Replacements)
}

/// The files inside the workspace, by their relative path.
fn reported<'a>(hook: &Hook<'_>, files: impl Iterator<Item = (&'a str, Before)>) -> AgentActivity {
    let files: Vec<ReportedFile> = files
        .filter_map(|(path, before)| {
            let relative = hook.workspace_path(path)?;
            Some(ReportedFile { path: relative, before })
        })
        .collect();
    if files.is_empty() {
        AgentActivity::Other
    } else {
        AgentActivity::FilesReported(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacements_are_undone_last_first() {
        let before = Before::Replacements(vec![
            ("a = 1".to_owned(), "a = 2".to_owned()),
            ("a = 2\nb".to_owned(), "a = 2\nB".to_owned()),
        ]);
        assert_eq!(before.reconstruct("x\na = 2\nB\n").as_deref(), Some("x\na = 1\nb\n"));
        assert_eq!(before.reconstruct("nothing like it"), None);
        assert_eq!(Before::Known("k".to_owned()).reconstruct("z").as_deref(), Some("k"));
        assert_eq!(Before::Absent.reconstruct("z"), None);
    }
}
