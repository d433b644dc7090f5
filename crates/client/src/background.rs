//! Delivery off the tool's path. A hook call spools its events and starts a detached `traceline flush
//! --background`, then exits: it never waits on the network, so a server that accepts connections and never answers
//! costs the tool nothing.
//!
//! At most one background flusher works on a workspace at a time, and none is left waiting: a starter first marks
//! `flush.pending`, then tries `flush.lock` without blocking. The holder takes the mark away before each pass over
//! the spool, and after letting the lock go looks for a new mark, so an event spooled while it was busy is sent by
//! it or by the starter that marked it, never by nobody.

use std::fs::{self, File};
use std::io;
use std::process::{Command, Stdio};

use crate::backoff::Backoff;
use crate::files::private_options;
use crate::flush::{flush, FlushBudget};
use crate::server::{Patience, Server};
use crate::state::{SessionState, StateDir};

const PENDING: &str = "flush.pending";
const LOCK: &str = "flush.lock";

/// Starts a detached flusher for the workspace, unless the last failure asked hooks to leave the server alone for
/// now (the events wait in the spool for the next call after the backoff).
pub(crate) fn start(dir: &StateDir) -> io::Result<()> {
    if Backoff::load(dir).is_some_and(|backoff| backoff.is_waiting(chrono::Utc::now())) {
        return Ok(());
    }
    mark(dir)?;
    let executable = std::env::current_exe()?;
    let mut command = Command::new(executable);
    command
        .args(["flush", "--background", "--workspace"])
        .arg(dir.workspace())
        // No inherited pipes: a tool waits for its hook's output to close, and the flusher may take seconds.
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        // Its own process group: a tool that kills its hook's group, or a terminal hanging up, does not stop delivery.
        command.process_group(0);
    }
    // Not waited for: the hook exits now, and the flusher is adopted by init.
    drop(command.spawn()?);
    Ok(())
}

fn mark(dir: &StateDir) -> io::Result<()> {
    private_options().write(true).create(true).truncate(false).open(dir.file(PENDING)).map(drop)
}

/// Takes the mark away; whether there was one.
fn take_mark(dir: &StateDir) -> bool {
    fs::remove_file(dir.file(PENDING)).is_ok()
}

fn try_lock(dir: &StateDir) -> io::Result<Option<File>> {
    let file = private_options().write(true).create(true).truncate(false).open(dir.file(LOCK))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(error)) => Err(error),
    }
}

/// The detached flusher: sends the spool while there is a mark, then exits. Problems go to `hook.log`.
pub(crate) fn run(dir: &StateDir, state: &SessionState) {
    let server = Server::new(&state.server, Patience::Background);
    loop {
        let lock = match try_lock(dir) {
            Ok(Some(lock)) => lock,
            // Another flusher holds it and will see the mark.
            Ok(None) => return,
            Err(error) => {
                dir.log(&format!("background flush: {error}"));
                return;
            }
        };
        while take_mark(dir) {
            match flush(dir, state, &server, FlushBudget::Everything) {
                Ok(report) => {
                    if let Some(error) = report.error {
                        dir.log(&format!("{} events wait in the spool: {error}", report.remaining));
                        break;
                    }
                }
                Err(error) => {
                    dir.log(&format!("could not deliver the spool: {error}"));
                    break;
                }
            }
        }
        drop(lock);
        if !dir.file(PENDING).exists() {
            return;
        }
        if Backoff::load(dir).is_some_and(|backoff| backoff.is_waiting(chrono::Utc::now())) {
            // The server just failed: the mark stays for the first hook call after the backoff.
            return;
        }
    }
}
