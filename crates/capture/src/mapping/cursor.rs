//! Cursor's hook payloads (camelCase events).
//!
//! A shell command is recorded from `postToolUse{Shell}` (or `postToolUseFailure{Shell}`) alone: it carries the
//! command, its working directory, a `tool_use_id` and, inside the JSON string `tool_output`, the exit code.
//! `afterShellExecution` reports the same command without an exit code or any id to join on, so it gives
//! nothing, as do the `before…` and `preToolUse` events. Reads come from `beforeReadFile`, edits from
//! `afterFileEdit` and MCP calls from `afterMCPExecution`; the `postToolUse` of those tools gives nothing.

use serde_json::{json, Value};

use super::shared::{
    agent_session_end, agent_session_start, ai_response, compaction, file_create, file_diff,
    prompt, shell_run, Hook, ShellRun,
};
use crate::envelope::{Draft, Who};
use crate::kinds;
use crate::patch::replacements;
use crate::payload::{bool_at, count_at, str_at};

pub(super) fn map(hook: &Hook<'_>) -> Vec<Draft> {
    match hook.event() {
        "sessionStart" => {
            vec![agent_session_start(hook).opt_text("composerMode", hook.str(&["composer_mode"]))]
        }
        "sessionEnd" => vec![agent_session_end(hook)
            .opt_text("finalStatus", hook.str(&["final_status"]))
            .opt_value("durationMs", count_at(hook.payload, &["duration_ms"]).map(Value::from))],
        "beforeSubmitPrompt" => prompt(hook.str(&["prompt"])),
        "postToolUse" => post_tool_use(hook),
        "postToolUseFailure" => post_tool_use_failure(hook),
        "afterFileEdit" => file_edit(hook),
        "beforeReadFile" => hook
            .str(&["file_path"])
            .map(|path| hook.ai(kinds::FILE_READ).text("path", &hook.path(path)))
            .into_iter()
            .collect(),
        "afterMCPExecution" => vec![mcp_call(hook)],
        "subagentStart" => vec![Draft::new(kinds::SUBAGENT_START, Who::Ai)
            .opt_text("subagentId", hook.str(&["subagent_id"]))
            .opt_text("subagentType", hook.str(&["subagent_type"]))
            .opt_text("taskDescription", hook.str(&["task"]))],
        "subagentStop" => vec![Draft::new(kinds::SUBAGENT_STOP, Who::Ai)
            .opt_text("subagentType", hook.str(&["subagent_type"]))
            .opt_text("status", hook.str(&["status"]))
            .opt_text("taskDescription", hook.str(&["task"]))
            .opt_text("summary", hook.str(&["summary"]))
            .opt_value("durationMs", count_at(hook.payload, &["duration_ms"]).map(Value::from))],
        "preCompact" => vec![compaction(hook).opt_value(
            "contextPct",
            hook.get(&["context_usage_percent"]).filter(|value| value.is_number()).cloned(),
        )],
        "afterAgentResponse" => ai_response(hook, hook.str(&["text"])),
        "afterAgentThought" => hook
            .str(&["text"])
            .filter(|text| !text.trim().is_empty())
            .map(|text| {
                hook.ai(kinds::AI_THOUGHT).text("text", text).opt_value(
                    "durationMs",
                    count_at(hook.payload, &["duration_ms"]).map(Value::from),
                )
            })
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

fn tool_input_command<'a>(hook: &Hook<'a>) -> Option<&'a str> {
    hook.str(&["tool_input", "command"])
}

fn working_directory<'a>(hook: &Hook<'a>) -> Option<&'a str> {
    hook.str(&["tool_input", "working_directory"]).or_else(|| hook.str(&["cwd"]))
}

fn post_tool_use(hook: &Hook<'_>) -> Vec<Draft> {
    match hook.str(&["tool_name"]).unwrap_or_default() {
        "Shell" => shell(hook),
        "Grep" => vec![hook
            .ai(kinds::FILE_SEARCH)
            .text("toolName", "Grep")
            .opt_text("pattern", hook.str(&["tool_input", "pattern"]))],
        "Delete" => {
            let path = hook
                .str(&["tool_input", "path"])
                .or_else(|| hook.str(&["tool_input", "file_path"]));
            path.map(|path| hook.ai(kinds::FILE_DELETE).text("path", &hook.path(path)))
                .into_iter()
                .collect()
        }
        // Covered by beforeReadFile, afterFileEdit, subagentStart/Stop and afterMCPExecution.
        "Read" | "Write" | "Edit" | "Task" | "" => Vec::new(),
        tool if tool.starts_with("MCP:") => Vec::new(),
        tool => vec![hook.ai(kinds::TOOL_USE).text("toolName", tool)],
    }
}

/// `tool_output` is a JSON string, `{"exitCode": 0, "stdout": …}` in the docs. Its exit code is used when it is
/// an integer; otherwise none is given.
fn shell(hook: &Hook<'_>) -> Vec<Draft> {
    let Some(command) = tool_input_command(hook) else { return Vec::new() };
    let output: Value = hook
        .str(&["tool_output"])
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    shell_run(
        hook,
        ShellRun {
            command,
            exit_code: output.get("exitCode").and_then(Value::as_i64),
            stdout: str_at(&output, &["stdout"]).or_else(|| str_at(&output, &["output"])),
            stderr: str_at(&output, &["stderr"]),
            duration_ms: count_at(hook.payload, &["duration"]),
            cwd: working_directory(hook),
            extra: Vec::new(),
        },
    )
}

fn post_tool_use_failure(hook: &Hook<'_>) -> Vec<Draft> {
    let tool = hook.str(&["tool_name"]).unwrap_or_default();
    let failure = hook.str(&["failure_type"]);
    let error = hook.str(&["error_message"]);
    let interrupted = bool_at(hook.payload, &["is_interrupt"]) == Some(true);
    let mut extra = Vec::new();
    if failure == Some("timeout") {
        extra.push(("timedOut", json!(true)));
    }
    if interrupted {
        extra.push(("interrupted", json!(true)));
    }
    if tool == "Shell" {
        let Some(command) = tool_input_command(hook) else { return Vec::new() };
        // A failure without an exit code (timeout, refusal): the error is the output there is.
        return shell_run(
            hook,
            ShellRun {
                command,
                stdout: error,
                duration_ms: count_at(hook.payload, &["duration"]),
                cwd: working_directory(hook),
                extra,
                ..ShellRun::default()
            },
        );
    }
    let mut draft = hook.ai(kinds::TOOL_ERROR).text("tool", tool).opt_text("error", error);
    draft = draft.opt_text("failureType", failure);
    for (key, value) in extra {
        draft = draft.value(key, value);
    }
    vec![draft]
}

/// A new file is one edit replacing nothing; anything else is a diff of the replacements.
fn file_edit(hook: &Hook<'_>) -> Vec<Draft> {
    let Some(path) = hook.str(&["file_path"]) else { return Vec::new() };
    let edits = hook.get(&["edits"]).unwrap_or(&Value::Null);
    if let Some([only]) = edits.as_array().map(Vec::as_slice) {
        if str_at(only, &["old_string"]) == Some("") {
            return vec![file_create(
                hook,
                path,
                str_at(only, &["new_string"]).unwrap_or_default(),
            )];
        }
    }
    vec![file_diff(hook, path, replacements(edits))]
}

/// `tool_input` and `result_json` are JSON strings: the input is sent parsed when it parses.
fn mcp_call(hook: &Hook<'_>) -> Draft {
    let input = hook.str(&["tool_input"]).map(|text| {
        serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_owned()))
    });
    hook.ai(kinds::MCP_CALL)
        .opt_text("server", hook.str(&["mcp_server_name"]))
        .opt_text("tool", hook.str(&["tool_name"]))
        .opt_value("input", input)
        .opt_text("output", hook.str(&["result_json"]))
        .opt_value("durationMs", count_at(hook.payload, &["duration"]).map(Value::from))
}
