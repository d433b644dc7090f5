//! Walking the working tree as git sees it (`.gitignore` files at every level and `.git/info/exclude` apply, with or
//! without a git repository), and reading one file into what the snapshot keeps of it.

use std::collections::BTreeMap;
use std::fs::{self, Metadata};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::UNIX_EPOCH;

use ignore::{WalkBuilder, WalkState};
use sha2::{Digest, Sha256};
use traceline_capture::FileContent;

use super::index::Stored;
use crate::state::STATE_DIR_NAME;

/// Text larger than this is recorded as changed without a diff: a diff of it would be slow to compute and
/// unreadable on a timeline.
pub(crate) const DIFF_LIMIT_BYTES: u64 = 256 * 1024;

/// A working tree with more files than this (a dependency folder nobody ignored) is tracked up to it and no
/// further, so that a check stays cheap.
pub(crate) const MAX_FILES: usize = 50_000;

/// Folders that hold installed dependencies, caches or an IDE's state, left out even where no `.gitignore` says so:
/// an `npm install` is not thousands of edits.
const ALWAYS_LEFT_OUT: &[&str] = &[
    ".git",
    "node_modules",
    "__pycache__",
    ".venv",
    ".tox",
    ".pytest_cache",
    ".mypy_cache",
    ".next",
    ".gradle",
    ".idea",
];

/// How much of a file is looked at to tell text from binary, as git does.
const BINARY_PROBE_BYTES: usize = 8000;

/// A file's size and modification time: what a check compares before it reads anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    pub(crate) size: u64,
    pub(crate) mtime_ns: i128,
}

impl Stat {
    pub(crate) fn of(metadata: &Metadata) -> Stat {
        let mtime_ns = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |since| i128::try_from(since.as_nanos()).unwrap_or(i128::MAX));
        Stat { size: metadata.len(), mtime_ns }
    }
}

/// The files of a working tree.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    /// Workspace-relative paths with `/` separators.
    pub(crate) files: BTreeMap<String, Stat>,
    /// The walk stopped at [`MAX_FILES`].
    pub(crate) truncated: bool,
}

/// Every regular file under `workspace` that git would not ignore, leaving out `.git`, Traceline's own state and the
/// folders of [`ALWAYS_LEFT_OUT`].
/// Symbolic links are not followed, and paths that are not UTF-8 are left out. Directories are read in parallel:
/// the walk is most of a check's cost.
pub(crate) fn walk(workspace: &Path) -> Tree {
    let walker = WalkBuilder::new(workspace)
        .hidden(false)
        .parents(false)
        .ignore(false)
        .git_global(false)
        .git_ignore(true)
        .git_exclude(true)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| {
            let name = entry.file_name();
            let is_dir = entry.file_type().is_some_and(|kind| kind.is_dir());
            let left_out = is_dir && ALWAYS_LEFT_OUT.iter().any(|folder| name == *folder);
            !(left_out || name == ".git" || (entry.depth() == 1 && name == STATE_DIR_NAME))
        })
        .build_parallel();
    let found: Mutex<Vec<(String, Stat)>> = Mutex::new(Vec::new());
    let truncated = AtomicBool::new(false);
    walker.run(|| {
        Box::new(|entry| {
            let Ok(entry) = entry else { return WalkState::Continue };
            if !entry.file_type().is_some_and(|kind| kind.is_file()) {
                return WalkState::Continue;
            }
            let (Some(relative), Ok(metadata)) =
                (relative_path(workspace, entry.path()), entry.metadata())
            else {
                return WalkState::Continue;
            };
            let Ok(mut found) = found.lock() else { return WalkState::Quit };
            if found.len() == MAX_FILES {
                truncated.store(true, Ordering::Relaxed);
                return WalkState::Quit;
            }
            found.push((relative, Stat::of(&metadata)));
            WalkState::Continue
        })
    });
    let files = found.into_inner().unwrap_or_else(PoisonError::into_inner).into_iter().collect();
    Tree { files, truncated: truncated.into_inner() }
}

fn relative_path(workspace: &Path, path: &Path) -> Option<String> {
    let rest = path.strip_prefix(workspace).ok()?;
    let parts: Option<Vec<&str>> =
        rest.components().map(|part| part.as_os_str().to_str()).collect();
    let joined = parts?.join("/");
    // The index is one line per file, space-separated with the path last: a newline cannot be stored.
    (!joined.is_empty() && !joined.contains('\n')).then_some(joined)
}

/// One file's content as the snapshot keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Read {
    pub(crate) stat: Stat,
    pub(crate) hash: String,
    pub(crate) stored: Stored,
    pub(crate) content: FileContent,
}

/// Reads `path`: its hash, and its text when it is text small enough to diff.
pub(crate) fn read(path: &Path) -> io::Result<Read> {
    let bytes = fs::read(path)?;
    let stat = Stat::of(&fs::metadata(path)?);
    let hash = hex(&Sha256::digest(&bytes));
    let size = bytes.len() as u64;
    let probe = &bytes[..bytes.len().min(BINARY_PROBE_BYTES)];
    let (stored, content) = if probe.contains(&0) {
        (Stored::Binary, FileContent::Binary { size })
    } else if size > DIFF_LIMIT_BYTES {
        (Stored::TooLarge, FileContent::TooLarge { size })
    } else {
        match String::from_utf8(bytes) {
            Ok(text) => (Stored::Text, FileContent::Text(text)),
            Err(_) => (Stored::Binary, FileContent::Binary { size }),
        }
    };
    Ok(Read { stat, hash, stored, content })
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
        text.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        text.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_respects_gitignore_without_git_and_skips_our_state() {
        let workspace = tempfile::tempdir().unwrap();
        let root = workspace.path();
        for (path, text) in [
            (".gitignore", "target/\n*.log\n!keep.log\n"),
            ("src/main.rs", "fn main() {}\n"),
            ("src/.gitignore", "generated.rs\n"),
            ("src/generated.rs", "// generated\n"),
            ("target/debug/app", "binary"),
            ("debug.log", "noise"),
            ("web/node_modules/left-pad/index.js", "module.exports = pad;"),
            ("keep.log", "kept"),
            (".env", "SECRET=1"),
            (".traceline/spool.jsonl", "{}"),
            (".git/HEAD", "ref: refs/heads/main"),
        ] {
            let file = root.join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, text).unwrap();
        }
        let tree = walk(root);
        let paths: Vec<&str> = tree.files.keys().map(String::as_str).collect();
        assert_eq!(paths, [".env", ".gitignore", "keep.log", "src/.gitignore", "src/main.rs"]);
        assert!(!tree.truncated);
    }

    #[test]
    fn files_are_text_binary_or_too_large() {
        let workspace = tempfile::tempdir().unwrap();
        let file = workspace.path().join("f");
        fs::write(&file, "héllo\n").unwrap();
        let read_text = read(&file).unwrap();
        assert_eq!(read_text.content, FileContent::Text("héllo\n".to_owned()));
        assert_eq!(read_text.hash.len(), 64);
        fs::write(&file, b"PNG\x00\x01").unwrap();
        assert_eq!(read(&file).unwrap().content, FileContent::Binary { size: 5 });
        fs::write(&file, b"\xff\xfe latin-1").unwrap();
        assert_eq!(read(&file).unwrap().stored, Stored::Binary);
        fs::write(&file, "x".repeat(300_000)).unwrap();
        assert_eq!(read(&file).unwrap().content, FileContent::TooLarge { size: 300_000 });
    }
}
