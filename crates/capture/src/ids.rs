//! Deterministic event ids: the same payload, mapped again, gives the same ids, so a retry or a second delivery
//! of one hook call is stored once by the server (ids are its idempotency key).
//!
//! An id is SHA-256 over a seed and the envelope's index among those of one payload, cut to a version-8 UUID.
//! The seed names the Traceline session, the tool and the hook event, then the tool's own id of the occurrence
//! when it sends one (`tool_use_id`, `prompt_id`, `generation_id`, …); without one, the payload's bytes and the
//! receive time stand in, so two identical payloads received at different times stay two events.

use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::{Builder, Uuid};

use crate::payload::str_at;
use crate::tool::Tool;
use crate::CaptureContext;

/// The hashed identity of one payload (or CLI command), from which its envelopes' ids are drawn.
#[derive(Debug, Clone)]
pub(crate) struct Seed(Sha256);

impl Seed {
    fn new(context: &CaptureContext, origin: &str) -> Seed {
        let mut seed = Seed(Sha256::new());
        seed.part(b"traceline-capture/1");
        seed.part(context.session_id.as_str().as_bytes());
        seed.part(origin.as_bytes());
        seed
    }

    /// Length-prefixed, so that parts can never run into each other (`ab`+`c` ≠ `a`+`bc`).
    fn part(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
    }

    fn received_at(&mut self, context: &CaptureContext) {
        self.part(context.received_at.to_rfc3339().as_bytes());
    }
}

/// Hook events that happen once per occurrence id. Elsewhere an id is shared by many events (every tool call of
/// a prompt carries its `prompt_id`; `Stop` can fire twice in one turn), so the payload decides.
fn occurrence_id<'a>(event: &str, payload: &'a Value) -> Option<(&'static str, &'a str)> {
    let keys: &[&'static str] = match event {
        "PreToolUse" | "PostToolUse" | "PostToolUseFailure" | "PermissionDenied" | "preToolUse"
        | "postToolUse" | "postToolUseFailure" => &["tool_use_id"],
        "SubagentStart" | "SubagentStop" => &["agent_id"],
        "subagentStart" => &["subagent_id"],
        "UserPromptSubmit" => &["prompt_id", "turn_id"],
        "beforeSubmitPrompt" => &["generation_id"],
        _ => &[],
    };
    keys.iter()
        .find_map(|key| str_at(payload, &[key]).filter(|id| !id.is_empty()).map(|id| (*key, id)))
}

/// The seed of a hook payload.
pub(crate) fn payload_seed(tool: Tool, payload: &Value, context: &CaptureContext) -> Seed {
    let event = str_at(payload, &["hook_event_name"]).unwrap_or_default();
    let mut seed = Seed::new(context, tool.as_str());
    seed.part(event.as_bytes());
    match occurrence_id(event, payload) {
        Some((key, id)) => {
            seed.part(key.as_bytes());
            seed.part(id.as_bytes());
        }
        None => {
            seed.part(b"payload");
            // serde_json writes a value the same way every time, so equal payloads give equal bytes.
            seed.part(payload.to_string().as_bytes());
            seed.received_at(context);
        }
    }
    seed
}

/// The seed of a CLI command (`explain`, `done`): its words and the time it was run.
pub(crate) fn cli_seed(context: &CaptureContext, command: &str, words: &[&str]) -> Seed {
    let mut seed = Seed::new(context, "cli");
    seed.part(command.as_bytes());
    for word in words {
        seed.part(word.as_bytes());
    }
    seed.received_at(context);
    seed
}

/// The seed of an observation that names itself completely (a shell command with its start time, a file going
/// from one content hash to another): the same observation reported twice gets the same ids, whenever it is
/// reported.
pub(crate) fn observation_seed(context: &CaptureContext, origin: &str, parts: &[&[u8]]) -> Seed {
    let mut seed = Seed::new(context, origin);
    for part in parts {
        seed.part(part);
    }
    seed
}

/// The id of the `index`th envelope drawn from `seed`: a version-8 (custom) UUID of the first 16 bytes of the
/// hash.
pub(crate) fn event_id(seed: &Seed, index: usize) -> Uuid {
    let mut hash = seed.0.clone();
    hash.update((index as u64).to_be_bytes());
    let digest = hash.finalize();
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Builder::from_custom_bytes(bytes).into_uuid()
}
