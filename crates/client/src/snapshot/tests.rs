//! The snapshot against real files: what a check finds, what it keeps, and what reported files change.

use traceline_capture::Before;

use super::*;

fn workspace() -> (tempfile::TempDir, StateDir) {
    let root = tempfile::tempdir().unwrap();
    let dir = StateDir::of_workspace(root.path());
    dir.create().unwrap();
    (root, dir)
}

fn write(dir: &StateDir, path: &str, content: &[u8]) {
    let file = dir.workspace().join(path);
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(file, content).unwrap();
}

fn check(dir: &StateDir) -> Vec<FileChange> {
    let snapshot = Snapshot::of(dir);
    let mut locked = snapshot.lock().unwrap();
    let changes = locked.check().unwrap();
    locked.save().unwrap();
    changes
}

fn summary(changes: &[FileChange]) -> Vec<(String, &'static str)> {
    let what = |change: &Change| match change {
        Change::Created { .. } => "created",
        Change::Modified { .. } => "modified",
        Change::Deleted { .. } => "deleted",
    };
    changes.iter().map(|change| (change.path.clone(), what(&change.change))).collect()
}

#[test]
fn a_check_finds_creations_changes_and_deletions_once() {
    let (_root, dir) = workspace();
    write(&dir, "src/a.rs", b"one\n");
    write(&dir, "src/b.rs", b"two\n");
    write(&dir, ".gitignore", b"*.log\n");
    assert!(check(&dir).is_empty(), "the first check is the baseline");
    write(&dir, "src/a.rs", b"one\nmore\n");
    write(&dir, "src/c.rs", b"three\n");
    write(&dir, "debug.log", b"ignored");
    fs::remove_file(dir.workspace().join("src/b.rs")).unwrap();
    let changes = check(&dir);
    assert_eq!(
        summary(&changes),
        [
            ("src/a.rs".to_owned(), "modified"),
            ("src/c.rs".to_owned(), "created"),
            ("src/b.rs".to_owned(), "deleted"),
        ]
    );
    let Change::Modified { before, after } = &changes[0].change else { panic!() };
    assert_eq!(
        (before, after),
        (&FileContent::Text("one\n".to_owned()), &FileContent::Text("one\nmore\n".to_owned()))
    );
    assert!(check(&dir).is_empty(), "nothing changed since");
}

#[test]
fn rewriting_the_same_content_is_no_change_and_binaries_have_no_text() {
    let (_root, dir) = workspace();
    write(&dir, "same.txt", b"unchanged\n");
    write(&dir, "logo.png", b"\x89PNG\x00\x01");
    check(&dir);
    write(&dir, "same.txt", b"unchanged\n");
    write(&dir, "logo.png", b"\x89PNG\x00\x02");
    let changes = check(&dir);
    assert_eq!(summary(&changes), [("logo.png".to_owned(), "modified")]);
    assert_eq!(
        changes[0].change,
        Change::Modified {
            before: FileContent::Binary { size: 6 },
            after: FileContent::Binary { size: 6 }
        }
    );
}

#[test]
fn reported_files_are_the_agent_s_and_a_change_between_is_the_person_s() {
    let (_root, dir) = workspace();
    write(&dir, "lib.rs", b"a\n");
    check(&dir);
    // The person edits, then the agent edits on top and reports what the file held before its edit.
    write(&dir, "lib.rs", b"a\nperson\n");
    write(&dir, "lib.rs", b"a\nperson\nagent\n");
    let reported =
        ReportedFile { path: "lib.rs".to_owned(), before: Before::Known("a\nperson\n".to_owned()) };
    let snapshot = Snapshot::of(&dir);
    let mut locked = snapshot.lock().unwrap();
    assert!(!locked.agent_touched("lib.rs"));
    let interim = locked.absorb_reported(&[reported]).unwrap();
    assert!(locked.agent_touched("lib.rs"));
    locked.save().unwrap();
    assert_eq!(summary(&interim), [("lib.rs".to_owned(), "modified")]);
    assert_eq!(
        interim[0].change,
        Change::Modified {
            before: FileContent::Text("a\n".to_owned()),
            after: FileContent::Text("a\nperson\n".to_owned())
        }
    );
    assert!(check(&dir).is_empty(), "the agent's edit is not found again");
}

#[test]
fn blobs_no_longer_referenced_are_removed() {
    let (_root, dir) = workspace();
    write(&dir, "a.txt", b"first\n");
    check(&dir);
    write(&dir, "a.txt", b"second\n");
    check(&dir);
    let blobs = fs::read_dir(dir.file("snapshot").join("blobs")).unwrap().count();
    assert_eq!(blobs, 1, "only the current content is kept");
}
