//! Backups and restores of real migrated SQLite files in a temporary directory.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};

use super::*;
use crate::lock::DatabaseLock;
use crate::{migrations, Database, DatabaseUrl, PoolSettings};

/// A migrated Traceline database at `dir/name` holding one org named `org`.
fn database(dir: &Path, name: &str, org: &str) -> PathBuf {
    let path = dir.join(name);
    let url = DatabaseUrl::Sqlite { path: path.to_string_lossy().into_owned() };
    let database = Database::open(&url, &PoolSettings::default());
    migrations::run_pending(&database).unwrap();
    let insert = format!(
        "INSERT INTO orgs (id, name, created_at) VALUES ('{org}', '{org}', '2026-04-01 10:00:00')"
    );
    database.write(move |connection| Ok(connection.batch_execute(&insert)?)).unwrap();
    path
}

fn connect(path: &Path) -> SqliteConnection {
    let mut connection = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    connection.batch_execute("PRAGMA busy_timeout = 5000").unwrap();
    connection
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn org_names(path: &Path) -> Vec<String> {
    let rows: Vec<Name> =
        diesel::sql_query("SELECT name FROM orgs ORDER BY name").load(&mut connect(path)).unwrap();
    rows.into_iter().map(|row| row.name).collect()
}

/// Every file in `dir`, by name.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_snapshot_is_checked_complete_and_leaves_no_partial_file() {
    let live = tempfile::tempdir().unwrap();
    let database = database(live.path(), "traceline.db", "Acme");
    let backups = tempfile::tempdir().unwrap();
    let destination = backups.path().join("nightly.db");

    let contents = snapshot(&database, &destination).unwrap();
    assert_eq!((contents.sessions, contents.events), (0, 0));
    assert_eq!(contents.migrations, migrations::sqlite_versions());
    assert_eq!(contents.bytes, std::fs::metadata(&destination).unwrap().len());
    assert_eq!(org_names(&destination), ["Acme"]);
    assert_eq!(listing(backups.path()), ["nightly.db"]);

    // A second backup to the same name replaces the first.
    connect(&database)
        .batch_execute(
            "INSERT INTO orgs (id, name, created_at) VALUES ('b', 'Beta', '2026-04-01 10:00:00')",
        )
        .unwrap();
    snapshot(&database, &destination).unwrap();
    assert_eq!(org_names(&destination), ["Acme", "Beta"]);
    assert_eq!(listing(backups.path()), ["nightly.db"]);
}

#[test]
fn a_snapshot_refuses_what_it_cannot_do_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path(), "traceline.db", "Acme");
    let missing = dir.path().join("missing.db");
    assert!(matches!(
        snapshot(&missing, &dir.path().join("b.db")),
        Err(BackupError::NotFound { .. })
    ));
    assert!(!missing.exists() && !dir.path().join("b.db").exists());
    assert!(matches!(
        snapshot(&database, &dir.path().join("no/such/b.db")),
        Err(BackupError::MissingDirectory { .. })
    ));
    assert!(matches!(snapshot(&database, &database), Err(BackupError::SameFile { .. })));
    assert!(matches!(snapshot(&database, dir.path()), Err(BackupError::IsADirectory { .. })));
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database, though long enough to have been one's header").unwrap();
    assert!(matches!(
        snapshot(&text, &dir.path().join("c.db")),
        Err(BackupError::NotADatabase { .. })
    ));
    let left: Vec<String> = listing(dir.path())
        .into_iter()
        .filter(|name| !name.ends_with("-wal") && !name.ends_with("-shm"))
        .collect();
    assert_eq!(left, ["notes.txt", "traceline.db"]);
}

#[test]
fn a_restore_swaps_the_backup_in_and_keeps_the_replaced_database() {
    let dir = tempfile::tempdir().unwrap();
    let backup = database(dir.path(), "backup.db", "FromBackup");
    let live = database(dir.path(), "traceline.db", "Current");
    // A write-ahead log with commits the main file lacks, as a killed server leaves: it must go with the
    // replaced database, never be replayed into the restored one.
    let mut writer = connect(&live);
    writer
        .batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; \
             INSERT INTO orgs (id, name, created_at) VALUES ('late', 'Late', '2026-04-01 10:00:00');",
        )
        .unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-04-01T10:15:00Z").unwrap().to_utc();

    let restored = restore(&backup, &live, now).unwrap();
    drop(writer);
    assert_eq!(org_names(&live), ["FromBackup"]);
    let previous = restored.previous.unwrap();
    assert_eq!(previous, dir.path().join("traceline.db.before-restore-20260401T101500Z"));
    assert_eq!(org_names(&previous), ["Current", "Late"]);
    assert_eq!(restored.contents.migrations, migrations::sqlite_versions());

    // The same second again: the earlier copy is not overwritten.
    let again = restore(&backup, &live, now).unwrap();
    assert_eq!(
        again.previous.unwrap(),
        dir.path().join("traceline.db.before-restore-20260401T101500Z-2")
    );
    assert_eq!(org_names(&previous), ["Current", "Late"]);
}

#[test]
fn a_restore_into_an_empty_directory_creates_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let backup = database(dir.path(), "backup.db", "FromBackup");
    let live = dir.path().join("new/traceline.db");
    std::fs::create_dir(dir.path().join("new")).unwrap();
    let restored = restore(&backup, &live, chrono::Utc::now()).unwrap();
    assert_eq!((org_names(&live), restored.previous), (vec!["FromBackup".to_owned()], None));
}

#[test]
fn a_restore_refuses_while_the_database_is_in_use_or_the_backup_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let live = database(dir.path(), "traceline.db", "Current");
    let backup = database(dir.path(), "backup.db", "FromBackup");
    let now = chrono::Utc::now();

    let server = DatabaseLock::shared(&live).unwrap();
    assert!(matches!(restore(&backup, &live, now), Err(BackupError::Locked(_))));
    drop(server);

    let text = dir.path().join("notes.db");
    std::fs::write(&text, "not a database, though long enough to have been one's header").unwrap();
    assert!(matches!(restore(&text, &live, now), Err(BackupError::NotADatabase { .. })));

    let foreign = dir.path().join("foreign.db");
    connect(&foreign).batch_execute("CREATE TABLE notes (body TEXT)").unwrap();
    assert!(matches!(restore(&foreign, &live, now), Err(BackupError::NotTraceline { .. })));

    let newer = database(dir.path(), "newer.db", "Future");
    connect(&newer)
        .batch_execute("INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')")
        .unwrap();
    match restore(&newer, &live, now) {
        Err(BackupError::TooNew { unknown, .. }) => assert_eq!(unknown, ["29991231000000"]),
        other => panic!("expected TooNew, got {other:?}"),
    }

    let damaged = dir.path().join("damaged.db");
    std::fs::copy(&backup, &damaged).unwrap();
    damage(&damaged);
    assert!(matches!(restore(&damaged, &live, now), Err(BackupError::Damaged { .. })));

    assert!(matches!(restore(&live, &live, now), Err(BackupError::SameFile { .. })));
    assert_eq!(org_names(&live), ["Current"]);
    assert!(listing(dir.path())
        .iter()
        .all(|name| !name.contains("partial") && !name.contains("before")));
}

/// Overwrites the middle of every page after the first two with garbage, which `integrity_check` notices.
fn damage(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    for start in (2 * page..bytes.len()).step_by(page) {
        bytes[start + 8..start + page / 2].fill(0xA5);
    }
    std::fs::write(path, bytes).unwrap();
}
