//! `traceline doctor` on a real workspace and server: what works is `ok`, what does not says how to fix it, and the
//! exit code tells a script whether events can reach the reviewer.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use crate::candidate::{started, Hiring};
use crate::operator::sqlite_file;
use crate::support::BINARY;

fn doctor(workspace: &Path, home: &Path) -> Output {
    Command::new(BINARY)
        .arg("doctor")
        .current_dir(workspace)
        .env("HOME", home)
        .env_remove("TRACELINE_SERVER")
        .output()
        .expect("run traceline doctor")
}

fn line<'a>(printed: &'a str, check: &str) -> &'a str {
    printed
        .lines()
        .find(|line| line.get(6..).is_some_and(|rest| rest.starts_with(check)))
        .unwrap_or_else(|| panic!("no {check} line in:\n{printed}"))
}

#[test]
fn doctor_checks_everything_and_says_how_to_fix_what_fails() {
    let database_dir = tempfile::tempdir().expect("a temporary directory");
    let (hiring, _dir, workspace, _) = started(&sqlite_file(&database_dir, "traceline.db"));
    let home = tempfile::tempdir().expect("a home directory");

    let healthy = doctor(&workspace, home.path());
    let printed = String::from_utf8_lossy(&healthy.stdout).into_owned();
    assert!(healthy.status.success(), "{printed}");
    for check in ["session", "server", "token", "clock", "claude-code", "cursor", "spool"] {
        assert!(line(&printed, check).starts_with("ok  "), "{check}:\n{printed}");
    }
    assert!(line(&printed, "shell").starts_with("warn"), "{printed}");
    assert!(printed.contains("fix: run `traceline install shell`"), "{printed}");

    // The hooks point at a binary that is gone, and the server stops.
    let settings = workspace.join(".claude/settings.local.json");
    let moved =
        fs::read_to_string(&settings).expect("the hooks").replace(BINARY, "/nowhere/traceline");
    fs::write(&settings, moved).expect("rewrite the hooks");
    let Hiring { server, .. } = hiring;
    assert!(server.terminate().success());
    let broken = doctor(&workspace, home.path());
    let printed = String::from_utf8_lossy(&broken.stdout).into_owned();
    assert_eq!(broken.status.code(), Some(1), "{printed}");
    assert!(line(&printed, "server").starts_with("FAIL"), "{printed}");
    assert!(
        line(&printed, "claude-code").contains("/nowhere/traceline, which does not exist"),
        "{printed}"
    );
    assert!(printed.contains("fix: run `traceline install claude-code`"), "{printed}");
}
