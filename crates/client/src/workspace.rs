//! Finding the workspace a hook call belongs to. Tools run hooks from various directories (Cursor runs project
//! hooks from the project root, Claude Code from the session's cwd, which may be a subdirectory), so the state is
//! looked for where the tool says the project is, then upwards from where we run.

use std::path::{Path, PathBuf};

use crate::state::StateDir;

/// The variables the tools set to the project directory, most specific first.
const PROJECT_DIR_VARIABLES: [&str; 2] = ["CLAUDE_PROJECT_DIR", "CURSOR_PROJECT_DIR"];

/// The state directory for a hook call: the first initialised one among the tools' project directories, then the
/// working directory and its ancestors.
pub(crate) fn find_state_dir(
    env: impl Fn(&str) -> Option<String>,
    current_dir: Option<&Path>,
) -> Option<StateDir> {
    let from_variables = PROJECT_DIR_VARIABLES
        .iter()
        .filter_map(|name| env(name))
        .filter(|value| !value.is_empty())
        .map(PathBuf::from);
    let from_current = current_dir.into_iter().flat_map(Path::ancestors).map(Path::to_path_buf);
    from_variables
        .chain(from_current)
        .map(|candidate| StateDir::of_workspace(&candidate))
        .find(StateDir::is_initialised)
}

#[cfg(test)]
mod tests {

    use std::fs;

    use super::*;

    fn initialised(workspace: &Path) {
        let dir = StateDir::of_workspace(workspace);
        dir.create().unwrap();
        fs::write(dir.file("session.json"), "{}").unwrap();
    }

    #[test]
    fn project_variable_wins_over_the_working_directory() {
        let project = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        initialised(project.path());
        initialised(elsewhere.path());
        let project_dir = project.path().to_string_lossy().into_owned();
        let env = |name: &str| (name == "CURSOR_PROJECT_DIR").then(|| project_dir.clone());
        let found = find_state_dir(env, Some(elsewhere.path())).unwrap();
        assert_eq!(found.workspace(), project.path());
    }

    #[test]
    fn parents_of_the_working_directory_are_searched() {
        let project = tempfile::tempdir().unwrap();
        initialised(project.path());
        let nested = project.path().join("src/deep");
        fs::create_dir_all(&nested).unwrap();
        let found = find_state_dir(|_| None, Some(&nested)).unwrap();
        assert_eq!(found.workspace(), project.path());
    }

    #[test]
    fn an_uninitialised_tree_has_no_state() {
        let bare = tempfile::tempdir().unwrap();
        let set = bare.path().to_string_lossy().into_owned();
        assert!(find_state_dir(|_| Some(set.clone()), Some(bare.path())).is_none());
    }
}
