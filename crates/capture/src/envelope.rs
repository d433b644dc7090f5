//! Building canonical envelopes (spec §4) from drafts: the common fields, the actor and provenance of each kind of
//! author, and the one privacy pass every string of `data` goes through.

use chrono::SecondsFormat;
use serde_json::{json, Map, Value};

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
    "stdout", "stderr", "output", "diff", "content", "text", "summary", "result", "error", "plan",
];

/// Who did what an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// The agent: tool calls, edits, responses.
    Ai,
    /// The person: prompts, `explain`, `done`.
    Human,
    /// The tool itself: session start and end, compaction, notifications.
    System,
}

/// One event before it gets its id and common fields: a kind, an author and raw `data`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draft {
    kind: &'static str,
    who: Who,
    role: Option<&'static str>,
    data: Map<String, Value>,
}

impl Draft {
    pub(crate) fn new(kind: &'static str, who: Who) -> Draft {
        Draft { kind, who, role: None, data: Map::new() }
    }

    /// Sets `actor.role` (e.g. `subagent` for actions taken inside a subagent).
    pub(crate) fn role(mut self, role: Option<&'static str>) -> Draft {
        self.role = role;
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
    tool: Option<Tool>,
) -> Vec<Value> {
    drafts
        .into_iter()
        .enumerate()
        .map(|(index, draft)| build(draft, seed, index, context, tool))
        .collect()
}

/// The one envelope of a CLI command (`explain`, `done`).
pub(crate) fn finish_one(draft: Draft, seed: &Seed, context: &CaptureContext) -> Value {
    build(draft, seed, 0, context, None)
}

fn build(
    draft: Draft,
    seed: &Seed,
    index: usize,
    context: &CaptureContext,
    tool: Option<Tool>,
) -> Value {
    let mut data = draft.data;
    for (key, value) in &mut data {
        let limit = limit_for(draft.kind, key);
        scrub(value, limit);
    }
    let source = match tool {
        Some(tool) => json!({"channel": "hook", "integration": tool.as_str(), "emitter": EMITTER}),
        None => json!({"channel": "cli", "emitter": EMITTER}),
    };
    let method = if tool.is_some() { "hook" } else { "cli" };
    let (actor_type, attribution) = match draft.who {
        Who::Ai => ("ai", "likely_ai"),
        Who::Human => ("human", "likely_human"),
        Who::System => ("system", "system_generated"),
    };
    let mut actor = json!({"type": actor_type});
    if let (Some(role), Value::Object(actor)) = (draft.role, &mut actor) {
        actor.insert("role".to_owned(), role.into());
    }
    json!({
        "v": 1,
        "id": event_id(seed, index).to_string(),
        "sessionId": context.session_id,
        "ts": context.received_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "kind": draft.kind,
        "source": source,
        "actor": actor,
        // The hook names the tool call that made the change, so authorship is observed, not inferred; 0.9
        // rather than 1 because a person can type into the agent's session (and hooks cannot tell).
        "provenance": {
            "attribution": attribution,
            "confidence": 0.9,
            "observability": "high",
            "methods": [method],
        },
        "data": data,
    })
}

fn limit_for(kind: &str, key: &str) -> usize {
    match (kind, key) {
        ("prompt", "text") | ("decision_event", "rationale") => PROMPT_LIMIT_BYTES,
        (_, key) if OUTPUT_KEYS.contains(&key) => OUTPUT_LIMIT_BYTES,
        _ => FIELD_LIMIT_BYTES,
    }
}

/// Redacts, then bounds, every string in `value`, however deep. Redaction comes first so a cut can never leave
/// half a secret that no longer matches its pattern.
fn scrub(value: &mut Value, limit: usize) {
    match value {
        Value::String(text) => {
            let clean = truncate(&redact(text), limit).into_owned();
            *text = clean;
        }
        Value::Array(items) => items.iter_mut().for_each(|item| scrub(item, limit)),
        Value::Object(object) => object.iter_mut().for_each(|(_, item)| scrub(item, limit)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}
