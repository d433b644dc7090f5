//! Signing the candidate's events (spec §10.2): an Ed25519 key made at `traceline start`, whose private half never
//! leaves `.traceline/signing.key`, and every event signed as it enters the spool, each naming the previous one's
//! signature, so the events form one chain in spool order, the order they happened in.
//!
//! Signing happens under the spool's lock: the previous signature is the last event still in the spool, or, once
//! the spool has been delivered, the one kept in `.traceline/chain.json`, which is rewritten after every append.
//! (A crash between an append and that rewrite, followed by a delivery of the whole spool before the next event,
//! would leave `chain.json` one signature behind; the server then reports the chain broken at the next event.)

use std::fs;
use std::io;
use std::path::PathBuf;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use traceline_domain::signing::{EventSignature, PublicKey, SecretSeed};

use crate::files::replace_atomically;
use crate::spool::Spool;
use crate::state::StateDir;

/// The private key: 32 bytes of seed, in hex, readable by the owner only.
const KEY_FILE: &str = "signing.key";
/// The last signature of the chain, for when the spool is empty.
const CHAIN_FILE: &str = "chain.json";

/// Where a session's chain ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChainTip {
    /// The session the chain belongs to: another session starts a chain of its own.
    session_id: String,
    /// The `sig` of the last event appended to the spool.
    last_sig: String,
}

/// The workspace's signing key, made on first use with the operating system's random source. Its public half is
/// what `start` gives the server at redeem.
pub(crate) fn key(dir: &StateDir) -> anyhow::Result<SecretSeed> {
    if let Some(seed) = load_key(dir)? {
        return Ok(seed);
    }
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).context("reading random bytes for the signing key")?;
    let seed = SecretSeed::from_bytes(bytes);
    replace_atomically(&dir.file(KEY_FILE), seed.to_hex().as_bytes())
        .with_context(|| format!("could not write {}", dir.file(KEY_FILE).display()))?;
    Ok(seed)
}

/// The workspace's signing key, if `start` made one (workspaces started before signing existed have none).
pub(crate) fn load_key(dir: &StateDir) -> anyhow::Result<Option<SecretSeed>> {
    let path = dir.file(KEY_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => SecretSeed::from_hex(&text)
            .map(Some)
            .with_context(|| format!("{} does not hold a signing key", path.display())),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("could not read {}", path.display())),
    }
}

/// The public key of the workspace's signing key, base64 as the server takes it.
pub(crate) fn public_key(dir: &StateDir) -> anyhow::Result<Option<PublicKey>> {
    Ok(load_key(dir)?.map(|seed| seed.public_key()))
}

/// Appends `events` of session `session_id` to the workspace's spool, each signed and chained after the one before
/// it; unsigned when the workspace has no signing key.
pub(crate) fn append(
    dir: &StateDir,
    session_id: &str,
    mut events: Vec<Value>,
) -> anyhow::Result<()> {
    let spool = Spool::of(dir);
    let Some(seed) = load_key(dir)? else {
        return Ok(spool.append(&events)?);
    };
    let guard = spool.locked()?;
    let mut prev_sig = match guard.last()? {
        Some(last) if last.get("sessionId").and_then(Value::as_str) == Some(session_id) => {
            last.get("sig").and_then(Value::as_str).map(str::to_owned)
        }
        _ => None,
    }
    .or_else(|| stored_tip(dir, session_id))
    .unwrap_or_default();
    for event in &mut events {
        prev_sig = sign(&seed, event, &prev_sig);
    }
    guard.append(&events)?;
    if !events.is_empty() {
        let tip = ChainTip { session_id: session_id.to_owned(), last_sig: prev_sig };
        replace_atomically(&chain_file(dir), json!(tip).to_string().as_bytes())?;
    }
    Ok(())
}

/// Signs `event` as the successor of `prev_sig`; returns its signature.
fn sign(seed: &SecretSeed, event: &mut Value, prev_sig: &str) -> String {
    event["prevSig"] = Value::from(prev_sig);
    let sig = match EventSignature::of(event).message {
        Some(message) => seed.sign(&message),
        // Every envelope the capture builds has the fields of the message; one that did not would go unsigned,
        // and the server would say so.
        None => return prev_sig.to_owned(),
    };
    event["sig"] = Value::from(sig.as_str());
    sig
}

fn stored_tip(dir: &StateDir, session_id: &str) -> Option<String> {
    let text = fs::read_to_string(chain_file(dir)).ok()?;
    let tip: ChainTip = serde_json::from_str(&text).ok()?;
    (tip.session_id == session_id).then_some(tip.last_sig)
}

fn chain_file(dir: &StateDir) -> PathBuf {
    dir.file(CHAIN_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> (tempfile::TempDir, StateDir) {
        let workspace = tempfile::tempdir().unwrap();
        let dir = StateDir::of_workspace(workspace.path());
        dir.create().unwrap();
        (workspace, dir)
    }

    fn event(id: &str) -> Value {
        json!({
            "id": id, "sessionId": "s-1", "ts": "2026-04-01T10:00:00Z", "kind": "prompt",
            "source": {"integration": "claude-code"}, "v": 1, "data": {"text": id},
        })
    }

    #[test]
    fn events_are_chained_in_spool_order_across_deliveries() {
        let (_workspace, dir) = workspace();
        let seed = key(&dir).unwrap();
        assert_eq!(key(&dir).unwrap().to_hex(), seed.to_hex(), "made once, then kept");
        append(&dir, "s-1", vec![event("a"), event("b")]).unwrap();
        let spool = Spool::of(&dir);
        let first = spool.pending().unwrap();
        // Delivered: the spool empties, and the chain goes on from chain.json.
        let delivered = first.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
        spool.settle(&delivered, &[]).unwrap();
        append(&dir, "s-1", vec![event("c")]).unwrap();
        let mut all = first;
        all.extend(spool.pending().unwrap());
        let mut expected_prev = String::new();
        for event in &all {
            assert_eq!(event["prevSig"], expected_prev.as_str());
            let signature = EventSignature::of(event);
            let sig = signature.sig.clone().unwrap();
            assert!(seed.public_key().verifies(&signature.message.unwrap(), &sig));
            expected_prev = sig;
        }
        // Another session starts its own chain.
        append(
            &dir,
            "s-2",
            vec![json!({"id": "d", "sessionId": "s-2", "ts": "2026-04-01T10:00:00Z",
            "kind": "prompt", "source": "cli", "v": 1, "data": {}})],
        )
        .unwrap();
        let last = spool.pending().unwrap().pop().unwrap();
        assert_eq!(last["prevSig"], "");
    }

    #[test]
    fn a_workspace_without_a_key_spools_unsigned() {
        let (_workspace, dir) = workspace();
        append(&dir, "s-1", vec![event("a")]).unwrap();
        let spooled = Spool::of(&dir).pending().unwrap();
        assert!(spooled[0].get("sig").is_none());
        assert!(public_key(&dir).unwrap().is_none());
    }

    #[test]
    #[cfg(unix)]
    fn the_private_key_is_readable_by_the_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let (_workspace, dir) = workspace();
        key(&dir).unwrap();
        let mode = fs::metadata(dir.file(KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
