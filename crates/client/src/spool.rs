//! The spool: events waiting for the server, one JSON envelope per line in `.traceline/spool.jsonl`.
//!
//! Every hook call appends and syncs before it tries the network, and lines leave the file only once the server
//! has settled them, so an event survives a dead server, a killed hook and a reboot. A line that cannot be read (cut
//! inside a multi-byte character by a crash, or any garbage) is moved to `skipped.jsonl` and counted by `traceline
//! status`: it never blocks the lines after it. Processes coordinate through
//! an exclusive lock on a separate `spool.lock`: the spool file itself is replaced by rename when lines leave it, and
//! a lock held on a replaced file would no longer exclude anyone. The lock is never held across a network call, so a
//! slow server never makes a hook wait for another hook.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use traceline_domain::event::Envelope;

use crate::files::{private_options, replace_atomically};
use crate::signer::ChainSigner;
use crate::state::StateDir;

/// A workspace's spool.
#[derive(Debug, Clone)]
pub struct Spool {
    path: PathBuf,
    lock_path: PathBuf,
    rejected_path: PathBuf,
    skipped_path: PathBuf,
    signer: ChainSigner,
}

/// Events the server refused for good, with its reason; kept beside the spool for `traceline status`.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// The envelope as it was spooled.
    pub event: Value,
    /// What the server (or the spool reader) said.
    pub reason: String,
}

impl Spool {
    /// The spool of a state directory.
    pub fn of(dir: &StateDir) -> Spool {
        Spool {
            path: dir.file("spool.jsonl"),
            lock_path: dir.file("spool.lock"),
            rejected_path: dir.file("rejected.jsonl"),
            skipped_path: dir.file("skipped.jsonl"),
            signer: ChainSigner::of(dir),
        }
    }

    /// Appends envelopes, in order, and syncs them to disk before returning: from here on each has its final id, its
    /// place in the spool, and, in a workspace with a signing key, its signature, chained after the event before
    /// it (`crate::signer`; signed under the lock, so concurrent appends cannot interleave the chain).
    pub fn append(&self, events: &[Envelope]) -> io::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let _lock = self.lock()?;
        match self.signer.sign(|| self.last_line(), events)? {
            Some((signed, tip)) => {
                self.write_events(&signed)?;
                match tip {
                    Some(tip) => self.signer.remember(&tip),
                    None => Ok(()),
                }
            }
            None => self.write_events(events),
        }
    }

    /// The last envelope in the spool that can be read: lines that cannot (a torn write, garbage) are skipped, as
    /// delivery skips them, so the next event is chained after the last real one.
    fn last_line(&self) -> io::Result<Option<Value>> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        Ok(bytes
            .split(|byte| *byte == b'\n')
            .rev()
            .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
            .find(|event| event_id(event).is_some()))
    }

    fn write_events(&self, events: &[Envelope]) -> io::Result<()> {
        let mut file = private_options().read(true).append(true).create(true).open(&self.path)?;
        let mut text = String::new();
        // A hook killed mid-write leaves a line without its newline; starting a fresh line keeps that damage to the
        // torn line instead of gluing the next event onto it.
        if !ends_with_newline(&mut file)? {
            text.push('\n');
        }
        for event in events {
            text.push_str(&Value::Object(event.to_json()).to_string());
            text.push('\n');
        }
        file.write_all(text.as_bytes())?;
        file.sync_data()
    }

    /// Everything waiting, oldest first. Lines that cannot be read (a torn write, a line cut inside a UTF-8
    /// character, garbage) are moved to `skipped.jsonl`, so they neither block delivery nor vanish without a trace.
    pub fn pending(&self) -> io::Result<Vec<Value>> {
        let _lock = self.lock()?;
        let (events, unreadable) = self.read_lines()?;
        if !unreadable.is_empty() {
            append_lines(
                &self.skipped_path,
                unreadable.iter().map(|line| {
                    json!({"reason": "unreadable spool line", "line": line}).to_string()
                }),
            )?;
            self.rewrite(&events)?;
        }
        Ok(events)
    }

    /// Removes the events the server acknowledged and moves the ones it refused for good to the rejected file.
    /// Rereads the spool under the lock, so events appended since [`Spool::pending`] are kept.
    pub fn settle(&self, delivered: &HashSet<String>, rejected: &[Rejection]) -> io::Result<()> {
        if delivered.is_empty() && rejected.is_empty() {
            return Ok(());
        }
        let _lock = self.lock()?;
        self.record_rejections(rejected)?;
        let rejected_ids: HashSet<&str> =
            rejected.iter().filter_map(|rejection| event_id(&rejection.event)).collect();
        let (events, _unreadable) = self.read_lines()?;
        let remaining: Vec<Value> = events
            .into_iter()
            .filter(|event| {
                event_id(event)
                    .is_none_or(|id| !delivered.contains(id) && !rejected_ids.contains(id))
            })
            .collect();
        self.rewrite(&remaining)
    }

    /// Whether the spool file holds anything at all, without reading it: what a hook checks before starting a
    /// flusher.
    pub(crate) fn has_lines(&self) -> bool {
        fs::metadata(&self.path).is_ok_and(|meta| meta.len() > 0)
    }

    /// How many events are waiting.
    pub fn len(&self) -> io::Result<usize> {
        Ok(self.pending()?.len())
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// How many events the server refused for good over the life of this workspace.
    pub fn rejected_count(&self) -> io::Result<usize> {
        count_lines(&self.rejected_path)
    }

    /// How many spool lines could not be read and were set aside, over the life of this workspace.
    pub fn skipped_count(&self) -> io::Result<usize> {
        count_lines(&self.skipped_path)
    }

    fn lock(&self) -> io::Result<File> {
        let file =
            private_options().write(true).create(true).truncate(false).open(&self.lock_path)?;
        file.lock()?;
        Ok(file)
    }

    /// The spool's events, and its unreadable lines (as text, invalid UTF-8 replaced). Read as bytes: one line
    /// that is not UTF-8 must not make the whole file unreadable.
    fn read_lines(&self) -> io::Result<(Vec<Value>, Vec<String>)> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok((Vec::new(), Vec::new()))
            }
            Err(error) => return Err(error),
        };
        let mut events = Vec::new();
        let mut unreadable = Vec::new();
        for line in bytes.split(|byte| *byte == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(event) if event_id(&event).is_some() => events.push(event),
                _ => unreadable.push(String::from_utf8_lossy(line).into_owned()),
            }
        }
        Ok((events, unreadable))
    }

    fn rewrite(&self, events: &[Value]) -> io::Result<()> {
        let mut text = String::new();
        for event in events {
            text.push_str(&event.to_string());
            text.push('\n');
        }
        replace_atomically(&self.path, text.as_bytes())
    }

    fn record_rejections(&self, rejected: &[Rejection]) -> io::Result<()> {
        append_lines(
            &self.rejected_path,
            rejected.iter().map(|rejection| {
                json!({"reason": rejection.reason, "event": rejection.event}).to_string()
            }),
        )
    }
}

/// Appends lines to a private file and syncs it; nothing to append, nothing written.
fn append_lines(path: &Path, lines: impl Iterator<Item = String>) -> io::Result<()> {
    let mut text = String::new();
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    if text.is_empty() {
        return Ok(());
    }
    let mut file = private_options().append(true).create(true).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_data()
}

fn count_lines(path: &Path) -> io::Result<usize> {
    match fs::read(path) {
        Ok(bytes) => Ok(bytes.split(|byte| *byte == b'\n').filter(|line| !line.is_empty()).count()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(error) => Err(error),
    }
}

/// An envelope's idempotency key.
pub(crate) fn event_id(event: &Value) -> Option<&str> {
    event.get("id").and_then(Value::as_str)
}

fn ends_with_newline(file: &mut File) -> io::Result<bool> {
    let length = file.seek(SeekFrom::End(0))?;
    if length == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0_u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

#[cfg(test)]
mod tests {

    use std::sync::Arc;

    use super::*;

    fn spool() -> (tempfile::TempDir, Spool) {
        let workspace = tempfile::tempdir().unwrap();
        let dir = StateDir::of_workspace(workspace.path());
        dir.create().unwrap();
        (workspace, Spool::of(&dir))
    }

    /// A UUID named by a short word, so the tests read in words.
    fn id(name: &str) -> String {
        let mut bytes = [0_u8; 16];
        for (slot, byte) in bytes.iter_mut().zip(name.bytes()) {
            *slot = byte;
        }
        uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
    }

    fn event(name: &str) -> Envelope {
        let json = json!({"id": id(name), "sessionId": "s-1", "ts": "2026-01-01T00:00:00Z", "kind": "prompt",
                          "source": "hook", "v": 1, "data": {"text": name}});
        Envelope::parse(&json).unwrap()
    }

    fn ids(events: &[Value]) -> Vec<&str> {
        events.iter().filter_map(event_id).collect()
    }

    fn named(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| id(name)).collect()
    }

    #[test]
    fn settled_events_leave_and_the_rest_stay_in_order() {
        let (_workspace, spool) = spool();
        spool.append(&[event("a"), event("b")]).unwrap();
        spool.append(&[event("c"), event("d")]).unwrap();
        let delivered = HashSet::from([id("a"), id("c")]);
        let refused = [Rejection { event: json!({"id": id("d")}), reason: "bad".to_owned() }];
        spool.settle(&delivered, &refused).unwrap();
        assert_eq!(ids(&spool.pending().unwrap()), named(&["b"]));
        assert_eq!(spool.rejected_count().unwrap(), 1);
    }

    #[test]
    fn events_appended_after_reading_survive_the_settle() {
        let (_workspace, spool) = spool();
        spool.append(&[event("a")]).unwrap();
        let read = spool.pending().unwrap();
        spool.append(&[event("b")]).unwrap();
        spool.settle(&ids(&read).into_iter().map(str::to_owned).collect(), &[]).unwrap();
        assert_eq!(ids(&spool.pending().unwrap()), named(&["b"]));
    }

    #[test]
    fn torn_and_garbage_lines_cost_only_themselves() {
        let (_workspace, spool) = spool();
        spool.append(&[event("a")]).unwrap();
        let mut file = fs::OpenOptions::new().append(true).open(&spool.path).unwrap();
        // A write cut inside `…` (E2 80 A6), then garbage, then a line that is JSON but no event.
        file.write_all(b"{\"id\":\"torn\",\"data\":{\"text\":\"\xE2\x80").unwrap();
        spool.append(&[event("b")]).unwrap();
        file.write_all(b"\x00\xFF not json at all\n[1,2]\n").unwrap();
        spool.append(&[event("c")]).unwrap();
        assert_eq!(ids(&spool.pending().unwrap()), named(&["a", "b", "c"]));
        assert_eq!(spool.skipped_count().unwrap(), 3);
        assert_eq!(spool.rejected_count().unwrap(), 0);
        // Set aside once: the spool no longer holds them.
        assert_eq!(ids(&spool.pending().unwrap()), named(&["a", "b", "c"]));
        assert_eq!(spool.skipped_count().unwrap(), 3);
    }

    #[test]
    fn concurrent_appends_lose_nothing() {
        let (_workspace, spool) = spool();
        let spool = Arc::new(spool);
        let writers: Vec<_> = (0..8)
            .map(|writer| {
                let spool = Arc::clone(&spool);
                std::thread::spawn(move || {
                    for n in 0..25 {
                        spool.append(&[event(&format!("{writer}-{n}"))]).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let pending = spool.pending().unwrap();
        let unique: HashSet<&str> = ids(&pending).into_iter().collect();
        assert_eq!((pending.len(), unique.len()), (200, 200));
    }
}
