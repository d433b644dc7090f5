//! Who changed the working tree: the snapshot finds changes no hook reported, and the moment it looks decides whose
//! they are.
//!
//! - Files an agent tool reports (Claude Code `Edit`/`Write`, Cursor `afterFileEdit`, Codex `apply_patch`) are taken
//!   into the snapshot as the agent's; where the payload shows what the file held just before, a difference from the
//!   snapshot is the person's edit in between.
//! - An agent shell command is bracketed: changes found when it starts are the person's, changes found when it ends
//!   are the command's (a formatter, a generator, `sed -i`).
//! - Anything else found at a hook call (at most every [`CHECK_INTERVAL`], and not while an agent command runs), after
//!   a command in the person's shell, or at `explain`, `flush` and `done`, is the person's.

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
    let mut observation = Observation::load(dir);
    let activity = match moment {
        Moment::Hook { tool, payload } => agent_activity(tool, payload, context),
        Moment::ShellCommand | Moment::PersonCommand => AgentActivity::Other,
    };
    // Files an agent tool just reported are marked as the agent's by now; whether a person's edit to one revised the
    // agent's work depends on what was marked before.
    let reported = matches!(activity, AgentActivity::FilesReported(_));
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
        AgentActivity::Other => {
            let due = matches!(moment, Moment::ShellCommand | Moment::PersonCommand)
                || observation.check_due(now);
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
    observation.save(dir)?;
    Ok(events)
}
