//! The snapshot's index: one line per tracked file with its size, modification time, content hash and whether an
//! agent tool has reported changing it, in `.traceline/snapshot/index`. A plain line format rather than JSON: it is
//! read on every check, and 10,000 lines must parse in a millisecond or two.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// What the snapshot holds of one file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    /// Text, kept in the blob store under its hash, so a later change can be shown as a diff.
    Text,
    /// Not text: only its hash and size are kept.
    Binary,
    /// Text too large to diff: only its hash and size are kept.
    TooLarge,
}

impl Stored {
    fn code(self) -> char {
        match self {
            Stored::Text => 't',
            Stored::Binary => 'b',
            Stored::TooLarge => 'l',
        }
    }

    fn from_code(code: &str) -> Option<Stored> {
        match code {
            "t" => Some(Stored::Text),
            "b" => Some(Stored::Binary),
            "l" => Some(Stored::TooLarge),
            _ => None,
        }
    }
}

/// One tracked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) size: u64,
    /// Nanoseconds since the epoch.
    pub(crate) mtime_ns: i128,
    /// SHA-256 of the content, in hex.
    pub(crate) hash: String,
    pub(crate) stored: Stored,
    /// An agent tool reported changing this file during the session.
    pub(crate) agent_touched: bool,
}

/// Every tracked file by its workspace-relative path, and when the index was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Index {
    pub(crate) files: BTreeMap<String, Entry>,
    /// When the index was last written, in nanoseconds since the epoch. A file whose modification time is this
    /// close to it may have changed again within the clock's resolution, so it is read again at the next check
    /// (git's "racily clean" entries).
    pub(crate) written_ns: i128,
}

/// How close to the index's writing a modification time must be to count as racy.
const RACY_NS: i128 = 2_000_000_000;

const HEADER: &str = "traceline-snapshot 1";

impl Index {
    /// Reads an index; `None` when the text is not one (a torn write, a future format): the caller starts afresh.
    pub(crate) fn parse(text: &str) -> Option<Index> {
        let mut lines = text.lines();
        let written_ns = lines.next()?.strip_prefix(HEADER)?.trim().parse().ok()?;
        let mut files = BTreeMap::new();
        for line in lines {
            let mut fields = line.splitn(6, ' ');
            let size = fields.next()?.parse().ok()?;
            let mtime_ns = fields.next()?.parse().ok()?;
            let stored = Stored::from_code(fields.next()?)?;
            let agent_touched = fields.next()? == "1";
            let hash = fields.next()?.to_owned();
            let path = fields.next()?.to_owned();
            files.insert(path, Entry { size, mtime_ns, hash, stored, agent_touched });
        }
        Some(Index { files, written_ns })
    }

    /// The index as text, stamped with `written_ns`.
    pub(crate) fn render(&self, written_ns: i128) -> String {
        let mut text = String::with_capacity(64 + self.files.len() * 120);
        let _ = writeln!(text, "{HEADER} {written_ns}");
        for (path, entry) in &self.files {
            let _ = writeln!(
                text,
                "{} {} {} {} {} {path}",
                entry.size,
                entry.mtime_ns,
                entry.stored.code(),
                u8::from(entry.agent_touched),
                entry.hash
            );
        }
        text
    }

    /// Whether `entry`'s recorded state can be trusted without reading the file again.
    pub(crate) fn is_settled(&self, entry: &Entry) -> bool {
        entry.mtime_ns + RACY_NS < self.written_ns
    }

    /// How many entries hold each text blob, so a blob is deleted only when nothing refers to it any more.
    pub(crate) fn blob_references(&self) -> HashMap<String, usize> {
        let mut references = HashMap::new();
        for entry in self.files.values().filter(|entry| entry.stored == Stored::Text) {
            *references.entry(entry.hash.clone()).or_default() += 1;
        }
        references
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_round_trips_paths_with_spaces() {
        let mut index = Index::default();
        let entry = |stored, agent_touched| Entry {
            size: 12,
            mtime_ns: 1_700_000_000_123_456_789,
            hash: "ab".repeat(32),
            stored,
            agent_touched,
        };
        index.files.insert("src/main.rs".to_owned(), entry(Stored::Text, true));
        index.files.insert("docs/a file.md".to_owned(), entry(Stored::TooLarge, false));
        index.files.insert("logo.png".to_owned(), entry(Stored::Binary, false));
        let text = index.render(42);
        let read = Index::parse(&text).unwrap();
        assert_eq!(read.written_ns, 42);
        assert_eq!(read.files, index.files);
        assert_eq!(Index::parse("not an index"), None);
        assert_eq!(Index::parse(&format!("{HEADER} 1\n12 x t 0 h path")), None);
    }

    #[test]
    fn entries_modified_near_the_write_are_racy() {
        let index = Index { written_ns: 10_000_000_000, ..Index::default() };
        let entry = |mtime_ns| Entry {
            size: 0,
            mtime_ns,
            hash: String::new(),
            stored: Stored::Text,
            agent_touched: false,
        };
        assert!(index.is_settled(&entry(7_000_000_000)));
        assert!(!index.is_settled(&entry(8_500_000_000)));
    }
}
