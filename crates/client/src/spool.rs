//! The spool: events waiting for the server, one JSON envelope per line in `.traceline/spool.jsonl`.
//!
//! Every hook call appends and syncs before it tries the network, and lines leave the file only once the server
//! has settled them, so an event survives a dead server, a killed hook and a reboot. Processes coordinate through
//! an exclusive lock on a separate `spool.lock`: the spool file itself is replaced by rename when lines leave it, and
//! a lock held on a replaced file would no longer exclude anyone. The lock is never held across a network call, so a
//! slow server never makes a hook wait for another hook.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::files::{private_options, replace_atomically};
use crate::state::StateDir;

/// A workspace's spool.
#[derive(Debug, Clone)]
pub struct Spool {
    path: PathBuf,
    lock_path: PathBuf,
    rejected_path: PathBuf,
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
        }
    }

    /// Appends envelopes and syncs them to disk before returning.
    pub fn append(&self, events: &[Value]) -> io::Result<()> {
        self.locked()?.append(events)
    }

    /// The spool held under its lock until the guard is dropped, for work that must see and extend it in one
    /// step, with no other process appending in between (signing each event after the last one, `crate::signer`).
    pub fn locked(&self) -> io::Result<SpoolGuard<'_>> {
        Ok(SpoolGuard { spool: self, _lock: self.lock()? })
    }

    fn append_unlocked(&self, events: &[Value]) -> io::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut file = private_options().read(true).append(true).create(true).open(&self.path)?;
        let mut text = String::new();
        // A hook killed mid-write leaves a line without its newline; starting a fresh line keeps that damage to the
        // torn line instead of gluing the next event onto it.
        if !ends_with_newline(&mut file)? {
            text.push('\n');
        }
        for event in events {
            text.push_str(&event.to_string());
            text.push('\n');
        }
        file.write_all(text.as_bytes())?;
        file.sync_data()
    }

    /// Everything waiting, oldest first. Lines that do not parse (a torn write) are moved to the rejected file so
    /// they neither block delivery nor vanish without a trace.
    pub fn pending(&self) -> io::Result<Vec<Value>> {
        let _lock = self.lock()?;
        let (events, unreadable) = self.read_lines()?;
        if !unreadable.is_empty() {
            let rejections: Vec<Rejection> = unreadable
                .into_iter()
                .map(|line| Rejection {
                    event: Value::String(line),
                    reason: "unreadable spool line".to_owned(),
                })
                .collect();
            self.record_rejections(&rejections)?;
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
        match fs::read_to_string(&self.rejected_path) {
            Ok(text) => Ok(text.lines().filter(|line| !line.trim().is_empty()).count()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(error) => Err(error),
        }
    }

    fn lock(&self) -> io::Result<File> {
        let file =
            private_options().write(true).create(true).truncate(false).open(&self.lock_path)?;
        file.lock()?;
        Ok(file)
    }

    fn read_lines(&self) -> io::Result<(Vec<Value>, Vec<String>)> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok((Vec::new(), Vec::new()))
            }
            Err(error) => return Err(error),
        };
        let mut events = Vec::new();
        let mut unreadable = Vec::new();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            match serde_json::from_str::<Value>(line) {
                Ok(event) if event_id(&event).is_some() => events.push(event),
                _ => unreadable.push(line.to_owned()),
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
        if rejected.is_empty() {
            return Ok(());
        }
        let mut file = private_options().append(true).create(true).open(&self.rejected_path)?;
        let mut text = String::new();
        for rejection in rejected {
            text.push_str(
                &json!({"reason": rejection.reason, "event": rejection.event}).to_string(),
            );
            text.push('\n');
        }
        file.write_all(text.as_bytes())?;
        file.sync_data()
    }
}

/// A spool under its lock.
#[derive(Debug)]
pub struct SpoolGuard<'a> {
    spool: &'a Spool,
    _lock: File,
}

impl SpoolGuard<'_> {
    /// The envelope appended last that is still waiting, if it can be read.
    pub fn last(&self) -> io::Result<Option<Value>> {
        let text = match fs::read_to_string(&self.spool.path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let last = text.lines().rev().find(|line| !line.trim().is_empty());
        Ok(last.and_then(|line| serde_json::from_str(line).ok()))
    }

    /// Appends envelopes and syncs them to disk before returning.
    pub fn append(&self, events: &[Value]) -> io::Result<()> {
        self.spool.append_unlocked(events)
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

    fn event(id: &str) -> Value {
        json!({"id": id, "kind": "prompt"})
    }

    fn ids(events: &[Value]) -> Vec<&str> {
        events.iter().filter_map(event_id).collect()
    }

    #[test]
    fn settled_events_leave_and_the_rest_stay_in_order() {
        let (_workspace, spool) = spool();
        spool.append(&[event("a"), event("b")]).unwrap();
        spool.append(&[event("c"), event("d")]).unwrap();
        let delivered = HashSet::from(["a".to_owned(), "c".to_owned()]);
        let refused = [Rejection { event: event("d"), reason: "bad".to_owned() }];
        spool.settle(&delivered, &refused).unwrap();
        assert_eq!(ids(&spool.pending().unwrap()), ["b"]);
        assert_eq!(spool.rejected_count().unwrap(), 1);
    }

    #[test]
    fn events_appended_after_reading_survive_the_settle() {
        let (_workspace, spool) = spool();
        spool.append(&[event("a")]).unwrap();
        let read = spool.pending().unwrap();
        spool.append(&[event("b")]).unwrap();
        spool.settle(&ids(&read).into_iter().map(str::to_owned).collect(), &[]).unwrap();
        assert_eq!(ids(&spool.pending().unwrap()), ["b"]);
    }

    #[test]
    fn a_torn_line_costs_only_itself() {
        let (_workspace, spool) = spool();
        spool.append(&[event("a")]).unwrap();
        let mut file = fs::OpenOptions::new().append(true).open(&spool.path).unwrap();
        file.write_all(br#"{"id":"torn","ki"#).unwrap();
        spool.append(&[event("b")]).unwrap();
        assert_eq!(ids(&spool.pending().unwrap()), ["a", "b"]);
        assert_eq!(spool.rejected_count().unwrap(), 1);
        assert_eq!(ids(&spool.pending().unwrap()), ["a", "b"]);
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
