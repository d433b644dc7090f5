//! What the client observes itself rather than reads from a tool's hook: commands the person typed in their own
//! shell, and changes in the working tree that no hook reported (found by comparing it with the client's snapshot).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use traceline_domain::event::{Attribution, Envelope};

use crate::envelope::{finish, Draft, Origin, Who};
use crate::ids::observation_seed;
use crate::unified::unified_diff;
use crate::{kinds, CaptureContext};

/// A command the person ran in their own shell, as the shell hook reports it once it has finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCommand<'a> {
    /// The command line as typed.
    pub command: &'a str,
    /// `$?` after it.
    pub exit_code: Option<i64>,
    /// From the prompt's return to the next prompt.
    pub duration_ms: Option<u64>,
    /// The directory it was typed in.
    pub cwd: &'a str,
    /// When it started; with the command line, it names the occurrence (the same line typed twice is two events).
    pub started_at: DateTime<Utc>,
}

/// The `command` event of a command the person typed: `actor.type: human`, `likely_human`, from the `shell`
/// integration, at the time it started (so commands typed in quick succession keep their order, whichever hook
/// process runs first). Its exit code and its text are all the server needs to count it as a verification or test
/// run.
pub fn shell_command(context: &CaptureContext, command: &ShellCommand<'_>) -> Envelope {
    let draft = Draft::new(kinds::COMMAND, Who::Human)
        .at(command.started_at)
        .text("command", command.command)
        .opt_value("exitCode", command.exit_code.map(Value::from))
        .opt_value("durationMs", command.duration_ms.map(Value::from))
        .text("cwd", command.cwd);
    let started = command.started_at.to_rfc3339();
    let exit = format!("{:?}", command.exit_code);
    let seed = observation_seed(
        context,
        "shell",
        &[command.command.as_bytes(), command.cwd.as_bytes(), started.as_bytes(), exit.as_bytes()],
    );
    let mut envelopes = finish(vec![draft], &seed, context, Origin::Shell);
    // `finish` gives one envelope per draft.
    envelopes.remove(0)
}

/// One version of a file as the snapshot knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContent {
    /// UTF-8 text small enough to diff.
    Text(String),
    /// Bytes that are not text (a NUL in the first block, or not UTF-8): recorded as changed, without a diff.
    Binary {
        /// Its size.
        size: u64,
    },
    /// Text too large to diff cheaply: recorded as changed, without a diff.
    TooLarge {
        /// Its size.
        size: u64,
    },
}

impl FileContent {
    fn size(&self) -> u64 {
        match self {
            FileContent::Text(text) => text.len() as u64,
            FileContent::Binary { size } | FileContent::TooLarge { size } => *size,
        }
    }

    fn omitted(&self) -> Option<&'static str> {
        match self {
            FileContent::Text(_) => None,
            FileContent::Binary { .. } => Some("binary"),
            FileContent::TooLarge { .. } => Some("tooLarge"),
        }
    }
}

/// How a file changed between the snapshot and the working tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The file is new.
    Created {
        /// What it holds.
        after: FileContent,
    },
    /// The file's content changed.
    Modified {
        /// What the snapshot held.
        before: FileContent,
        /// What it holds now.
        after: FileContent,
    },
    /// The file is gone.
    Deleted {
        /// What the snapshot held.
        before: FileContent,
    },
}

/// A change found in the working tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Relative to the workspace, with `/` separators.
    pub path: String,
    /// What happened to it.
    pub change: Change,
    /// The snapshot's content hash (empty for a new file): with `new_hash` it names the change, so reporting it
    /// again gives the same event id.
    pub old_hash: String,
    /// The content hash now (empty for a deleted file).
    pub new_hash: String,
    /// The file's modification time, when known: the event's time, if it is not later than the observation.
    pub modified_at: Option<DateTime<Utc>>,
}

/// Who made the changes a snapshot check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeAuthor {
    /// The person: found at a moment no agent action was under way. A file the agent had changed earlier in the
    /// session becomes `ai_revised_by_human`, as Promptster records it; any other `likely_human`.
    Person,
    /// The agent, through a shell command its tool reported (a formatter, a code generator, `sed -i`).
    AgentCommand {
        /// The command that ran.
        command: String,
    },
}

/// The `file_create` / `file_diff` / `file_delete` events of changes a snapshot check found, each with a real
/// unified diff and line counts where the content is text; binary and huge files are recorded as changed without a
/// diff. `agent_touched(path)` tells whether an agent hook had reported a change to that path before.
pub fn file_changes(
    context: &CaptureContext,
    author: &ChangeAuthor,
    changes: &[FileChange],
    agent_touched: impl Fn(&str) -> bool,
) -> Vec<Envelope> {
    changes
        .iter()
        .flat_map(|change| {
            let mut draft = match author {
                ChangeAuthor::Person => {
                    let draft = change_draft(change, Who::Human);
                    if agent_touched(&change.path) {
                        draft.attribution(Attribution::AiRevisedByHuman)
                    } else {
                        draft
                    }
                }
                ChangeAuthor::AgentCommand { command } => {
                    change_draft(change, Who::Ai).text("command", command)
                }
            };
            if let Some(at) = change.modified_at {
                draft = draft.at(at);
            }
            let seed = observation_seed(
                context,
                "snapshot",
                &[change.path.as_bytes(), change.old_hash.as_bytes(), change.new_hash.as_bytes()],
            );
            finish(vec![draft], &seed, context, Origin::Snapshot)
        })
        .collect()
}

fn change_draft(change: &FileChange, who: Who) -> Draft {
    let path = change.path.as_str();
    match &change.change {
        Change::Created { after } => {
            let draft = Draft::new(kinds::FILE_CREATE, who)
                .text("path", path)
                .value("sizeBytes", json!(after.size()));
            match after {
                FileContent::Text(text) => {
                    draft.text("content", text).value("linesAdded", json!(text.lines().count()))
                }
                other => flag_omitted(draft, other),
            }
        }
        Change::Modified { before, after } => {
            let draft = Draft::new(kinds::FILE_DIFF, who).text("path", path);
            match (before, after) {
                (FileContent::Text(old), FileContent::Text(new)) => {
                    let diff = unified_diff(path, old, new);
                    draft
                        .text("diff", &diff.text)
                        .value("linesAdded", json!(diff.added))
                        .value("linesRemoved", json!(diff.removed))
                }
                (_, FileContent::Text(_)) => flag_omitted(draft, before),
                _ => flag_omitted(draft, after).value("sizeBytes", json!(after.size())),
            }
        }
        Change::Deleted { before } => {
            let draft = Draft::new(kinds::FILE_DELETE, who).text("path", path);
            match before {
                FileContent::Text(text) => draft.value("linesRemoved", json!(text.lines().count())),
                other => flag_omitted(draft, other),
            }
        }
    }
}

/// `binary: true` or `tooLarge: true`: the change is recorded without its content.
fn flag_omitted(draft: Draft, content: &FileContent) -> Draft {
    match content.omitted() {
        Some(flag) => draft.value(flag, json!(true)),
        None => draft,
    }
}
