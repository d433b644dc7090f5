//! Signing the candidate's events (spec §10.2): an Ed25519 key made at `traceline start`, whose private half never
//! leaves `.traceline/signing.key`, and every event signed as it enters the spool, each naming the previous one's
//! signature, so a session's events form one chain in spool order, the order they happened in.
//!
//! The spool calls [`ChainSigner::sign`] under its lock for every append, so no event reaches the spool unsigned
//! and no two processes can interleave the chain. The previous signature is the last event still in the spool, or,
//! once the spool has been delivered, the one kept in `.traceline/chain.json`, rewritten after every append. (A
//! crash between an append and that rewrite, followed by a delivery of the whole spool before the next event, would
//! leave `chain.json` one signature behind; the server would then report the chain broken at the next event.)

use std::fs;
use std::io;
use std::path::PathBuf;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use traceline_domain::event::Envelope;
use traceline_domain::signing::{EventSignature, PublicKey, SecretSeed};

use crate::files::replace_atomically;
use crate::state::StateDir;

/// The private key: 32 bytes of seed, in hex, readable by the owner only.
const KEY_FILE: &str = "signing.key";
/// The last signature of the chain, for when the spool is empty.
const CHAIN_FILE: &str = "chain.json";

/// Where a session's chain ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChainTip {
    /// The session the chain belongs to: another session starts a chain of its own.
    session_id: String,
    /// The `sig` of the last event appended to the spool.
    last_sig: String,
}

/// The workspace's signing key and chain, as the spool signs with them.
#[derive(Debug, Clone)]
pub(crate) struct ChainSigner {
    key_path: PathBuf,
    chain_path: PathBuf,
}

impl ChainSigner {
    /// The signer of a state directory.
    pub(crate) fn of(dir: &StateDir) -> ChainSigner {
        ChainSigner { key_path: dir.file(KEY_FILE), chain_path: dir.file(CHAIN_FILE) }
    }

    /// `events`, each signed after the one before it (the first after the envelope the spool ends with, read by
    /// `last_spooled`, when it is of the same session), and the chain's new tip; `None` when the workspace has no
    /// key (started before signing existed), and the events go unsigned. Call it under the spool's lock.
    pub(crate) fn sign(
        &self,
        last_spooled: impl FnOnce() -> io::Result<Option<Value>>,
        events: &[Envelope],
    ) -> io::Result<Option<(Vec<Envelope>, Option<ChainTip>)>> {
        let Some(seed) = read_key(&self.key_path)? else {
            return Ok(None);
        };
        let last_spooled = last_spooled()?;
        let mut tip = last_spooled.as_ref().and_then(|last| {
            Some(ChainTip {
                session_id: last.get("sessionId")?.as_str()?.to_owned(),
                last_sig: last.get("sig")?.as_str()?.to_owned(),
            })
        });
        let mut signed = Vec::with_capacity(events.len());
        for event in events {
            let session_id = event.session_id.as_str();
            let prev_sig = match &tip {
                Some(tip) if tip.session_id == session_id => tip.last_sig.clone(),
                _ => self.stored_tip(session_id).unwrap_or_default(),
            };
            let mut event = event.clone();
            event.prev_sig = Some(Value::from(prev_sig.as_str()));
            event.sig = None;
            let message = EventSignature::of(&Value::Object(event.to_json())).message;
            // Every envelope has the fields of the message; one that did not would go unsigned, and the server
            // would say so.
            if let Some(message) = message {
                let sig = seed.sign(&message);
                event.sig = Some(Value::from(sig.as_str()));
                tip = Some(ChainTip { session_id: session_id.to_owned(), last_sig: sig });
            }
            signed.push(event);
        }
        Ok(Some((signed, tip)))
    }

    /// Keeps the chain's tip for when the spool is empty. Call it under the spool's lock, after the append.
    pub(crate) fn remember(&self, tip: &ChainTip) -> io::Result<()> {
        replace_atomically(&self.chain_path, json!(tip).to_string().as_bytes())
    }

    fn stored_tip(&self, session_id: &str) -> Option<String> {
        let text = fs::read_to_string(&self.chain_path).ok()?;
        let tip: ChainTip = serde_json::from_str(&text).ok()?;
        (tip.session_id == session_id).then_some(tip.last_sig)
    }
}

/// The workspace's signing key, made on first use with the operating system's random source. Its public half is
/// what `start` gives the server at redeem.
pub(crate) fn key(dir: &StateDir) -> anyhow::Result<SecretSeed> {
    let path = dir.file(KEY_FILE);
    if let Some(seed) = read_key(&path)? {
        return Ok(seed);
    }
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).context("reading random bytes for the signing key")?;
    let seed = SecretSeed::from_bytes(bytes);
    replace_atomically(&path, seed.to_hex().as_bytes())
        .with_context(|| format!("could not write {}", path.display()))?;
    Ok(seed)
}

/// The public half of the workspace's signing key, if `start` made one.
pub(crate) fn public_key(dir: &StateDir) -> anyhow::Result<Option<PublicKey>> {
    Ok(read_key(&dir.file(KEY_FILE))?.map(|seed| seed.public_key()))
}

fn read_key(path: &PathBuf) -> io::Result<Option<SecretSeed>> {
    match fs::read_to_string(path) {
        Ok(text) => SecretSeed::from_hex(&text).map(Some).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} does not hold a signing key", path.display()),
            )
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use traceline_domain::SessionId;

    use super::*;
    use crate::spool::Spool;

    fn workspace() -> (tempfile::TempDir, StateDir) {
        let workspace = tempfile::tempdir().unwrap();
        let dir = StateDir::of_workspace(workspace.path());
        dir.create().unwrap();
        (workspace, dir)
    }

    fn event(session: &str, n: u32) -> Envelope {
        let value = json!({
            "id": uuid::Uuid::new_v4().to_string(), "sessionId": session, "ts": "2026-04-01T10:00:00Z",
            "kind": "prompt", "source": {"integration": "claude-code"}, "v": 1, "data": {"text": n.to_string()},
        });
        Envelope::parse(&value).unwrap()
    }

    #[test]
    fn events_are_chained_in_spool_order_across_deliveries() {
        let (_workspace, dir) = workspace();
        let seed = key(&dir).unwrap();
        assert_eq!(key(&dir).unwrap().to_hex(), seed.to_hex(), "made once, then kept");
        let spool = Spool::of(&dir);
        spool.append(&[event("s-1", 1), event("s-1", 2)]).unwrap();
        let first = spool.pending().unwrap();
        // Delivered: the spool empties, and the chain goes on from chain.json.
        let delivered: HashSet<String> =
            first.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
        spool.settle(&delivered, &[]).unwrap();
        spool.append(&[event("s-1", 3)]).unwrap();
        let mut all = first;
        all.extend(spool.pending().unwrap());
        let mut expected_prev = String::new();
        for spooled in &all {
            assert_eq!(spooled["prevSig"], expected_prev.as_str());
            let signature = EventSignature::of(spooled);
            let sig = signature.sig.clone().unwrap();
            assert!(seed.public_key().verifies(&signature.message.unwrap(), &sig));
            expected_prev = sig;
        }
        // Another session starts its own chain.
        spool.append(&[event("s-2", 4)]).unwrap();
        let last = spool.pending().unwrap().pop().unwrap();
        assert_eq!(last["prevSig"], "");
        assert_eq!(SessionId::parse("s-2").unwrap().as_str(), last["sessionId"]);
    }

    #[test]
    fn torn_and_garbage_lines_do_not_break_the_chain() {
        use std::io::Write as _;

        let (_workspace, dir) = workspace();
        key(&dir).unwrap();
        let spool = Spool::of(&dir);
        spool.append(&[event("s-1", 1)]).unwrap();
        let mut file = fs::OpenOptions::new().append(true).open(dir.file("spool.jsonl")).unwrap();
        file.write_all(b"{\"id\":\"torn\",\"data\":{\"text\":\"wait\xE2\x80\n\x00\xff not json\n")
            .unwrap();
        drop(file);
        spool.append(&[event("s-1", 2)]).unwrap();
        let spooled = spool.pending().unwrap();
        assert_eq!(spooled.len(), 2, "the unreadable lines are set aside");
        assert_eq!(spooled[1]["prevSig"], spooled[0]["sig"], "chained after the last real event");
    }

    #[test]
    fn a_workspace_without_a_key_spools_unsigned() {
        let (_workspace, dir) = workspace();
        Spool::of(&dir).append(&[event("s-1", 1)]).unwrap();
        let spooled = Spool::of(&dir).pending().unwrap();
        assert!(spooled[0].get("sig").is_none());
        assert!(public_key(&dir).unwrap().is_none());
    }

    #[test]
    fn concurrent_appends_form_one_chain() {
        let (_workspace, dir) = workspace();
        let seed = key(&dir).unwrap();
        std::thread::scope(|scope| {
            for writer in 0..4 {
                let dir = dir.clone();
                scope.spawn(move || {
                    for n in 0..10 {
                        Spool::of(&dir).append(&[event("s-1", writer * 100 + n)]).unwrap();
                    }
                });
            }
        });
        let spooled = Spool::of(&dir).pending().unwrap();
        assert_eq!(spooled.len(), 40);
        let mut expected_prev = String::new();
        for line in &spooled {
            assert_eq!(line["prevSig"], expected_prev.as_str(), "one line, in spool order");
            let signature = EventSignature::of(line);
            assert!(seed
                .public_key()
                .verifies(&signature.message.unwrap(), signature.sig.as_ref().unwrap()));
            expected_prev = signature.sig.unwrap();
        }
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
