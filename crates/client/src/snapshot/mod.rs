//! The working-tree snapshot: what every tracked file held when the client last looked, so that changes no hook
//! reported (a person's edits, files an agent's shell command rewrote) can be found and shown as real diffs.
//!
//! `.traceline/snapshot/index` lists each file's size, modification time and content hash; `blobs/<hash>` keeps the
//! text of text files, the "before" side of a later diff. A check walks the tree and compares sizes and
//! modification times first; only files whose stat changed (or changed too recently to trust) are read and hashed.
//! A process holds `.traceline/snapshot.lock` while it reads and rewrites the snapshot.

mod index;
mod scan;

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use traceline_capture::{Before, Change, FileChange, FileContent, ReportedFile};

use crate::files::{private_options, replace_atomically};
use crate::state::StateDir;
use index::{Entry, Index, Stored};
use scan::{hex, read, walk, Read, Stat};

/// A workspace's snapshot on disk.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    workspace: PathBuf,
    root: PathBuf,
    lock_path: PathBuf,
}

/// The snapshot, locked and loaded.
pub(crate) struct Locked<'a> {
    snapshot: &'a Snapshot,
    _lock: File,
    /// `None` until the first baseline.
    index: Option<Index>,
    references: HashMap<String, usize>,
    changed: bool,
}

impl Snapshot {
    /// The snapshot of a state directory.
    pub(crate) fn of(dir: &StateDir) -> Snapshot {
        Snapshot {
            workspace: dir.workspace().to_path_buf(),
            root: dir.file("snapshot"),
            lock_path: dir.file("snapshot.lock"),
        }
    }

    /// Takes the lock (waiting for another process to finish) and loads the index.
    pub(crate) fn lock(&self) -> io::Result<Locked<'_>> {
        let lock =
            private_options().write(true).create(true).truncate(false).open(&self.lock_path)?;
        lock.lock()?;
        let index = fs::read_to_string(self.root.join("index")).ok().and_then(|t| Index::parse(&t));
        let references = index.as_ref().map(Index::blob_references).unwrap_or_default();
        Ok(Locked { snapshot: self, _lock: lock, index, references, changed: false })
    }

    fn blob(&self, hash: &str) -> PathBuf {
        self.root.join("blobs").join(hash)
    }
}

impl Locked<'_> {
    /// Whether a baseline has been taken.
    pub(crate) fn exists(&self) -> bool {
        self.index.is_some()
    }

    /// How many files the snapshot tracks.
    pub(crate) fn tracked(&self) -> usize {
        self.index.as_ref().map_or(0, |index| index.files.len())
    }

    /// Whether an agent tool reported changing `path` during the session.
    pub(crate) fn agent_touched(&self, path: &str) -> bool {
        self.index.as_ref().and_then(|index| index.files.get(path)).is_some_and(|e| e.agent_touched)
    }

    /// Compares the working tree with the snapshot, brings the snapshot up to date, and returns what changed. The
    /// first call records the tree as it is and reports nothing.
    pub(crate) fn check(&mut self) -> io::Result<Vec<FileChange>> {
        let first = self.index.is_none();
        let tree = walk(&self.snapshot.workspace);
        let mut changes = Vec::new();
        for (path, stat) in &tree.files {
            let entry = self.index.as_ref().and_then(|index| index.files.get(path));
            if let (Some(entry), Some(index)) = (entry, &self.index) {
                if entry.size == stat.size
                    && entry.mtime_ns == stat.mtime_ns
                    && index.is_settled(entry)
                {
                    continue;
                }
            }
            let Ok(now) = read(&self.snapshot.workspace.join(path)) else { continue };
            let before = entry.map(|entry| (entry.hash.clone(), self.content_of(entry)));
            let agent_touched = entry.is_some_and(|entry| entry.agent_touched);
            match before {
                Some((hash, _)) if hash == now.hash => {
                    // The same content: remember the new stat (and the later write settles a racy entry), so the
                    // file is not read again.
                    self.restat(path, now.stat);
                    continue;
                }
                Some((hash, before)) => changes.push(FileChange {
                    path: path.clone(),
                    old_hash: hash,
                    new_hash: now.hash.clone(),
                    modified_at: time_of(now.stat.mtime_ns),
                    change: Change::Modified { before, after: now.content.clone() },
                }),
                None => changes.push(FileChange {
                    path: path.clone(),
                    old_hash: String::new(),
                    new_hash: now.hash.clone(),
                    modified_at: time_of(now.stat.mtime_ns),
                    change: Change::Created { after: now.content.clone() },
                }),
            }
            self.store(path, &now, agent_touched)?;
        }
        let gone: Vec<String> = match &self.index {
            Some(index) if !tree.truncated => {
                index.files.keys().filter(|path| !tree.files.contains_key(*path)).cloned().collect()
            }
            _ => Vec::new(),
        };
        for path in gone {
            if let Some(entry) = self.remove(&path)? {
                changes.push(FileChange {
                    path,
                    old_hash: entry.hash.clone(),
                    new_hash: String::new(),
                    modified_at: None,
                    change: Change::Deleted { before: self.content_of(&entry) },
                });
            }
        }
        if first {
            self.index = Some(self.index.take().unwrap_or_default());
            self.changed = true;
        }
        Ok(if first { Vec::new() } else { changes })
    }

    /// Takes in the files an agent tool reported changing, as they are now, marked as the agent's; returns the
    /// changes a person made to them since the snapshot, where the payload shows what they held just before the
    /// tool ran (so a person's edit between two agent edits of one file is theirs, and the agent's are not counted
    /// twice).
    pub(crate) fn absorb_reported(
        &mut self,
        files: &[ReportedFile],
    ) -> io::Result<Vec<FileChange>> {
        let mut interim = Vec::new();
        for file in files {
            let now = read(&self.snapshot.workspace.join(&file.path)).ok();
            if self.index.is_some() {
                interim.extend(self.interim_change(file, now.as_ref()));
            }
            match &now {
                Some(now) => self.store(&file.path, now, true)?,
                None => drop(self.remove(&file.path)?),
            }
        }
        self.index.get_or_insert_with(Index::default);
        self.changed = true;
        Ok(interim)
    }

    /// Writes the index back if anything changed: a check that finds nothing writes nothing.
    pub(crate) fn save(self) -> io::Result<()> {
        let Some(index) = &self.index else { return Ok(()) };
        if !self.changed {
            return Ok(());
        }
        fs::create_dir_all(&self.snapshot.root)?;
        let written_ns = time_ns(SystemTime::now());
        replace_atomically(&self.snapshot.root.join("index"), index.render(written_ns).as_bytes())
    }

    /// What a person changed in `file` between the snapshot and the moment the agent's tool ran.
    fn interim_change(&self, file: &ReportedFile, now: Option<&Read>) -> Option<FileChange> {
        let before: Option<String> = match &file.before {
            Before::Absent => None,
            known => Some(known.reconstruct(match now.map(|now| &now.content) {
                Some(FileContent::Text(text)) => text,
                _ => "",
            })?),
        };
        let entry = self.index.as_ref()?.files.get(&file.path);
        // Already taken in as it is now (a look at the tree came between the write and its report): there is nothing
        // left to tell apart, and a difference would be the agent's edit read backwards.
        if entry.zip(now).is_some_and(|(entry, now)| entry.hash == now.hash) {
            return None;
        }
        let (old_hash, before_snapshot) = match entry {
            Some(entry) => (entry.hash.clone(), Some(self.content_of(entry))),
            None => (String::new(), None),
        };
        let new_hash =
            before.as_deref().map_or_else(String::new, |text| hex(&Sha256::digest(text)));
        if old_hash == new_hash {
            return None;
        }
        let change = match (before_snapshot, before) {
            (None, None) => return None,
            (Some(before), None) => Change::Deleted { before },
            (None, Some(text)) => Change::Created { after: FileContent::Text(text) },
            (Some(before), Some(text)) => {
                Change::Modified { before, after: FileContent::Text(text) }
            }
        };
        Some(FileChange { path: file.path.clone(), old_hash, new_hash, modified_at: None, change })
    }

    fn content_of(&self, entry: &Entry) -> FileContent {
        match entry.stored {
            Stored::Text => match fs::read_to_string(self.snapshot.blob(&entry.hash)) {
                Ok(text) => FileContent::Text(text),
                // A lost blob: the change is still recorded, without its diff.
                Err(_) => FileContent::TooLarge { size: entry.size },
            },
            Stored::Binary => FileContent::Binary { size: entry.size },
            Stored::TooLarge => FileContent::TooLarge { size: entry.size },
        }
    }

    fn restat(&mut self, path: &str, stat: Stat) {
        if let Some(entry) = self.index.as_mut().and_then(|index| index.files.get_mut(path)) {
            entry.size = stat.size;
            entry.mtime_ns = stat.mtime_ns;
            self.changed = true;
        }
    }

    fn store(&mut self, path: &str, read: &Read, agent_touched: bool) -> io::Result<()> {
        self.changed = true;
        if let FileContent::Text(text) = &read.content {
            let blob = self.snapshot.blob(&read.hash);
            if !blob.exists() {
                fs::create_dir_all(self.snapshot.root.join("blobs"))?;
                replace_atomically(&blob, text.as_bytes())?;
            }
            *self.references.entry(read.hash.clone()).or_default() += 1;
        }
        let entry = Entry {
            size: read.stat.size,
            mtime_ns: read.stat.mtime_ns,
            hash: read.hash.clone(),
            stored: read.stored,
            agent_touched,
        };
        let index = self.index.get_or_insert_with(Index::default);
        if let Some(old) = index.files.insert(path.to_owned(), entry) {
            self.release(&old)?;
        }
        Ok(())
    }

    fn remove(&mut self, path: &str) -> io::Result<Option<Entry>> {
        let Some(old) = self.index.as_mut().and_then(|index| index.files.remove(path)) else {
            return Ok(None);
        };
        self.changed = true;
        self.release(&old)?;
        Ok(Some(old))
    }

    /// Drops one reference to an entry's blob, deleting the blob when it was the last.
    fn release(&mut self, old: &Entry) -> io::Result<()> {
        if old.stored != Stored::Text {
            return Ok(());
        }
        let count = self.references.entry(old.hash.clone()).or_default();
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.references.remove(&old.hash);
            match fs::remove_file(self.snapshot.blob(&old.hash)) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
        Ok(())
    }
}

fn time_ns(time: SystemTime) -> i128 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| i128::try_from(since.as_nanos()).unwrap_or(i128::MAX))
}

fn time_of(mtime_ns: i128) -> Option<DateTime<Utc>> {
    let nanos = i64::try_from(mtime_ns).ok()?;
    (nanos > 0).then(|| DateTime::from_timestamp_nanos(nanos))
}

#[cfg(test)]
mod tests;
