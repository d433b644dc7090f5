#![doc = include_str!("../README.md")]

mod envelope;
mod git;
mod ids;
pub mod install;
pub mod kinds;
mod mapping;
mod observed;
mod patch;
mod paths;
mod payload;
pub mod redact;
pub mod test_summary;
mod tool;
mod unified;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use traceline_domain::event::Envelope;
use traceline_domain::ids::SessionId;

pub use envelope::{EMITTER, FIELD_LIMIT_BYTES, OUTPUT_LIMIT_BYTES, PROMPT_LIMIT_BYTES};
pub use mapping::activity::{agent_activity, AgentActivity, Before, ReportedFile};
pub use observed::{
    file_changes, shell_command, Change, ChangeAuthor, FileChange, FileContent, ShellCommand,
};
pub use tool::{Tool, UnknownTool};

use envelope::{Draft, Origin, Who};

/// What the caller knows that a hook payload does not: whose session it is, where the workspace is, and when the
/// payload arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureContext {
    /// The Traceline session (the envelope's `sessionId`).
    pub session_id: SessionId,
    /// The absolute workspace root. File paths under it are made relative to it; it stands in for the payload's
    /// `cwd` when the payload has none.
    pub workspace: PathBuf,
    /// When the payload was received, stamped by the caller: payloads carry no time.
    pub received_at: DateTime<Utc>,
}

/// Maps one hook payload (as read from stdin) to zero or more canonical envelopes, ready to post to
/// `/v1/hooks/ingest/batch` as their `to_json()`.
///
/// Every envelope is one the server accepts (`Envelope::parse` of its JSON gives it back), every string in its
/// `data` is redacted and bounded ([`redact`]), and the ids depend only on the inputs, so mapping the same payload
/// twice gives the same events. Never panics: a payload of the wrong shape, or an event the mapping does not know,
/// gives fewer envelopes or none.
pub fn map_hook(tool: Tool, payload: &Value, context: &CaptureContext) -> Vec<Envelope> {
    let drafts = mapping::map(tool, payload, context);
    let seed = ids::payload_seed(tool, payload, context);
    envelope::finish(drafts, &seed, context, Origin::Hook(tool))
}

/// The `decision_event` of `traceline explain "why" [--title …] [--impact 1-5]`, from the human.
///
/// An impact outside 1–5 is left out rather than sent to be refused; a blank title is left out too.
pub fn decision_event(
    context: &CaptureContext,
    rationale: &str,
    title: Option<&str>,
    impact: Option<u8>,
) -> Envelope {
    let title = title.filter(|title| !title.trim().is_empty());
    let impact = impact.filter(|impact| (1..=5).contains(impact));
    let mut draft = Draft::new(kinds::DECISION_EVENT, Who::Human).text("rationale", rationale);
    if let Some(title) = title {
        draft = draft.text("title", title);
    }
    if let Some(impact) = impact {
        draft = draft.value("impactScore", json!(impact));
    }
    let seed = ids::cli_seed(
        context,
        "explain",
        &[rationale, title.unwrap_or(""), &format!("{impact:?}")],
    );
    envelope::finish_one(draft, &seed, context)
}

/// The `session_end` of `traceline done`: the person ends the session.
pub fn session_end(context: &CaptureContext) -> Envelope {
    let draft = Draft::new(kinds::SESSION_END, Who::Human).text("reason", "done");
    let seed = ids::cli_seed(context, "done", &[]);
    envelope::finish_one(draft, &seed, context)
}

/// The `session_start` of `traceline start`, the session's only one: the workspace as `cwd` and the assessment,
/// which the server copies into the session's metadata.
pub fn session_start(context: &CaptureContext, assessment_id: Option<&str>) -> Envelope {
    let mut draft = Draft::new(kinds::SESSION_START, Who::System)
        .text("cwd", &context.workspace.to_string_lossy())
        .text("source", "traceline start");
    if let Some(assessment_id) = assessment_id {
        draft = draft.text("assessmentId", assessment_id);
    }
    let seed = ids::cli_seed(context, "start", &[assessment_id.unwrap_or("")]);
    envelope::finish_one(draft, &seed, context)
}
