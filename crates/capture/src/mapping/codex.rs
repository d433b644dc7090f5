//! Codex CLI's hook payloads (Claude-style events in snake_case) and its legacy `notify` payload. Shell calls
//! arrive as `Bash` with a text result (`Exit code: N`, `Wall time: …`, `Output:` then the output); file edits
//! as `apply_patch`, whose patch text names each file.

use serde_json::Value;

use super::shared::{
    agent_session_end, agent_session_start, ai_response, compaction, file_create, file_diff,
    prompt, shell_run, Hook, ShellRun,
};
use crate::envelope::Draft;
use crate::kinds;
use crate::patch::{apply_patch, FileOp};
use crate::payload::{count_at, str_at};

pub(super) fn map(hook: &Hook<'_>) -> Vec<Draft> {
    if hook.str(&["type"]) == Some("agent-turn-complete") {
        // `notify`: once per turn, with the final message. (Configure it or the hooks, not both.)
        return ai_response(hook, hook.str(&["last-assistant-message"]));
    }
    match hook.event() {
        "SessionStart" if hook.str(&["source"]) == Some("compact") => Vec::new(),
        "SessionStart" => vec![agent_session_start(hook)],
        "SessionEnd" => vec![agent_session_end(hook)],
        "UserPromptSubmit" => prompt(hook.str(&["prompt"])),
        "PostToolUse" => post_tool_use(hook),
        "Stop" => ai_response(hook, hook.str(&["last_assistant_message"])),
        "PreCompact" => vec![compaction(hook)],
        _ => Vec::new(),
    }
}

fn post_tool_use(hook: &Hook<'_>) -> Vec<Draft> {
    let input = hook.get(&["tool_input"]).unwrap_or(&Value::Null);
    let response = hook.get(&["tool_response"]).unwrap_or(&Value::Null);
    match hook.str(&["tool_name"]).unwrap_or_default() {
        "Bash" => bash(hook, input, response),
        "apply_patch" => patch_files(hook, input),
        "" => Vec::new(),
        tool => vec![hook.ai(kinds::TOOL_USE).text("toolName", tool)],
    }
}

fn bash(hook: &Hook<'_>, input: &Value, response: &Value) -> Vec<Draft> {
    let Some(command) = str_at(input, &["command"]) else { return Vec::new() };
    let mut run = ShellRun { command, cwd: hook.str(&["cwd"]), ..ShellRun::default() };
    match response {
        Value::String(text) => {
            let (header, output) = text.split_once("Output:\n").unwrap_or((text, ""));
            for line in header.lines() {
                if let Some(code) = line.strip_prefix("Exit code:") {
                    run.exit_code = code.trim().parse().ok();
                } else if let Some(wall) = line.strip_prefix("Wall time:") {
                    run.duration_ms = seconds_to_ms(wall);
                }
            }
            run.stdout = Some(if text.contains("Output:\n") { output } else { text });
        }
        // A structured result, should a later version send one.
        Value::Object(_) => {
            run.exit_code = response
                .get("exit_code")
                .or_else(|| response.get("exitCode"))
                .and_then(Value::as_i64);
            run.stdout = str_at(response, &["output"]).or_else(|| str_at(response, &["stdout"]));
            run.stderr = str_at(response, &["stderr"]);
            run.duration_ms = count_at(response, &["duration_ms"]);
        }
        _ => {}
    }
    shell_run(hook, run)
}

/// `2.4 seconds` → 2400.
fn seconds_to_ms(text: &str) -> Option<u64> {
    let seconds: f64 = text.trim().strip_suffix("seconds")?.trim().parse().ok()?;
    (0.0..1e12).contains(&seconds).then(|| (seconds * 1000.0).round() as u64)
}

/// One event per file the patch touches. The patch text is the tool's input: a string, or a string field of it.
fn patch_files(hook: &Hook<'_>, input: &Value) -> Vec<Draft> {
    let text = match input {
        Value::String(text) => Some(text.as_str()),
        Value::Object(fields) => {
            fields.values().filter_map(Value::as_str).find(|text| text.contains("*** "))
        }
        _ => None,
    };
    let Some(text) = text else { return Vec::new() };
    apply_patch(text)
        .into_iter()
        .map(|file| match file.op {
            FileOp::Add { content } => file_create(hook, &file.path, &content),
            FileOp::Update { moved_to } => file_diff(hook, &file.path, Some(file.change))
                .opt_text("movedTo", moved_to.map(|to| hook.path(&to)).as_deref()),
            FileOp::Delete => hook.ai(kinds::FILE_DELETE).text("path", &hook.path(&file.path)),
        })
        .collect()
}
