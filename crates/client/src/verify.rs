//! `traceline verify [SESSION_ID]`: reads the session's signed log from the server and checks it here, trusting
//! nothing the server says about it: every event's message is rebuilt from the envelope as stored, its signature
//! verified against the session's key, and the `prevSig` links walked from `""` in the log's order.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value;
use traceline_domain::signing::{EventSignature, PublicKey};

use crate::commands::session;
use crate::server::{Patience, Server};
use crate::signer;

/// `traceline verify`: the session's signed log, checked here; exit 1 when the chain is broken (or nothing is
/// signed).
pub(crate) fn run(
    session_id: Option<String>,
    workspace: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let (dir, state) = session(workspace)?;
    let session_id = session_id.unwrap_or_else(|| state.session_id.clone());
    let server = Server::new(&state.server, Patience::Interactive);
    let (key, events) = fetch_log(&server, &state.session_token, &session_id)?;
    let key = key
        .as_deref()
        .map(PublicKey::parse)
        .transpose()
        .map_err(|error| anyhow::anyhow!("the server's signing key for the session {error}"))?;
    if session_id == state.session_id {
        let ours = signer::public_key(&dir)?;
        if let (Some(ours), Some(theirs)) = (&ours, &key) {
            if ours != theirs {
                println!(
                    "✗ the server holds another signing key for this session than this workspace's"
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    let verdict = walk(key.as_ref(), &events);
    println!("{}", verdict.line());
    Ok(if verdict.broken.is_none() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// What the walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Events in the log.
    pub(crate) events: usize,
    /// Events that carry a signature.
    pub(crate) signed: usize,
    /// Where and why the chain breaks; `None` when it is intact.
    pub(crate) broken: Option<Break>,
}

/// The first event at which the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Break {
    /// Its place in the log, from 1.
    pub(crate) position: usize,
    /// Its id.
    pub(crate) event_id: String,
    /// Why the chain breaks there.
    pub(crate) reason: String,
}

impl Verdict {
    /// The one line `verify` prints.
    pub(crate) fn line(&self) -> String {
        match &self.broken {
            None => format!("✓ {} / {} events signed · chain intact", self.signed, self.events),
            Some(broken) => format!(
                "✗ {} / {} events signed · chain broken at event {} (#{}): {}",
                self.signed, self.events, broken.event_id, broken.position, broken.reason
            ),
        }
    }
}

/// Reads every page of the session's signed log.
fn fetch_log(
    server: &Server,
    token: &str,
    session_id: &str,
) -> anyhow::Result<(Option<String>, Vec<Value>)> {
    let mut events = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = server.signed_log(token, session_id, after.as_deref())?;
        let listed = page.get("events").and_then(Value::as_array).cloned().unwrap_or_default();
        after = listed
            .last()
            .and_then(|event| event.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        events.extend(listed);
        if page.get("hasMore").and_then(Value::as_bool) != Some(true) || after.is_none() {
            let key = page.get("signingPubkey").and_then(Value::as_str).map(str::to_owned);
            return Ok((key, events));
        }
    }
}

/// Walks the log's events in order, checking each against `key` and its link to the one before.
pub(crate) fn walk(key: Option<&PublicKey>, events: &[Value]) -> Verdict {
    let mut verdict = Verdict { events: events.len(), signed: 0, broken: None };
    let mut previous = String::new();
    for (index, event) in events.iter().enumerate() {
        let payload = event.get("payload").unwrap_or(&Value::Null);
        let signature = EventSignature::of(payload);
        if signature.sig.is_some() {
            verdict.signed += 1;
        }
        if verdict.broken.is_some() {
            continue;
        }
        let event_id = event.get("id").and_then(Value::as_str).unwrap_or("?").to_owned();
        let problem = problem(key, &signature, &previous);
        if let Some(reason) = problem {
            verdict.broken = Some(Break { position: index + 1, event_id, reason });
        }
        previous = signature.sig.unwrap_or_default();
    }
    verdict
}

/// What is wrong with one event, given the signature of the event before it.
fn problem(key: Option<&PublicKey>, signature: &EventSignature, previous: &str) -> Option<String> {
    let Some(key) = key else {
        return Some("the session has no signing key".to_owned());
    };
    let Some(sig) = &signature.sig else {
        return Some("the event is not signed".to_owned());
    };
    let verified = signature.message.as_deref().is_some_and(|message| key.verifies(message, sig));
    if !verified {
        return Some("the signature does not verify against the session's key".to_owned());
    }
    match signature.prev_sig.as_deref() {
        Some(prev_sig) if prev_sig == previous => None,
        Some("") => Some("a second chain starts at this event".to_owned()),
        _ if previous.is_empty() => {
            Some("the chain does not start here: its previous event is missing".to_owned())
        }
        _ => Some("its prevSig is not the signature of the event before it".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use traceline_domain::signing::SecretSeed;

    use super::*;

    const VECTORS: &str = include_str!("../../domain/tests/fixtures/signing-vectors.json");

    fn logged(envelope: &Value) -> Value {
        json!({"id": envelope["id"], "payload": envelope})
    }

    fn vector_log() -> (PublicKey, Vec<Value>) {
        let vectors: Value = serde_json::from_str(VECTORS).unwrap();
        let key = PublicKey::parse(vectors["signingPubKey"].as_str().unwrap()).unwrap();
        let events = vectors["events"].as_array().unwrap();
        (key, events.iter().map(|event| logged(&event["envelope"])).collect())
    }

    #[test]
    fn the_vectors_are_one_intact_chain() {
        let (key, events) = vector_log();
        let verdict = walk(Some(&key), &events);
        assert_eq!(verdict, Verdict { events: 4, signed: 4, broken: None });
        assert_eq!(verdict.line(), "✓ 4 / 4 events signed · chain intact");
    }

    #[test]
    fn tampering_a_gap_and_a_reorder_are_each_named() {
        let (key, events) = vector_log();
        let vectors: Value = serde_json::from_str(VECTORS).unwrap();
        let mut tampered = events.clone();
        tampered[2] = logged(&vectors["tampered"]);
        let broken = walk(Some(&key), &tampered).broken.unwrap();
        assert_eq!(
            (broken.position, broken.reason.as_str()),
            (3, "the signature does not verify against the session's key")
        );

        let gap = [events[0].clone(), events[1].clone(), events[3].clone()];
        let broken = walk(Some(&key), &gap).broken.unwrap();
        assert_eq!(broken.position, 3);
        assert!(
            broken.reason.contains("not the signature of the event before"),
            "{}",
            broken.reason
        );

        let headless = [events[1].clone()];
        assert!(walk(Some(&key), &headless).broken.unwrap().reason.contains("does not start here"));

        let other = SecretSeed::from_bytes([1; 32]).public_key();
        let verdict = walk(Some(&other), &events);
        assert_eq!(verdict.broken.unwrap().position, 1);
        assert!(walk(None, &events).broken.is_some(), "nothing verifies without a key");
    }

    #[test]
    fn an_unsigned_event_breaks_the_chain_and_is_counted() {
        let (key, mut events) = vector_log();
        let mut unsigned = events[1]["payload"].clone();
        unsigned.as_object_mut().unwrap().remove("sig");
        events.insert(2, logged(&unsigned));
        let verdict = walk(Some(&key), &events);
        assert_eq!((verdict.events, verdict.signed), (5, 4));
        assert_eq!(verdict.broken.unwrap().reason, "the event is not signed");
        assert!(walk(Some(&key), &events)
            .line()
            .starts_with("✗ 4 / 5 events signed · chain broken at event"));
    }
}
