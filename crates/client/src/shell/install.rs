//! Adding the shell hook's block to `~/.bashrc` and `~/.zshrc`, and taking it out again. Only the marked block is
//! ever written: a second install with the same binary changes nothing, a new binary path replaces the block in
//! place, and `uninstall` removes the block and nothing else.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use super::script::{binary_of, block, Shell, BLOCK_END, BLOCK_START};
use crate::files::replace_atomically;

/// Where the shells' startup files are: the home directory, zsh's `ZDOTDIR`, and the login shell (`SHELL`).
#[derive(Debug, Clone)]
pub(crate) struct ShellHome {
    /// `HOME`.
    pub(crate) home: PathBuf,
    /// `ZDOTDIR`, where zsh reads `.zshrc` from when it is set.
    pub(crate) zdotdir: Option<PathBuf>,
    /// `SHELL`.
    pub(crate) login_shell: Option<String>,
}

impl ShellHome {
    /// From the environment.
    pub(crate) fn from_env() -> anyhow::Result<ShellHome> {
        let home = std::env::var_os("HOME").map(PathBuf::from).context("HOME is not set")?;
        Ok(ShellHome {
            home,
            zdotdir: std::env::var_os("ZDOTDIR").map(PathBuf::from),
            login_shell: std::env::var("SHELL").ok(),
        })
    }

    /// The startup file of an interactive `shell`.
    pub(crate) fn rc_file(&self, shell: Shell) -> PathBuf {
        match shell {
            Shell::Bash => self.home.join(".bashrc"),
            Shell::Zsh => self.zdotdir.as_ref().unwrap_or(&self.home).join(".zshrc"),
        }
    }

    fn is_login_shell(&self, shell: Shell) -> bool {
        self.login_shell.as_deref().and_then(|path| path.rsplit('/').next()) == Some(shell.name())
    }
}

/// What happened to one startup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RcChange {
    /// The block was added or replaced.
    Written(PathBuf),
    /// The block was already there, exactly.
    Unchanged(PathBuf),
    /// The block was taken out.
    Removed(PathBuf),
}

/// Adds (or refreshes) the block in the startup file of every shell that has one, and of the login shell even
/// when it has none yet. `binary` is the executable, already quoted for the shell.
pub(crate) fn install(home: &ShellHome, binary: &str) -> anyhow::Result<Vec<RcChange>> {
    let mut changes = Vec::new();
    for shell in Shell::ALL {
        let rc = home.rc_file(shell);
        if !(rc.exists() || home.is_login_shell(shell)) {
            continue;
        }
        let existing = read(&rc)?;
        let updated = with_block(&existing, &block(shell, binary));
        if updated == existing {
            changes.push(RcChange::Unchanged(rc));
        } else {
            write(&rc, &updated)?;
            changes.push(RcChange::Written(rc));
        }
    }
    if changes.is_empty() {
        bail!(
            "found neither {} nor {}, and SHELL is not bash or zsh: create the startup file of your shell, then run \
             this again",
            home.rc_file(Shell::Bash).display(),
            home.rc_file(Shell::Zsh).display()
        );
    }
    Ok(changes)
}

/// Takes the block out of every startup file that has it.
pub(crate) fn uninstall(home: &ShellHome) -> anyhow::Result<Vec<RcChange>> {
    let mut changes = Vec::new();
    for shell in Shell::ALL {
        let rc = home.rc_file(shell);
        let existing = read(&rc)?;
        if let Some(updated) = without_block(&existing) {
            write(&rc, &updated)?;
            changes.push(RcChange::Removed(rc));
        }
    }
    Ok(changes)
}

/// For each shell whose startup file holds the block: the file and the binary the block calls.
pub(crate) fn installed(home: &ShellHome) -> Vec<(Shell, PathBuf, String)> {
    Shell::ALL
        .into_iter()
        .filter_map(|shell| {
            let rc = home.rc_file(shell);
            let text = fs::read_to_string(&rc).ok()?;
            let (start, end) = block_range(&text)?;
            let binary = binary_of(&text[start..end])?.to_owned();
            Some((shell, rc, binary))
        })
        .collect()
}

fn read(rc: &Path) -> anyhow::Result<String> {
    match fs::read_to_string(rc) {
        Ok(text) => Ok(text),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        Err(error) => Err(error).with_context(|| format!("could not read {}", rc.display())),
    }
}

/// Writes through a symbolic link (dotfile managers link startup files) and keeps the file's permissions.
fn write(rc: &Path, text: &str) -> anyhow::Result<()> {
    let target = fs::canonicalize(rc).unwrap_or_else(|_| rc.to_path_buf());
    let permissions = fs::metadata(&target).ok().map(|meta| meta.permissions());
    replace_atomically(&target, text.as_bytes())
        .with_context(|| format!("could not write {}", target.display()))?;
    if let Some(permissions) = permissions {
        fs::set_permissions(&target, permissions).with_context(|| {
            format!("could not restore the permissions of {}", target.display())
        })?;
    }
    Ok(())
}

/// The byte range of the block, from its first line to the end of its last.
fn block_range(text: &str) -> Option<(usize, usize)> {
    let start = line_start(text, BLOCK_START)?;
    let end_line = start + line_start(&text[start..], BLOCK_END)?;
    let end = text[end_line..].find('\n').map_or(text.len(), |newline| end_line + newline + 1);
    Some((start, end))
}

/// Where a line equal to `marker` starts.
fn line_start(text: &str, marker: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == marker {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// `text` with `block` in place of the existing block, or appended after a blank line.
fn with_block(text: &str, block: &str) -> String {
    match block_range(text) {
        Some((start, end)) => format!("{}{block}{}", &text[..start], &text[end..]),
        None if text.is_empty() => block.to_owned(),
        None if text.ends_with("\n\n") => format!("{text}{block}"),
        None if text.ends_with('\n') => format!("{text}\n{block}"),
        None => format!("{text}\n\n{block}"),
    }
}

/// `text` without the block (and the blank line `install` put before it), or `None` when it has none.
fn without_block(text: &str) -> Option<String> {
    let (start, end) = block_range(text)?;
    let before = &text[..start];
    let before = before.strip_suffix("\n\n").map_or(before.to_owned(), |kept| format!("{kept}\n"));
    Some(format!("{before}{}", &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home(login_shell: Option<&str>) -> (tempfile::TempDir, ShellHome) {
        let dir = tempfile::tempdir().unwrap();
        let home = ShellHome {
            home: dir.path().to_path_buf(),
            zdotdir: None,
            login_shell: login_shell.map(str::to_owned),
        };
        (dir, home)
    }

    #[test]
    fn install_is_idempotent_and_uninstall_restores_the_file() {
        let (_dir, home) = home(Some("/bin/zsh"));
        let bashrc = home.rc_file(Shell::Bash);
        let original = "alias ll='ls -l'\nexport EDITOR=vim\n";
        fs::write(&bashrc, original).unwrap();
        let first = install(&home, "/usr/bin/traceline").unwrap();
        assert_eq!(
            first,
            [RcChange::Written(bashrc.clone()), RcChange::Written(home.rc_file(Shell::Zsh))]
        );
        let installed_text = fs::read_to_string(&bashrc).unwrap();
        assert!(installed_text.starts_with(original));
        assert_eq!(installed(&home).len(), 2);
        let second = install(&home, "/usr/bin/traceline").unwrap();
        assert!(second.iter().all(|change| matches!(change, RcChange::Unchanged(_))));
        assert_eq!(fs::read_to_string(&bashrc).unwrap(), installed_text);

        // A new binary path replaces the block where it is; lines added after it stay.
        fs::write(&bashrc, format!("{installed_text}alias gs='git status'\n")).unwrap();
        install(&home, "/opt/traceline").unwrap();
        let moved = fs::read_to_string(&bashrc).unwrap();
        assert!(
            moved.ends_with("alias gs='git status'\n")
                && moved.contains("__traceline_bin=/opt/traceline")
        );
        assert_eq!(moved.matches(BLOCK_START).count(), 1);

        uninstall(&home).unwrap();
        assert_eq!(
            fs::read_to_string(&bashrc).unwrap(),
            format!("{original}alias gs='git status'\n")
        );
        assert_eq!(fs::read_to_string(home.rc_file(Shell::Zsh)).unwrap(), "");
        assert!(installed(&home).is_empty());
        assert!(uninstall(&home).unwrap().is_empty());
    }

    #[test]
    fn without_any_startup_file_or_known_shell_nothing_is_written() {
        let (_dir, home) = home(Some("/usr/bin/fish"));
        assert!(install(&home, "/usr/bin/traceline").is_err());
        assert!(!home.rc_file(Shell::Bash).exists());
    }
}
