//! The `.traceline/` directory of a workspace: which session this workspace records, with which token, to which
//! server.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use traceline_capture::CaptureContext;
use traceline_domain::ids::SessionId;

use crate::files::replace_atomically;

/// The directory's name inside a workspace.
pub(crate) const STATE_DIR_NAME: &str = ".traceline";

/// What `traceline start` learnt from the server, kept for every later command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    /// Base URL of the Traceline server, without a trailing slash.
    pub server: String,
    /// The session every event of this workspace belongs to.
    pub session_id: String,
    /// The `pst_sess_` token sent as `X-API-Key`.
    pub session_token: String,
    /// The assessment the key belongs to.
    pub assessment_id: Option<String>,
    /// Its title, for `traceline status`.
    pub assessment_title: Option<String>,
    /// When `traceline start` ran.
    pub started_at: DateTime<Utc>,
    /// When `traceline done` completed the key; hooks record nothing after it.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
}

/// A workspace's `.traceline/` directory and the files in it.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
    workspace: PathBuf,
}

impl StateDir {
    /// The state directory of `workspace` (which need not exist yet).
    pub fn of_workspace(workspace: &Path) -> StateDir {
        StateDir { root: workspace.join(STATE_DIR_NAME), workspace: workspace.to_path_buf() }
    }

    /// The workspace this directory belongs to.
    pub fn workspace(&self) -> &Path {
        &self.workspace
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// A file inside the directory.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Whether `traceline start` has run for this workspace.
    pub fn is_initialised(&self) -> bool {
        self.file(SESSION_FILE).is_file()
    }

    /// Creates the directory, owner-only, with a `.gitignore` that keeps all of it (the token above all) out of git.
    pub fn create(&self) -> anyhow::Result<()> {
        fs::create_dir_all(&self.root)
            .with_context(|| format!("could not create {}", self.root.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
                .with_context(|| format!("could not restrict {}", self.root.display()))?;
        }
        let ignore = self.file(".gitignore");
        if !ignore.exists() {
            fs::write(
                &ignore,
                "# Written by `traceline start`: the session token must never be committed.\n*\n",
            )
            .with_context(|| format!("could not write {}", ignore.display()))?;
        }
        Ok(())
    }

    /// Reads the session state.
    pub fn load(&self) -> anyhow::Result<SessionState> {
        let path = self.file(SESSION_FILE);
        let text = fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a session state", path.display()))
    }

    /// Writes the session state atomically.
    pub fn save(&self, state: &SessionState) -> anyhow::Result<()> {
        let path = self.file(SESSION_FILE);
        let mut text = serde_json::to_vec_pretty(state)?;
        text.push(b'\n');
        replace_atomically(&path, &text)
            .with_context(|| format!("could not write {}", path.display()))
    }

    /// Appends one line to `hook.log`, starting it afresh past 1 MiB so a long session cannot fill the disk. Errors
    /// are swallowed: the log is where the hook reports errors, so it has nowhere to report its own.
    pub(crate) fn log(&self, line: &str) {
        use std::io::Write as _;
        let path = self.file(HOOK_LOG);
        if fs::metadata(&path).is_ok_and(|meta| meta.len() > HOOK_LOG_MAX_BYTES) {
            let _ignored = fs::rename(&path, self.file(&format!("{HOOK_LOG}.1")));
        }
        let appended: io::Result<()> = (|| {
            let mut file = crate::files::private_options().create(true).append(true).open(&path)?;
            writeln!(
                file,
                "{} {line}",
                Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            )
        })();
        drop(appended);
    }
}

/// What capture needs to know of this workspace's session, at `now`.
pub(crate) fn capture_context(
    dir: &StateDir,
    state: &SessionState,
    now: DateTime<Utc>,
) -> anyhow::Result<CaptureContext> {
    let session_id = SessionId::parse(&state.session_id).with_context(|| {
        format!("{} names no valid session id", dir.file(SESSION_FILE).display())
    })?;
    Ok(CaptureContext { session_id, workspace: dir.workspace().to_path_buf(), received_at: now })
}

const SESSION_FILE: &str = "session.json";
const HOOK_LOG: &str = "hook.log";
const HOOK_LOG_MAX_BYTES: u64 = 1024 * 1024;

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn state_round_trips_and_is_ignored_by_git() {
        let workspace = tempfile::tempdir().unwrap();
        let dir = StateDir::of_workspace(workspace.path());
        assert!(!dir.is_initialised());
        dir.create().unwrap();
        let state = SessionState {
            server: "http://127.0.0.1:8080".to_owned(),
            session_id: "8d0c1f8e-0000-4000-8000-000000000001".to_owned(),
            session_token: "pst_sess_secret".to_owned(),
            assessment_id: Some("a".to_owned()),
            assessment_title: None,
            started_at: Utc::now(),
            completed_at: None,
        };
        dir.save(&state).unwrap();
        assert!(dir.is_initialised());
        assert_eq!(dir.load().unwrap(), state);
        let ignore = fs::read_to_string(dir.file(".gitignore")).unwrap();
        assert!(ignore.lines().any(|line| line == "*"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.file(SESSION_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the token file must be private");
        }
    }
}
