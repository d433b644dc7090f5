//! Who changed the working tree: the snapshot finds changes no hook reported, and the moment it looks decides whose
//! they are.
//!
//! - Files an agent tool reports (Claude Code `Edit`/`Write`, Cursor `afterFileEdit`, Codex `apply_patch`) are taken
//!   into the snapshot as the agent's; where the payload shows what the file held just before, a difference from the
//!   snapshot is the person's edit in between.
//! - An agent shell command is bracketed: changes found when it starts are the person's, changes found when it ends
//!   are the command's (a formatter, a generator, `sed -i`).
//! - Anything else found at a hook call where no agent tool runs (a turn or session starting or ending; at most every
//!   [`CHECK_INTERVAL`]), after a command in the person's shell, or at `explain`, `flush` and `done`, is the person's;
//!   but not while an agent command runs. Hook calls in the middle of a turn do not look: another tool of the same
//!   turn may have written a file whose report has not come yet.

use std::fs;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use traceline_capture::{
    agent_activity, file_changes, AgentActivity, CaptureContext, ChangeAuthor, Tool,
};
use traceline_domain::event::Envelope;

use crate::files::replace_atomically;
use crate::snapshot::Snapshot;
use crate::state::StateDir;

/// Hook calls look at the whole tree at most this often; the moments that decide authorship look every time.
pub(crate) const CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// An agent command that has not reported its end after this long is taken to have ended unreported (the tool
/// was killed), so the person's changes are looked for again.
const AGENT_COMMAND_STALE: Duration = Duration::from_secs(30 * 60);

const FILE: &str = "observe.json";

/// When the client looks at the working tree.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Moment<'a> {
    /// A tool's hook call.
    Hook {
        /// The tool.
        tool: Tool,
        /// Its payload.
        payload: &'a Value,
    },
    /// A command finished in the person's shell.
    ShellCommand,
    /// `explain`, `flush` or `done`: the person is at the keyboard.
    PersonCommand,
}

/// What the client remembers between processes about looking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Observation {
    /// The last look at the whole tree.
    pub(crate) checked_at: Option<DateTime<Utc>>,
    /// An agent shell command has started and not yet ended.
    pub(crate) agent_command_since: Option<DateTime<Utc>>,
}

impl Observation {
    pub(crate) fn load(dir: &StateDir) -> Observation {
        fs::read_to_string(dir.file(FILE))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    fn save(&self, dir: &StateDir) -> std::io::Result<()> {
        replace_atomically(&dir.file(FILE), serde_json::to_string(self)?.as_bytes())
    }

    fn agent_busy(&self, now: DateTime<Utc>) -> bool {
        self.agent_command_since.is_some_and(|since| elapsed(since, now) < AGENT_COMMAND_STALE)
    }

    fn check_due(&self, now: DateTime<Utc>) -> bool {
        self.checked_at.is_none_or(|at| elapsed(at, now) >= CHECK_INTERVAL)
    }
}

fn elapsed(since: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (now - since).to_std().unwrap_or(Duration::ZERO)
}

/// Records the working tree as it is when the session starts; a workspace that has one keeps it.
pub(crate) fn baseline(dir: &StateDir) -> std::io::Result<usize> {
    let snapshot = Snapshot::of(dir);
    let mut locked = snapshot.lock()?;
    if !locked.exists() {
        locked.check()?;
    }
    let tracked = locked.tracked();
    locked.save()?;
    Ok(tracked)
}

/// The events of the changes found at `moment`, to spool before the moment's own events (they happened first).
pub(crate) fn observe(
    dir: &StateDir,
    context: &CaptureContext,
    moment: Moment<'_>,
) -> std::io::Result<Vec<Envelope>> {
    let now = context.received_at;
    let loaded = Observation::load(dir);
    let mut observation = loaded.clone();
    let activity = match moment {
        Moment::Hook { tool, payload } => agent_activity(tool, payload, context),
        Moment::ShellCommand | Moment::PersonCommand => AgentActivity::Other,
    };
    // Files an agent tool just reported are marked as the agent's by now; whether a person's edit to one revised the
    // agent's work depends on what was marked before.
    let reported = matches!(activity, AgentActivity::FilesReported(_));
    let idle = activity == AgentActivity::Idle;
    let snapshot = Snapshot::of(dir);
    let mut locked = snapshot.lock()?;
    let mut touched_before = Vec::new();
    let (changes, author) = match activity {
        AgentActivity::CommandStarting => {
            observation.agent_command_since = Some(now);
            observation.checked_at = Some(now);
            (locked.check()?, ChangeAuthor::Person)
        }
        AgentActivity::CommandFinished { command } => {
            observation.agent_command_since = None;
            observation.checked_at = Some(now);
            (locked.check()?, ChangeAuthor::AgentCommand { command })
        }
        AgentActivity::FilesReported(files) => {
            touched_before = files
                .iter()
                .filter(|file| locked.agent_touched(&file.path))
                .map(|file| file.path.clone())
                .collect();
            (locked.absorb_reported(&files)?, ChangeAuthor::Person)
        }
        AgentActivity::Idle | AgentActivity::Other => {
            if idle {
                // No agent tool runs now: a command whose end was never reported (cancelled) is over.
                observation.agent_command_since = None;
            }
            let due = match moment {
                Moment::ShellCommand | Moment::PersonCommand => true,
                Moment::Hook { .. } => idle && observation.check_due(now),
            };
            if due && !observation.agent_busy(now) {
                observation.checked_at = Some(now);
                (locked.check()?, ChangeAuthor::Person)
            } else {
                (Vec::new(), ChangeAuthor::Person)
            }
        }
    };
    let events = file_changes(context, &author, &changes, |path| {
        if reported {
            touched_before.iter().any(|touched| touched == path)
        } else {
            locked.agent_touched(path)
        }
    });
    locked.save()?;
    if observation != loaded {
        observation.save(dir)?;
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use traceline_domain::ids::SessionId;

    use super::*;

    fn session(root: &std::path::Path) -> (StateDir, CaptureContext) {
        let dir = StateDir::of_workspace(root);
        dir.create().unwrap();
        let context = CaptureContext {
            session_id: SessionId::parse("s-1").unwrap(),
            workspace: root.to_path_buf(),
            received_at: Utc::now(),
        };
        (dir, context)
    }

    fn bash(event: &str) -> Value {
        json!({"hook_event_name": event, "tool_name": "Bash", "tool_use_id": "toolu_9",
               "tool_input": {"command": "cargo fmt"}, "tool_response": {"stdout": ""}})
    }

    fn authors(events: &[Envelope]) -> Vec<(String, String, Option<String>)> {
        events
            .iter()
            .map(|event| {
                let path = event.data.get("path").and_then(Value::as_str).unwrap_or_default();
                let command = event.data.get("command").and_then(Value::as_str).map(str::to_owned);
                (path.to_owned(), event.actor.kind.as_str().to_owned(), command)
            })
            .collect()
    }

    #[test]
    fn an_agent_command_is_bracketed_and_the_person_s_changes_around_it_are_theirs() {
        let root = tempfile::tempdir().unwrap();
        let (dir, context) = session(root.path());
        fs::write(root.path().join("main.rs"), "fn main(){}\n").unwrap();
        baseline(&dir).unwrap();
        let tool = Tool::ClaudeCode;

        fs::write(root.path().join("notes.md"), "by hand\n").unwrap();
        let before = bash("PreToolUse");
        let found = observe(&dir, &context, Moment::Hook { tool, payload: &before }).unwrap();
        assert_eq!(authors(&found), [("notes.md".to_owned(), "human".to_owned(), None)]);
        assert!(Observation::load(&dir).agent_busy(Utc::now()));

        // While the command runs, neither another tool's hook call nor the person's shell looks: the changes are
        // the command's.
        fs::write(root.path().join("main.rs"), "fn main() {}\n").unwrap();
        let read = json!({"hook_event_name": "PostToolUse", "tool_name": "Read", "tool_use_id": "toolu_8",
                          "tool_input": {"file_path": "/elsewhere/x"}});
        let later = CaptureContext {
            received_at: Utc::now() + chrono::Duration::seconds(60),
            ..context.clone()
        };
        assert!(observe(&dir, &later, Moment::Hook { tool, payload: &read }).unwrap().is_empty());
        assert!(observe(&dir, &later, Moment::ShellCommand).unwrap().is_empty());

        let after = bash("PostToolUse");
        let found = observe(&dir, &later, Moment::Hook { tool, payload: &after }).unwrap();
        assert_eq!(
            authors(&found),
            [("main.rs".to_owned(), "ai".to_owned(), Some("cargo fmt".to_owned()))]
        );
        assert!(!Observation::load(&dir).agent_busy(Utc::now()));
    }

    #[test]
    fn hook_calls_look_when_no_tool_runs_at_most_every_interval_and_person_commands_always() {
        let root = tempfile::tempdir().unwrap();
        let (dir, context) = session(root.path());
        baseline(&dir).unwrap();
        let tool = Tool::ClaudeCode;
        let prompt = json!({"hook_event_name": "UserPromptSubmit", "prompt": "hi"});
        assert!(observe(&dir, &context, Moment::Hook { tool, payload: &prompt })
            .unwrap()
            .is_empty());
        fs::write(root.path().join("a.txt"), "a\n").unwrap();
        let found = observe(&dir, &context, Moment::Hook { tool, payload: &prompt }).unwrap();
        assert!(found.is_empty(), "looked a moment ago");
        // Mid-turn, a read's hook does not look, however long ago the last look was.
        let later =
            CaptureContext { received_at: Utc::now() + chrono::Duration::minutes(1), ..context };
        let read = json!({"hook_event_name": "PostToolUse", "tool_name": "Read", "tool_use_id": "toolu_3",
                          "tool_input": {"file_path": "/elsewhere/x"}});
        assert!(observe(&dir, &later, Moment::Hook { tool, payload: &read }).unwrap().is_empty());
        let found = observe(&dir, &later, Moment::PersonCommand).unwrap();
        assert_eq!(authors(&found), [("a.txt".to_owned(), "human".to_owned(), None)]);
        fs::write(root.path().join("b.txt"), "b\n").unwrap();
        let stop = json!({"hook_event_name": "Stop"});
        let end =
            CaptureContext { received_at: Utc::now() + chrono::Duration::minutes(2), ..later };
        let found = observe(&dir, &end, Moment::Hook { tool, payload: &stop }).unwrap();
        assert_eq!(authors(&found), [("b.txt".to_owned(), "human".to_owned(), None)]);
    }
}
