//! File changes as a page shows them: a unified diff split into lines marked added, removed or context (the
//! `data-line` hook of UI.md), and a new file's content as all-added lines.

/// Lines of one change shown at most; the rest is counted, not drawn.
pub(crate) const MAX_DIFF_LINES: usize = 400;
/// Characters of one line shown at most (minified files have very long lines).
const MAX_LINE_CHARS: usize = 200;

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiffLine {
    /// `add`, `del` or `ctx` (the UI.md hook), `hunk` for `@@` headers, `meta` for file headers and notes.
    pub(crate) kind: &'static str,
    /// The line as written, its leading `+`, `-` or space included.
    pub(crate) text: String,
}

impl DiffLine {
    /// Whether the line carries UI.md's `data-line` hook (added, removed and context lines do).
    pub(crate) fn is_content(&self) -> bool {
        matches!(self.kind, "add" | "del" | "ctx")
    }
}

/// The lines of a change, and how many more were left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct DiffView {
    pub(crate) lines: Vec<DiffLine>,
    pub(crate) omitted: usize,
}

/// Classifies the lines of a unified diff.
pub(crate) fn unified(diff: &str) -> DiffView {
    view(diff.lines().map(|line| {
        let kind = if line.starts_with("+++") || line.starts_with("---") {
            "meta"
        } else if line.starts_with('+') {
            "add"
        } else if line.starts_with('-') {
            "del"
        } else if line.starts_with("@@") {
            "hunk"
        } else if line.starts_with(' ') || line.is_empty() {
            "ctx"
        } else {
            // `diff --git`, `index …`, `\ No newline at end of file`.
            "meta"
        };
        (kind, line.to_owned())
    }))
}

/// A new file's content, every line added.
pub(crate) fn created(content: &str) -> DiffView {
    view(content.lines().map(|line| ("add", format!("+{line}"))))
}

fn view(lines: impl Iterator<Item = (&'static str, String)>) -> DiffView {
    let mut shown = Vec::new();
    let mut omitted = 0;
    for (kind, text) in lines {
        if shown.len() < MAX_DIFF_LINES {
            shown.push(DiffLine { kind, text: super::text::shorten(&text, MAX_LINE_CHARS) });
        } else {
            omitted += 1;
        }
    }
    DiffView { lines: shown, omitted }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_diffs_mark_each_line() {
        let diff = "--- a/x.rs\n+++ b/x.rs\n@@ -1,2 +1,2 @@\n keep\n-old\n+new\n\\ No newline at end of file";
        let kinds: Vec<&str> = unified(diff).lines.iter().map(|line| line.kind).collect();
        assert_eq!(kinds, ["meta", "meta", "hunk", "ctx", "del", "add", "meta"]);
        let created = created("a\nb");
        assert_eq!(created.lines[1], DiffLine { kind: "add", text: "+b".into() });
        assert!(created.lines.iter().all(DiffLine::is_content));
    }

    #[test]
    fn huge_changes_are_counted_not_drawn() {
        let content = "x\n".repeat(MAX_DIFF_LINES + 5);
        let view = created(&content);
        assert_eq!((view.lines.len(), view.omitted), (MAX_DIFF_LINES, 5));
    }
}
