//! Building canonical envelopes (spec §4) from drafts, as the domain's typed [`Envelope`]: the common fields, the
//! actor and provenance of each kind of author and origin, and the one privacy pass every string of `data` goes
//! through. Nothing here writes envelope JSON: the domain's `Envelope::to_json` does.

use chrono::{DateTime, Utc};
use serde_json::Value;
use traceline_domain::event::{
    Actor, ActorType, Attribution, Envelope, EventKind, Observability, Provenance, Source,
};
use traceline_domain::ids::EventId;
use traceline_domain::json::JsonObject;
use traceline_domain::time::to_storage_precision;

use crate::ids::{event_id, Seed};
use crate::redact::{redact, truncate};
use crate::tool::Tool;
use crate::CaptureContext;

/// `source.emitter` of every envelope: this crate and its version.
pub const EMITTER: &str = concat!("traceline-capture/", env!("CARGO_PKG_VERSION"));

/// The byte limit of a prompt's `text` and a decision's `rationale`: what the person wrote is the point.
pub const PROMPT_LIMIT_BYTES: usize = 32 * 1024;
/// The byte limit of outputs (`stdout`, `diff`, `content`, response `text`, …): enough for a test summary
/// and the failure before it, small enough that 500 events fit a batch.
pub const OUTPUT_LIMIT_BYTES: usize = 8 * 1024;
/// The byte limit of every other string (command lines, paths, names).
pub const FIELD_LIMIT_BYTES: usize = 4 * 1024;

/// Keys whose strings are outputs, bounded by [`OUTPUT_LIMIT_BYTES`].
const OUTPUT_KEYS: &[&str] = &[
    "stdout",
    "stderr",
    "output",
    "diff",
    "content",
    "text",
    "summary",
    "result",
    "error",
    "planPreview",
    "lastAssistantMessage",
];

/// Who did what an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// The agent: tool calls, edits, responses.
    Ai,
    /// The person: prompts, `explain`, `done`, their own commands and edits.
    Human,
    /// The tool itself: its sessions, compaction, notifications.
    System,
}

impl Who {
    fn actor(self) -> ActorType {
        match self {
            Who::Ai => ActorType::Ai,
            Who::Human => ActorType::Human,
            Who::System => ActorType::System,
        }
    }

    fn attribution(self) -> Attribution {
        match self {
            Who::Ai => Attribution::LikelyAi,
            Who::Human => Attribution::LikelyHuman,
            Who::System => Attribution::SystemGenerated,
        }
    }
}

/// Where an event was observed: it decides the envelope's `source` and how sure its `provenance` can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A tool's hook payload.
    Hook(Tool),
    /// The person's own shell, through the hook `traceline install shell` adds.
    Shell,
    /// A command of the CLI (`start`, `explain`, `done`).
    Cli,
    /// The working tree compared with the client's snapshot: a change no hook reported.
    Snapshot,
}

impl Origin {
    fn source(self) -> Source {
        let (channel, integration) = match self {
            Origin::Hook(tool) => ("hook", Some(tool.as_str())),
            Origin::Shell => ("hook", Some("shell")),
            Origin::Cli | Origin::Snapshot => ("cli", None),
        };
        Source {
            channel: Some(channel.to_owned()),
            integration: integration.map(str::to_owned),
            emitter: Some(EMITTER.to_owned()),
            ..Source::default()
        }
    }

    /// Hooks and the CLI see which call did what, so authorship is observed, not inferred; 0.9 rather than 1 because
    /// a person can type into the agent's session (and hooks cannot tell). A snapshot only sees that a file changed
    /// while nothing reported it: a person's editor, or a process nobody announced.
    fn provenance(self, attribution: Attribution) -> Provenance {
        let (confidence, observability, method) = match self {
            Origin::Hook(_) => (0.9, Observability::High, "hook"),
            Origin::Shell => (0.9, Observability::High, "shell_hook"),
            Origin::Cli => (0.9, Observability::High, "cli"),
            Origin::Snapshot => (0.7, Observability::Medium, "snapshot"),
        };
        Provenance {
            attribution,
            confidence,
            observability,
            methods: Some(vec![method.to_owned()]),
            extra: JsonObject::new(),
        }
    }
}

/// One event before it gets its id and common fields: a kind, an author and raw `data`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draft {
    kind: EventKind,
    who: Who,
    role: Option<&'static str>,
    attribution: Option<Attribution>,
    at: Option<DateTime<Utc>>,
    data: JsonObject,
}

impl Draft {
    pub(crate) fn new(kind: EventKind, who: Who) -> Draft {
        Draft { kind, who, role: None, attribution: None, at: None, data: JsonObject::new() }
    }

    /// Sets `actor.role` (e.g. `subagent` for actions taken inside a subagent).
    pub(crate) fn role(mut self, role: Option<&'static str>) -> Draft {
        self.role = role;
        self
    }

    /// Overrides the attribution the author implies (e.g. `ai_revised_by_human` for a person's edit of a file the
    /// agent wrote).
    pub(crate) fn attribution(mut self, attribution: Attribution) -> Draft {
        self.attribution = Some(attribution);
        self
    }

    /// When it happened, if known better than "when the client saw it"; never later than that.
    pub(crate) fn at(mut self, at: DateTime<Utc>) -> Draft {
        self.at = Some(at);
        self
    }

    /// Sets a string field; the privacy pass redacts and bounds it later.
    pub(crate) fn text(self, key: &str, text: &str) -> Draft {
        self.value(key, Value::String(text.to_owned()))
    }

    /// Sets a string field when there is one.
    pub(crate) fn opt_text(self, key: &str, text: Option<&str>) -> Draft {
        match text {
            Some(text) => self.text(key, text),
            None => self,
        }
    }

    /// Sets any JSON field; strings inside it go through the privacy pass too.
    pub(crate) fn value(mut self, key: &str, value: Value) -> Draft {
        self.data.insert(key.to_owned(), value);
        self
    }

    /// Sets a JSON field when there is one.
    pub(crate) fn opt_value(self, key: &str, value: Option<Value>) -> Draft {
        match value {
            Some(value) => self.value(key, value),
            None => self,
        }
    }
}

/// Turns drafts into envelopes: the `index`th draft gets the `index`th id of the seed.
pub(crate) fn finish(
    drafts: Vec<Draft>,
    seed: &Seed,
    context: &CaptureContext,
    origin: Origin,
) -> Vec<Envelope> {
    drafts
        .into_iter()
        .enumerate()
        .map(|(index, draft)| build(draft, seed, index, context, origin))
        .collect()
}

/// The one envelope of a CLI command (`explain`, `done`).
pub(crate) fn finish_one(draft: Draft, seed: &Seed, context: &CaptureContext) -> Envelope {
    build(draft, seed, 0, context, Origin::Cli)
}

fn build(
    draft: Draft,
    seed: &Seed,
    index: usize,
    context: &CaptureContext,
    origin: Origin,
) -> Envelope {
    let mut data = JsonObject::new();
    for (key, mut value) in draft.data {
        scrub(&mut value, limit_for(draft.kind.as_str(), &key));
        data.insert(without_nul(&key), value);
    }
    let received_at = to_storage_precision(context.received_at);
    let ts = draft.at.map_or(received_at, |at| to_storage_precision(at).min(received_at));
    let attribution = draft.attribution.unwrap_or_else(|| draft.who.attribution());
    Envelope {
        id: EventId::from_uuid(event_id(seed, index)),
        session_id: context.session_id.clone(),
        ts,
        kind: draft.kind,
        source: origin.source(),
        actor: Actor {
            kind: draft.who.actor(),
            role: draft.role.map(str::to_owned),
            extra: JsonObject::new(),
        },
        provenance: origin.provenance(attribution),
        data,
        raw_payload: None,
        sig: None,
        prev_sig: None,
    }
}

fn limit_for(kind: &str, key: &str) -> usize {
    match (kind, key) {
        ("prompt", "text") | ("decision_event", "rationale") => PROMPT_LIMIT_BYTES,
        (_, key) if OUTPUT_KEYS.contains(&key) => OUTPUT_LIMIT_BYTES,
        _ => FIELD_LIMIT_BYTES,
    }
}

/// Redacts, then bounds, every string in `value`, however deep. Redaction comes first so a cut can never leave
/// half a secret that no longer matches its pattern. NUL characters go too, in strings and keys: the server refuses
/// them (PostgreSQL can store none), and no payload needs them.
fn scrub(value: &mut Value, limit: usize) {
    match value {
        Value::String(text) => {
            let clean = truncate(&redact(&without_nul(text)), limit).into_owned();
            *text = clean;
        }
        Value::Array(items) => items.iter_mut().for_each(|item| scrub(item, limit)),
        Value::Object(object) => {
            let fields = std::mem::take(object);
            for (key, mut item) in fields {
                scrub(&mut item, limit);
                object.insert(without_nul(&key), item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn without_nul(text: &str) -> String {
    text.replace('\0', "")
}
