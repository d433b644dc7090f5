//! What the tools' mappings share: the payload with its context, and the events of shell commands (with the
//! test runs they report) and of file changes.

use std::path::{Component, Path, PathBuf};

use serde_json::{json, Value};
use traceline_domain::event::EventKind;
use traceline_domain::metrics::classify_command;

use crate::envelope::{Draft, Who};
use crate::kinds;
use crate::patch::Change;
use crate::paths::{bases, relative};
use crate::payload::{event_name, str_at};
use crate::CaptureContext;
use crate::{git, test_summary};

/// One payload and what the mapping needs besides: where relative paths start, and who acted.
pub(crate) struct Hook<'a> {
    pub(crate) payload: &'a Value,
    pub(crate) context: &'a CaptureContext,
    bases: Vec<PathBuf>,
}

impl<'a> Hook<'a> {
    pub(crate) fn new(payload: &'a Value, context: &'a CaptureContext) -> Hook<'a> {
        let mut bases = bases(&context.workspace, str_at(payload, &["cwd"]));
        // Cursor names its workspace roots on every event; they place files of events without a `cwd`.
        let roots = payload.get("workspace_roots").and_then(Value::as_array).into_iter().flatten();
        bases.extend(roots.filter_map(Value::as_str).map(PathBuf::from));
        Hook { payload, context, bases }
    }

    /// The hook event's name.
    pub(crate) fn event(&self) -> &'a str {
        event_name(self.payload)
    }

    /// The string at a path of the payload.
    pub(crate) fn str(&self, path: &[&str]) -> Option<&'a str> {
        str_at(self.payload, path)
    }

    /// The value at a path of the payload.
    pub(crate) fn get(&self, path: &[&str]) -> Option<&'a Value> {
        crate::payload::at(self.payload, path)
    }

    /// A file path made relative to the workspace (or the payload's `cwd`).
    pub(crate) fn path(&self, path: &str) -> String {
        relative(path, &self.bases)
    }

    /// `path` relative to the workspace, with `/` separators (a relative `path` is taken from the payload's `cwd`);
    /// `None` for a path outside the workspace, or one that climbs with `..`.
    pub(crate) fn workspace_path(&self, path: &str) -> Option<String> {
        let candidate = Path::new(path);
        let absolute = if candidate.is_absolute() {
            candidate.to_path_buf()
        } else {
            PathBuf::from(self.cwd()).join(candidate)
        };
        let rest = absolute.strip_prefix(&self.context.workspace).ok()?;
        let mut parts = Vec::new();
        for component in rest.components() {
            match component {
                Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
                Component::CurDir => {}
                _ => return None,
            }
        }
        (!parts.is_empty()).then(|| parts.join("/"))
    }

    /// The payload's `cwd`, else the first workspace root it names, else the workspace.
    pub(crate) fn cwd(&self) -> String {
        let root = self.payload.get("workspace_roots").and_then(|roots| roots.get(0));
        self.str(&["cwd"])
            .or_else(|| root.and_then(Value::as_str))
            .map_or_else(|| self.context.workspace.to_string_lossy().into_owned(), str::to_owned)
    }

    /// An agent action's draft, marked `subagent` when a Claude Code subagent took it.
    pub(crate) fn ai(&self, kind: EventKind) -> Draft {
        let in_subagent = self.str(&["agent_id"]).is_some_and(|id| !id.is_empty());
        Draft::new(kind, Who::Ai).role(in_subagent.then_some("subagent"))
    }
}

/// One finished shell command, as far as the tool reported it.
#[derive(Debug, Default)]
pub(crate) struct ShellRun<'a> {
    pub(crate) command: &'a str,
    /// `None` when the tool did not say: never guessed.
    pub(crate) exit_code: Option<i64>,
    pub(crate) stdout: Option<&'a str>,
    pub(crate) stderr: Option<&'a str>,
    pub(crate) duration_ms: Option<u64>,
    pub(crate) cwd: Option<&'a str>,
    /// Anything else worth keeping (`interrupted`, `timedOut`, `background`, …).
    pub(crate) extra: Vec<(&'static str, Value)>,
}

/// A `command`, then a `test_run` when the command runs tests (spec §6) and its output holds a summary the
/// runner printed. The `test_run` names its command in `data.command`, so the server counts the two as one
/// verification action; it is left out when the counts cannot be read, since a `test_run` without `failed`
/// would count as passing.
pub(crate) fn shell_run(hook: &Hook<'_>, run: ShellRun<'_>) -> Vec<Draft> {
    let mut command = hook
        .ai(kinds::COMMAND)
        .text("command", run.command)
        .opt_value("exitCode", run.exit_code.map(Value::from))
        .opt_value("durationMs", run.duration_ms.map(Value::from))
        .opt_text("cwd", run.cwd)
        .opt_text("stdout", run.stdout.filter(|text| !text.is_empty()))
        .opt_text("stderr", run.stderr.filter(|text| !text.is_empty()));
    for (key, value) in run.extra {
        command = command.value(key, value);
    }
    let mut drafts = vec![command];
    if let Some(commit) = run.stdout.and_then(|stdout| git::commit_made(run.command, stdout)) {
        drafts.push(
            hook.ai(kinds::GIT_ACTION)
                .text("action", "commit")
                .text("ref", commit.branch)
                .text("commit", commit.hash)
                .text("message", commit.subject)
                .text("command", run.command),
        );
    }
    if classify_command(run.command).runs_tests {
        let output = [run.stdout, run.stderr].into_iter().flatten().collect::<Vec<_>>().join("\n");
        if let Some(summary) = test_summary::parse(&output) {
            drafts.push(
                hook.ai(kinds::TEST_RUN)
                    .text("command", run.command)
                    .text("runner", summary.runner)
                    .value("passed", json!(summary.passed))
                    .value("failed", json!(summary.failed))
                    .value("skipped", json!(summary.skipped))
                    .opt_value("durationMs", run.duration_ms.map(Value::from)),
            );
        }
    }
    drafts
}

/// A `file_diff` of an existing file.
pub(crate) fn file_diff(hook: &Hook<'_>, path: &str, change: Option<Change>) -> Draft {
    let draft = hook.ai(kinds::FILE_DIFF).text("path", &hook.path(path));
    match change {
        Some(change) => draft
            .text("diff", &change.diff)
            .value("linesAdded", json!(change.added))
            .value("linesRemoved", json!(change.removed)),
        None => draft,
    }
}

/// A `file_create` of a new file with its content.
pub(crate) fn file_create(hook: &Hook<'_>, path: &str, content: &str) -> Draft {
    hook.ai(kinds::FILE_CREATE)
        .text("path", &hook.path(path))
        .text("content", content)
        .value("linesAdded", json!(content.lines().count()))
        .value("sizeBytes", json!(content.len()))
}

/// The tool started a session of its own (startup, resume, clear): not the Traceline session, which began with
/// `traceline start` and has exactly one `session_start`. `ideSessionId` is the tool's id of it (Promptster's name),
/// which tells parallel agent sessions in one workspace apart.
pub(crate) fn agent_session_start(hook: &Hook<'_>) -> Draft {
    Draft::new(kinds::AGENT_SESSION_START, Who::System)
        .text("cwd", &hook.cwd())
        .opt_text("source", hook.str(&["source"]))
        .opt_text("model", hook.str(&["model"]))
        .opt_text("ideSessionId", hook.str(&["session_id"]))
}

/// The tool ended a session of its own. The Traceline session goes on: only `traceline done` ends it, so a
/// candidate who quits and restarts their agent does not end the recording (a `session_end` would set `endedAt`).
pub(crate) fn agent_session_end(hook: &Hook<'_>) -> Draft {
    Draft::new(kinds::AGENT_SESSION_END, Who::System)
        .opt_text("reason", hook.str(&["reason"]))
        .opt_text("ideSessionId", hook.str(&["session_id"]))
}

/// A human prompt, or, for the notices Claude Code injects as prompts when a background task finishes, a
/// `notification`: they are not the person's words and must not count as prompts.
pub(crate) fn prompt(text: Option<&str>) -> Vec<Draft> {
    let Some(text) = text else { return Vec::new() };
    if text.trim_start().starts_with("<task-notification>") {
        return vec![Draft::new(kinds::NOTIFICATION, Who::System)
            .text("type", "task_notification")
            .text("message", text)];
    }
    vec![Draft::new(kinds::PROMPT, Who::Human).text("text", text)]
}

/// The agent's final message of a turn, under Promptster's name for it.
pub(crate) fn ai_response(hook: &Hook<'_>, text: Option<&str>) -> Vec<Draft> {
    text.filter(|text| !text.trim().is_empty())
        .map(|text| hook.ai(kinds::AI_RESPONSE).text("lastAssistantMessage", text))
        .into_iter()
        .collect()
}

/// A compaction of the agent's context, `auto` or `manual`.
pub(crate) fn compaction(hook: &Hook<'_>) -> Draft {
    Draft::new(kinds::CONTEXT_COMPACT, Who::System).opt_text("trigger", hook.str(&["trigger"]))
}
