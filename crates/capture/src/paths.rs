//! Workspace-relative file paths: the timeline names `src/app.ts`, not `/home/dev/work/app/src/app.ts`.

use std::path::{Path, PathBuf};

/// `path` relative to the first base it lies under, or unchanged when it lies under none (or is relative
/// already).
///
/// The bases are the workspace root, then the payload's `cwd`: Claude Code's `cwd` follows every `cd` the agent
/// runs, so the workspace gives the stable name (`src/app.ts`, not `app.ts` after `cd src`), and the `cwd`
/// covers payloads from a directory outside the workspace the caller knows. Lexical only: the files may be
/// gone, and this crate reads no file system.
pub(crate) fn relative(path: &str, bases: &[PathBuf]) -> String {
    let candidate = Path::new(path);
    if !candidate.is_absolute() {
        return path.to_owned();
    }
    bases
        .iter()
        .filter(|base| base.is_absolute())
        .find_map(|base| candidate.strip_prefix(base).ok())
        .filter(|rest| !rest.as_os_str().is_empty())
        .map_or_else(|| path.to_owned(), |rest| rest.to_string_lossy().into_owned())
}

/// The bases of a payload: the workspace root, then the payload's `cwd` when it has one.
pub(crate) fn bases<'a>(workspace: &'a Path, cwd: Option<&'a str>) -> Vec<PathBuf> {
    let mut bases = vec![workspace.to_path_buf()];
    bases.extend(cwd.map(PathBuf::from));
    bases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_first_base_the_path_lies_under() {
        let both = bases(Path::new("/home/dev/app"), Some("/tmp/other"));
        assert_eq!(relative("/home/dev/app/src/a.ts", &both), "src/a.ts");
        assert_eq!(relative("/tmp/other/b.ts", &both), "b.ts");
        assert_eq!(relative("/etc/hosts", &both), "/etc/hosts");
        assert_eq!(relative("src/a.ts", &both), "src/a.ts");
        // A sibling sharing a prefix is not under the base, and the base itself has no relative name.
        assert_eq!(relative("/home/dev/app2/a.ts", &both), "/home/dev/app2/a.ts");
        assert_eq!(relative("/home/dev/app", &both), "/home/dev/app");
    }
}
