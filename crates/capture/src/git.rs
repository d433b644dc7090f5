//! Commits made through the shell: a `git_action` beside the `command`, so a reviewer sees where the candidate
//! committed and what they called it without reading terminal output.
//!
//! Read from what git printed, not from the command line: `git commit` announces a commit it made with
//! `[<branch> <short hash>] <subject>` (or `[<branch> (root-commit) <hash>]`), and prints nothing of the kind
//! when it made none (nothing staged, a hook refused it), so a failed or empty commit yields no `git_action`.

/// A commit git reported making.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Commit<'a> {
    /// The branch, or `detached HEAD`.
    pub(crate) branch: &'a str,
    /// The abbreviated hash git printed.
    pub(crate) hash: &'a str,
    /// The subject line of the message.
    pub(crate) subject: &'a str,
}

/// The commit announced in `output`, when `command_line` runs `git commit` and git says it made one.
pub(crate) fn commit_made<'a>(command_line: &str, output: &'a str) -> Option<Commit<'a>> {
    if !runs_git_commit(command_line) {
        return None;
    }
    output.lines().find_map(announcement)
}

/// Whether `git` and then `commit` appear as words of the line (`git -C dir commit`, `git add . && git commit`).
fn runs_git_commit(command_line: &str) -> bool {
    let mut words =
        command_line.split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '('));
    words.any(|word| word == "git") && command_line.split_whitespace().any(|word| word == "commit")
}

/// `[main 4e1c9a2] subject`, `[main (root-commit) 4e1c9a2] subject`, `[detached HEAD 4e1c9a2] subject`.
fn announcement(line: &str) -> Option<Commit<'_>> {
    let rest = line.trim_start().strip_prefix('[')?;
    let (inside, subject) = rest.split_once("] ")?;
    let inside = inside.strip_suffix(']').unwrap_or(inside);
    let (before_hash, hash) = inside.rsplit_once(' ')?;
    let branch = before_hash.strip_suffix(" (root-commit)").unwrap_or(before_hash);
    let is_hash = (7..=40).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit());
    (is_hash && !branch.is_empty()).then_some(Commit { branch, hash, subject: subject.trim_end() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_read_from_git_s_announcement() {
        let output =
            "[main 4e1c9a2] feat(api): add GET /api/books/:id\n 2 files changed, 38 insertions(+)";
        assert_eq!(
            commit_made("git add . && git commit -m \"$(cat <<'EOF'\nfeat\nEOF\n)\"", output),
            Some(Commit {
                branch: "main",
                hash: "4e1c9a2",
                subject: "feat(api): add GET /api/books/:id"
            })
        );
        assert_eq!(
            commit_made(
                "git commit --allow-empty -m init",
                "[feature/x (root-commit) 0123abcd] init"
            ),
            Some(Commit { branch: "feature/x", hash: "0123abcd", subject: "init" })
        );
        assert_eq!(
            commit_made("git -C api commit -am wip", "[detached HEAD abcdef1] wip")
                .map(|c| c.branch),
            Some("detached HEAD")
        );
    }

    #[test]
    fn no_commit_without_git_saying_so() {
        let nothing = "On branch main\nnothing to commit, working tree clean";
        assert_eq!(commit_made("git commit -m x", nothing), None);
        // Output that looks like an announcement, from a command that is not a commit.
        assert_eq!(commit_made("git log -1 --format='[%D %h] %s'", "[main 4e1c9a2] subject"), None);
        assert_eq!(commit_made("echo '[main 4e1c9a2] x'", "[main 4e1c9a2] x"), None);
        assert_eq!(commit_made("git commit -m x", "[main zzzzzzz] x"), None, "not a hash");
        assert_eq!(commit_made("git commit -m x", "[ 4e1c9a2] x"), None, "no branch");
    }
}
