//! Unified diffs between two versions of a text file, as `git diff` prints them: what a reviewer reads for a change
//! no tool described (a person's edit, a formatter the agent ran).

use similar::{ChangeTag, TextDiff};

/// Lines of context around each hunk, as git's default.
const CONTEXT_LINES: usize = 3;

/// A unified diff and the lines it adds and removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnifiedDiff {
    pub(crate) text: String,
    pub(crate) added: u64,
    pub(crate) removed: u64,
}

/// The diff of `path` from `old` to `new`, with `--- a/path` / `+++ b/path` headers and `@@` hunks.
pub(crate) fn unified_diff(path: &str, old: &str, new: &str) -> UnifiedDiff {
    let diff = TextDiff::from_lines(old, new);
    let (mut added, mut removed) = (0_u64, 0_u64);
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => added += 1,
            ChangeTag::Delete => removed += 1,
            ChangeTag::Equal => {}
        }
    }
    let text = diff
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    UnifiedDiff { text, added, removed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_is_one_removal_and_one_addition_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
        let diff = unified_diff("src/x.rs", old, new);
        assert_eq!((diff.added, diff.removed), (2, 1));
        assert_eq!(
            diff.text,
            "--- a/src/x.rs\n+++ b/src/x.rs\n@@ -2,7 +2,8 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n+i\n"
        );
    }

    #[test]
    fn identical_texts_have_an_empty_diff() {
        let diff = unified_diff("a", "same\n", "same\n");
        assert_eq!((diff.added, diff.removed, diff.text.as_str()), (0, 0, ""));
    }
}
