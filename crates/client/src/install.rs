//! Installing Traceline's hook into a tool's project configuration: the file I/O around the pure merges of
//! `traceline_capture::install`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;
use traceline_capture::install::{merge_claude_settings, merge_codex_hooks, merge_cursor_hooks};
use traceline_capture::Tool;

use crate::files::replace_atomically;

/// Where a tool reads project hooks from, relative to the workspace.
pub(crate) fn config_path(tool: Tool) -> &'static str {
    match tool {
        Tool::ClaudeCode => ".claude/settings.local.json",
        Tool::Cursor => ".cursor/hooks.json",
        Tool::Codex => ".codex/hooks.json",
    }
}

/// The command line a tool runs for each event: this very binary, by absolute path so it does not depend on the
/// tool's `PATH`, quoted for the `sh -c` the tools run hooks through.
pub(crate) fn hook_command(executable: &Path, tool: Tool) -> String {
    format!("{} hook {tool}", shell_quote(&executable.to_string_lossy()))
}

/// What installing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Installed {
    /// The file was written.
    Written(PathBuf),
    /// The hook was already there exactly as it would be written.
    AlreadyPresent(PathBuf),
}

/// Merges the hook into `tool`'s config under `workspace`. A file that is not JSON, or not the shape the tool
/// expects, is left as it is and reported: it is the user's, and a guess could destroy their hooks.
pub(crate) fn install(workspace: &Path, tool: Tool, command: &str) -> anyhow::Result<Installed> {
    let path = workspace.join(config_path(tool));
    let existing = match fs::read_to_string(&path) {
        Ok(text) if text.trim().is_empty() => None,
        Ok(text) => Some(serde_json::from_str::<Value>(&text).with_context(|| {
            format!(
                "{} is not valid JSON; fix it or move it away, then run this again",
                path.display()
            )
        })?),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(error).with_context(|| format!("could not read {}", path.display()))
        }
    };
    let merge = match tool {
        Tool::ClaudeCode => merge_claude_settings,
        Tool::Cursor => merge_cursor_hooks,
        Tool::Codex => merge_codex_hooks,
    };
    let merged = merge(existing.clone(), command)
        .with_context(|| format!("left {} untouched", path.display()))?;
    if existing.as_ref() == Some(&merged) {
        return Ok(Installed::AlreadyPresent(path));
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("could not create {}", parent.display()))?;
    }
    let permissions = fs::metadata(&path).ok().map(|meta| meta.permissions());
    let mut text = serde_json::to_vec_pretty(&merged)?;
    text.push(b'\n');
    replace_atomically(&path, &text)
        .with_context(|| format!("could not write {}", path.display()))?;
    if let Some(permissions) = permissions {
        fs::set_permissions(&path, permissions)
            .with_context(|| format!("could not restore the permissions of {}", path.display()))?;
    }
    Ok(Installed::Written(path))
}

/// Whether `tool`'s config under `workspace` runs our hook, for `traceline status`.
pub(crate) fn is_installed(workspace: &Path, tool: Tool) -> bool {
    fs::read_to_string(workspace.join(config_path(tool)))
        .is_ok_and(|text| text.contains(&format!(" hook {tool}")))
}

/// The executable `tool`'s config under `workspace` runs for our hook, unquoted, if the hook is installed.
pub(crate) fn installed_executable(workspace: &Path, tool: Tool) -> Option<PathBuf> {
    let text = fs::read_to_string(workspace.join(config_path(tool))).ok()?;
    let document: Value = serde_json::from_str(&text).ok()?;
    let marker = format!(" hook {tool}");
    let command = commands_in(&document).into_iter().find(|command| command.ends_with(&marker))?;
    let program = command.strip_suffix(&marker)?;
    Some(PathBuf::from(shell_unquote(program)))
}

/// Every `command` string anywhere in a hooks document.
fn commands_in(value: &Value) -> Vec<&str> {
    match value {
        Value::Object(fields) => fields
            .iter()
            .flat_map(|(key, item)| match (key.as_str(), item) {
                ("command", Value::String(command)) => vec![command.as_str()],
                _ => commands_in(item),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(commands_in).collect(),
        _ => Vec::new(),
    }
}

/// The inverse of [`shell_quote`].
fn shell_unquote(word: &str) -> String {
    match word.strip_prefix('\'').and_then(|rest| rest.strip_suffix('\'')) {
        Some(inner) => inner.replace("'\\''", "'"),
        None => word.to_owned(),
    }
}

/// `word` as one shell word: as it is when it needs no quoting, else in single quotes.
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ':'));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {

    use serde_json::json;

    use super::*;

    #[test]
    fn the_installed_executable_is_read_back_unquoted() {
        let workspace = tempfile::tempdir().unwrap();
        let executable = Path::new("/home/a b/it's/traceline");
        let command = hook_command(executable, Tool::Cursor);
        install(workspace.path(), Tool::Cursor, &command).unwrap();
        assert_eq!(
            installed_executable(workspace.path(), Tool::Cursor).as_deref(),
            Some(executable)
        );
        assert_eq!(installed_executable(workspace.path(), Tool::ClaudeCode), None);
    }

    #[test]
    fn commands_are_quoted_only_when_needed() {
        assert_eq!(
            hook_command(Path::new("/usr/local/bin/traceline"), Tool::Cursor),
            "/usr/local/bin/traceline hook cursor"
        );
        assert_eq!(
            hook_command(Path::new("/home/a b/it's/traceline"), Tool::ClaudeCode),
            r"'/home/a b/it'\''s/traceline' hook claude-code"
        );
    }

    #[test]
    fn installing_keeps_user_hooks_and_is_idempotent() {
        let workspace = tempfile::tempdir().unwrap();
        let path = workspace.path().join(config_path(Tool::ClaudeCode));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let users = json!({"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [
            {"type": "command", "command": "./my-guard.sh"}]}]}, "model": "opus"});
        fs::write(&path, users.to_string()).unwrap();
        let command = "/bin/traceline hook claude-code";

        let first = install(workspace.path(), Tool::ClaudeCode, command).unwrap();
        assert_eq!(first, Installed::Written(path.clone()));
        let written = fs::read_to_string(&path).unwrap();
        assert!(written.contains("./my-guard.sh") && written.contains(command));
        assert!(written.contains("\"model\""));
        assert!(is_installed(workspace.path(), Tool::ClaudeCode));

        let second = install(workspace.path(), Tool::ClaudeCode, command).unwrap();
        assert_eq!(second, Installed::AlreadyPresent(path.clone()));
        assert_eq!(fs::read_to_string(&path).unwrap(), written);
    }

    #[test]
    fn a_file_that_is_not_json_is_left_alone() {
        let workspace = tempfile::tempdir().unwrap();
        let path = workspace.path().join(config_path(Tool::Cursor));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "{ not json").unwrap();
        let error =
            install(workspace.path(), Tool::Cursor, "/bin/traceline hook cursor").unwrap_err();
        assert!(format!("{error:#}").contains("not valid JSON"));
        assert_eq!(fs::read_to_string(&path).unwrap(), "{ not json");
        assert!(!is_installed(workspace.path(), Tool::Cursor));
    }
}
