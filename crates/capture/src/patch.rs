//! Counting added and removed lines, and writing a readable diff, from each tool's description of an edit:
//! Claude Code's `structuredPatch` hunks, `old_string`/`new_string` replacements (Cursor's `edits[]`, Claude
//! Code's legacy payloads) and Codex's `apply_patch` text.

use serde_json::Value;

use crate::payload::{count_at, str_at};

/// The size of one file's change and its diff text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) added: u64,
    pub(crate) removed: u64,
    pub(crate) diff: String,
}

impl Change {
    fn line(&mut self, line: &str) {
        match line.as_bytes().first() {
            Some(b'+') => self.added += 1,
            Some(b'-') => self.removed += 1,
            _ => {}
        }
        self.diff.push_str(line);
        self.diff.push('\n');
    }
}

/// Claude Code's `structuredPatch`: hunks of `{oldStart, oldLines, newStart, newLines, lines}` whose lines start
/// with ` `, `-` or `+`. `None` when it is not an array.
pub(crate) fn structured_patch(hunks: &Value) -> Option<Change> {
    let mut change = Change::default();
    for hunk in hunks.as_array()? {
        let number = |key| count_at(hunk, &[key]).unwrap_or(0);
        change.diff.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            number("oldStart"),
            number("oldLines"),
            number("newStart"),
            number("newLines")
        ));
        let lines = hunk.get("lines").and_then(Value::as_array).into_iter().flatten();
        lines.filter_map(Value::as_str).for_each(|line| change.line(line));
    }
    Some(change)
}

/// Replacements `[{old_string, new_string}]` (Cursor's `edits[]`, Claude Code's `MultiEdit`). Lines the old and
/// new text share at their start and end are context, not changes. `None` when it is not an array.
pub(crate) fn replacements(edits: &Value) -> Option<Change> {
    let mut change = Change::default();
    for edit in edits.as_array()? {
        let old = str_at(edit, &["old_string"]).unwrap_or_default();
        let new = str_at(edit, &["new_string"]).unwrap_or_default();
        replacement(&mut change, old, new);
    }
    Some(change)
}

/// One replacement of `old` by `new`.
pub(crate) fn replacement(change: &mut Change, old: &str, new: &str) {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let common_start = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let rest_old = &old[common_start..];
    let rest_new = &new[common_start..];
    let common_end =
        rest_old.iter().rev().zip(rest_new.iter().rev()).take_while(|(a, b)| a == b).count();
    let removed = &rest_old[..rest_old.len() - common_end];
    let added = &rest_new[..rest_new.len() - common_end];
    removed.iter().for_each(|line| change.line(&format!("-{line}")));
    added.iter().for_each(|line| change.line(&format!("+{line}")));
}

/// What a Codex `apply_patch` does to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileOp {
    /// `*** Add File:` — the new file's content.
    Add { content: String },
    /// `*** Update File:`, possibly moved (`*** Move to:`).
    Update { moved_to: Option<String> },
    /// `*** Delete File:`.
    Delete,
}

/// One file's part of an `apply_patch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilePatch {
    pub(crate) path: String,
    pub(crate) op: FileOp,
    pub(crate) change: Change,
}

/// Codex's `apply_patch` text (`*** Begin Patch` … `*** End Patch`), file by file. Lines outside a file
/// section are ignored.
pub(crate) fn apply_patch(text: &str) -> Vec<FilePatch> {
    let mut files: Vec<FilePatch> = Vec::new();
    for line in text.lines() {
        let header = |op: FileOp, path: &str| FilePatch {
            path: path.trim().to_owned(),
            op,
            change: Change::default(),
        };
        if let Some(path) = line.strip_prefix("*** Add File: ") {
            files.push(header(FileOp::Add { content: String::new() }, path));
        } else if let Some(path) = line.strip_prefix("*** Update File: ") {
            files.push(header(FileOp::Update { moved_to: None }, path));
        } else if let Some(path) = line.strip_prefix("*** Delete File: ") {
            files.push(header(FileOp::Delete, path));
        } else if let Some(file) = files.last_mut() {
            if let (Some(to), FileOp::Update { moved_to }) =
                (line.strip_prefix("*** Move to: "), &mut file.op)
            {
                *moved_to = Some(to.trim().to_owned());
            } else if line.starts_with("*** ") {
                // `*** End Patch`, `*** End of File`: markers, not content.
            } else {
                if let (FileOp::Add { content }, Some(added)) =
                    (&mut file.op, line.strip_prefix('+'))
                {
                    content.push_str(added);
                    content.push('\n');
                }
                file.change.line(line);
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn structured_patch_counts_plus_and_minus_lines() {
        let hunks = json!([{"oldStart": 1, "oldLines": 2, "newStart": 1, "newLines": 3,
            "lines": [" a", "-b", "+c", "+d"]}, {"lines": ["-x"]}]);
        let change = structured_patch(&hunks).unwrap();
        assert_eq!((change.added, change.removed), (2, 2));
        assert_eq!(change.diff, "@@ -1,2 +1,3 @@\n a\n-b\n+c\n+d\n@@ -0,0 +0,0 @@\n-x\n");
        assert_eq!(structured_patch(&json!({"lines": []})), None);
    }

    #[test]
    fn replacements_leave_out_shared_lines() {
        let edits = json!([
            {"old_string": "a\nb\nc", "new_string": "a\nB\nc\nd"},
            {"old_string": "", "new_string": "new"},
            {"old_string": 5}
        ]);
        let change = replacements(&edits).unwrap();
        // Not a minimal diff: only the shared first and last lines are taken out.
        assert_eq!((change.added, change.removed), (4, 2));
        assert_eq!(change.diff, "-b\n-c\n+B\n+c\n+d\n+new\n");
    }

    #[test]
    fn apply_patch_splits_files() {
        let text = "*** Begin Patch\n*** Add File: a.txt\n+one\n+two\n*** Update File: src/b.rs\n\
                    *** Move to: src/c.rs\n@@ fn main\n-old\n+new\n ctx\n*** Delete File: d.txt\n*** End Patch";
        let files = apply_patch(text);
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].op, FileOp::Add { content: "one\ntwo\n".to_owned() });
        assert_eq!((files[0].change.added, files[0].change.removed), (2, 0));
        assert_eq!(files[1].op, FileOp::Update { moved_to: Some("src/c.rs".to_owned()) });
        assert_eq!(
            (files[1].path.as_str(), files[1].change.added, files[1].change.removed),
            ("src/b.rs", 1, 1)
        );
        assert_eq!((files[2].path.as_str(), &files[2].op), ("d.txt", &FileOp::Delete));
        assert!(apply_patch("no patch here").is_empty());
    }
}
