//! Claude Code's hook payloads. A tool call is recorded once, when it has finished: from `PostToolUse`
//! (success) or `PostToolUseFailure` (failure); `PreToolUse` and `PermissionRequest` give nothing.

use serde_json::{json, Value};

use traceline_domain::event::{Attribution, EventKind};

use super::shared::{
    agent_session_end, agent_session_start, ai_response, compaction, file_create, file_diff,
    prompt, shell_run, Hook, ShellRun,
};
use crate::envelope::{Draft, Who};
use crate::kinds;
use crate::patch::{replacement, replacements, structured_patch, Change};
use crate::payload::{bool_at, count_at, str_at};

pub(super) fn map(hook: &Hook<'_>) -> Vec<Draft> {
    match hook.event() {
        // A compaction restarts the session under the same id; the `PreCompact` checkpoint records it.
        "SessionStart" if hook.str(&["source"]) == Some("compact") => Vec::new(),
        "SessionStart" => vec![agent_session_start(hook)],
        "SessionEnd" => vec![agent_session_end(hook)],
        "UserPromptSubmit" => prompt(hook.str(&["prompt"])),
        "PostToolUse" => post_tool_use(hook),
        "PostToolUseFailure" => post_tool_use_failure(hook),
        "SubagentStart" => subagent(hook, kinds::SUBAGENT_START),
        "SubagentStop" => subagent(hook, kinds::SUBAGENT_STOP),
        "Stop" => ai_response(hook, hook.str(&["last_assistant_message"])),
        "StopFailure" => vec![Draft::new(kinds::AGENT_ERROR, Who::System)
            .opt_text("error", hook.str(&["error"]))
            .opt_text("details", hook.str(&["error_details"]))],
        "PreCompact" => vec![compaction(hook)],
        "Notification" => vec![Draft::new(kinds::NOTIFICATION, Who::System)
            .opt_text("type", hook.str(&["notification_type"]))
            .opt_text("message", hook.str(&["message"]))],
        _ => Vec::new(),
    }
}

fn tool_name<'a>(hook: &Hook<'a>) -> &'a str {
    hook.str(&["tool_name"]).unwrap_or_default()
}

fn is_shell(tool: &str) -> bool {
    matches!(tool, "Bash" | "PowerShell")
}

fn post_tool_use(hook: &Hook<'_>) -> Vec<Draft> {
    let tool = tool_name(hook);
    let input = hook.get(&["tool_input"]).unwrap_or(&Value::Null);
    let response = hook.get(&["tool_response"]).unwrap_or(&Value::Null);
    if is_shell(tool) {
        return bash(hook, input, response);
    }
    match tool {
        "Edit" | "MultiEdit" | "Write" | "NotebookEdit" => file_change(hook, tool, input, response),
        _ => tool_call(hook, tool, input, response),
    }
}

/// A successful command: exit 0, or 1 when Claude Code calls it benign (`grep` finding nothing), which it
/// marks with `returnCodeInterpretation`. A command moved to the background, interrupted or timed out has not
/// told its exit code, so none is given.
fn bash(hook: &Hook<'_>, input: &Value, response: &Value) -> Vec<Draft> {
    let Some(command) = str_at(input, &["command"]) else { return Vec::new() };
    let interpretation = str_at(response, &["returnCodeInterpretation"]);
    let background = str_at(response, &["backgroundTaskId"]).is_some();
    let interrupted = bool_at(response, &["interrupted"]) == Some(true);
    let timed_out = response.get("timedOutAfterMs").is_some_and(|value| !value.is_null());
    let mut extra = Vec::new();
    if let Some(interpretation) = interpretation {
        extra.push(("interpretation", json!(interpretation)));
    }
    for (key, set) in
        [("background", background), ("interrupted", interrupted), ("timedOut", timed_out)]
    {
        if set {
            extra.push((key, json!(true)));
        }
    }
    let finished = !(background || interrupted || timed_out);
    let exit_code = finished.then_some(if interpretation.is_some() { 1 } else { 0 });
    shell_run(
        hook,
        ShellRun {
            command,
            exit_code,
            stdout: str_at(response, &["stdout"]),
            stderr: str_at(response, &["stderr"]),
            duration_ms: count_at(hook.payload, &["duration_ms"]),
            cwd: hook.str(&["cwd"]),
            extra,
        },
    )
}

fn post_tool_use_failure(hook: &Hook<'_>) -> Vec<Draft> {
    let tool = tool_name(hook);
    let error = hook.str(&["error"]).unwrap_or_default();
    let input = hook.get(&["tool_input"]).unwrap_or(&Value::Null);
    let interrupted = bool_at(hook.payload, &["is_interrupt"]) == Some(true);
    if is_shell(tool) {
        let Some(command) = str_at(input, &["command"]) else { return Vec::new() };
        // `Exit code N` on the first line, then the output; a shell that could not start has no such line.
        let (exit_code, output) = match error.split_once('\n') {
            Some((first, rest)) => (exit_code_line(first), rest),
            None => (exit_code_line(error), ""),
        };
        let output = if exit_code.is_some() { output.trim_start_matches('\n') } else { error };
        let extra = if interrupted { vec![("interrupted", json!(true))] } else { Vec::new() };
        return shell_run(
            hook,
            ShellRun {
                command,
                exit_code,
                stdout: Some(output),
                duration_ms: count_at(hook.payload, &["duration_ms"]),
                cwd: hook.str(&["cwd"]),
                extra,
                ..ShellRun::default()
            },
        );
    }
    let path = str_at(input, &["file_path"]).or_else(|| str_at(input, &["notebook_path"]));
    vec![hook
        .ai(kinds::TOOL_ERROR)
        .text("tool", tool)
        .text("error", error)
        .opt_text("path", path.map(|path| hook.path(path)).as_deref())
        .opt_value("interrupted", interrupted.then_some(json!(true)))]
}

/// `Exit code 1` → 1.
fn exit_code_line(line: &str) -> Option<i64> {
    line.trim().strip_prefix("Exit code ")?.trim().parse().ok()
}

fn file_change(hook: &Hook<'_>, tool: &str, input: &Value, response: &Value) -> Vec<Draft> {
    let path = str_at(response, &["filePath"])
        .or_else(|| str_at(input, &["file_path"]))
        .or_else(|| str_at(input, &["notebook_path"]));
    let Some(path) = path else { return Vec::new() };
    if tool == "Write" && str_at(response, &["type"]) == Some("create") {
        let content = str_at(input, &["content"]).or_else(|| str_at(response, &["content"]));
        return vec![file_create(hook, path, content.unwrap_or_default())];
    }
    // The structured patch when the tool gave one; older payloads only carry the replacement asked for.
    let change =
        response.get("structuredPatch").and_then(structured_patch).or_else(|| match tool {
            "Edit" => {
                let mut change = Change::default();
                let old = str_at(input, &["old_string"])?;
                replacement(&mut change, old, str_at(input, &["new_string"])?);
                Some(change)
            }
            "MultiEdit" => input.get("edits").and_then(replacements),
            _ => None,
        });
    vec![file_diff(hook, path, change)]
}

/// Every other tool: reads, searches, listings, web lookups, planning, subagent dispatch, MCP calls, and a generic
/// `tool_use`, in Promptster's vocabulary (`toolName` names the tool).
fn tool_call(hook: &Hook<'_>, tool: &str, input: &Value, response: &Value) -> Vec<Draft> {
    let draft = match tool {
        "Read" => {
            let Some(path) = str_at(input, &["file_path"]) else { return Vec::new() };
            hook.ai(kinds::FILE_READ)
                .text("path", &hook.path(path))
                .opt_value("numLines", count_at(response, &["file", "numLines"]).map(Value::from))
        }
        "Grep" | "Glob" => hook
            .ai(kinds::FILE_SEARCH)
            .text("toolName", tool)
            .opt_text("pattern", str_at(input, &["pattern"]))
            .opt_text("path", str_at(input, &["path"]).map(|path| hook.path(path)).as_deref())
            .opt_value("resultsCount", results_count(response).map(Value::from)),
        "LS" => hook
            .ai(kinds::DIR_LIST)
            .opt_text("path", str_at(input, &["path"]).map(|path| hook.path(path)).as_deref()),
        "WebFetch" | "WebSearch" => hook
            .ai(kinds::WEB_LOOKUP)
            .text("toolName", tool)
            .opt_text("url", str_at(input, &["url"]))
            .opt_text("query", str_at(input, &["query"]))
            .opt_value("status", count_at(response, &["code"]).map(Value::from)),
        "TodoWrite" => {
            hook.ai(kinds::PLANNING).text("toolName", tool).opt_value("todos", todos(input))
        }
        "TaskCreate" | "TaskUpdate" => hook
            .ai(kinds::PLANNING)
            .text("toolName", tool)
            .opt_text("taskId", str_at(input, &["taskId"]))
            .opt_text("subject", str_at(input, &["subject"]))
            .opt_text("status", str_at(input, &["status"])),
        "TodoRead" | "TaskGet" | "TaskList" => hook.ai(kinds::PLANNING_READ).text("toolName", tool),
        // The agent proposed a plan and the person let it go on: the call is the agent's, the decision the person's.
        "ExitPlanMode" => Draft::new(kinds::PLAN_DECISION, Who::Human)
            .attribution(Attribution::LikelyHuman)
            .text("toolName", tool)
            .opt_text("planPreview", str_at(input, &["plan"])),
        "Agent" | "Task" => hook
            .ai(kinds::TASK_DISPATCH)
            .text("toolName", tool)
            .opt_text("taskPreview", str_at(input, &["description"]))
            .opt_text("subagentType", str_at(input, &["subagent_type"]))
            .opt_text("status", str_at(response, &["status"])),
        _ => match tool.strip_prefix("mcp__").and_then(|rest| rest.split_once("__")) {
            Some((server, name)) => hook
                .ai(kinds::MCP_CALL)
                .text("server", server)
                .text("tool", name)
                .value("input", input.clone())
                .opt_text("output", mcp_text(response).as_deref()),
            None => hook.ai(kinds::TOOL_USE).text("toolName", tool),
        },
    };
    vec![draft]
}

/// How many files (or lines) a search found: `numFiles`, else the length of `filenames`.
fn results_count(response: &Value) -> Option<u64> {
    count_at(response, &["numFiles"]).or_else(|| {
        let names = response.get("filenames")?.as_array()?;
        u64::try_from(names.len()).ok()
    })
}

/// The todo list's items, without the `activeForm` wording.
fn todos(input: &Value) -> Option<Value> {
    let items = input.get("todos")?.as_array()?;
    let items = items
        .iter()
        .map(|item| json!({"content": str_at(item, &["content"]), "status": str_at(item, &["status"])}))
        .collect();
    Some(Value::Array(items))
}

/// The text blocks of an MCP tool's result (an array of content blocks), or its JSON when it is something else.
fn mcp_text(response: &Value) -> Option<String> {
    match response {
        Value::Null => None,
        Value::Array(blocks) => {
            let texts: Vec<&str> =
                blocks.iter().filter_map(|block| str_at(block, &["text"])).collect();
            Some(if texts.is_empty() { response.to_string() } else { texts.join("\n") })
        }
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// A subagent starting or stopping. Internal agents (compaction) stop without starting and with an empty
/// `agent_type`; they are the tool's housekeeping, not the agent's work, so they give nothing.
fn subagent(hook: &Hook<'_>, kind: EventKind) -> Vec<Draft> {
    let agent_type = hook.str(&["agent_type"]).unwrap_or_default();
    if agent_type.is_empty() {
        return Vec::new();
    }
    vec![Draft::new(kind, Who::Ai)
        .opt_text("subagentId", hook.str(&["agent_id"]))
        .text("subagentType", agent_type)
        .opt_text("summary", hook.str(&["last_assistant_message"]))]
}
