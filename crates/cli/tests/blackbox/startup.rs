//! Startup failures an operator meets: each names its cause and the remedy in two lines on stderr, exits
//! non-zero, and prints no backtrace, even with `RUST_BACKTRACE=1`.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::database::{Backend, TestDatabase};
use crate::support::pg_cluster::{self, PrivateCluster};
use crate::support::{as_unprivileged, output_within, Server, BINARY};

/// `traceline serve` with `database_url` on `bind`, run by `command` (the binary itself, or run as another user).
fn serve_with(mut command: Command, database_url: &str, bind: &str) -> Output {
    command
        .args(["serve", "--bind", bind, "--database-url", database_url])
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "1");
    output_within(&mut command, Duration::from_secs(30))
}

fn serve(database_url: &str) -> Output {
    serve_with(Command::new(BINARY), database_url, "127.0.0.1:0")
}

/// Asserts the failure's shape and that its two lines say `cause` and `remedy`.
#[track_caller]
fn assert_explained(output: &Output, cause: &str, remedy: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "serve started: {stderr}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "nothing announced: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.trim().is_empty()).collect();
    assert_eq!(lines.len(), 2, "one line of cause, one of remedy: {stderr}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(cause),
        "cause {cause:?} in {stderr}"
    );
    assert!(
        lines[1].starts_with("  ") && lines[1].contains(remedy),
        "remedy {remedy:?} in {stderr}"
    );
    for leak in ["backtrace", "panicked", "Caused by", "RUST_BACKTRACE"] {
        assert!(!stderr.contains(leak), "{leak:?} in {stderr}");
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn postgres_connection_refused() {
    let url = format!("postgres://postgres@127.0.0.1:{}/traceline", free_port());
    assert_explained(&serve(&url), "PostgreSQL refused the connection", "Start PostgreSQL");
}

#[test]
fn postgres_unknown_database() {
    let name = format!("traceline_missing_{}", uuid::Uuid::new_v4().simple());
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let output = serve(&url);
    assert_explained(&output, &format!("database \"{name}\" does not exist"), "createdb");
}

#[test]
fn postgres_unknown_role() {
    let url = "postgres://no_such_traceline_role@127.0.0.1:5432/postgres";
    assert_explained(&serve(url), "PostgreSQL rejected the credentials", "user name and password");
}

#[test]
fn postgres_wrong_password() {
    let Some(bin) = pg_cluster::binaries() else {
        panic!(
            "this test needs the PostgreSQL server binaries (initdb, pg_ctl), see TRACELINE_PG_BIN"
        );
    };
    let cluster = PrivateCluster::start_with_password(bin, "the-right-one");
    let output = serve(&cluster.url_with_password(Some("a-wrong-one")));
    assert_explained(
        &output,
        "password authentication failed for user \"postgres\"",
        "pg_hba.conf",
    );
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("a-wrong-one"),
        "the password never prints"
    );
    // The right password serves, so the failure above was the password's.
    let output = Command::new(BINARY)
        .args(["migrate", "--database-url", &cluster.url()])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn sqlite_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("no/such/dir/traceline.db").to_string_lossy().into_owned();
    assert_explained(&serve(&url), "for the SQLite database does not exist", "mkdir -p");
    assert!(!dir.path().join("no").exists(), "nothing created");
}

#[test]
fn sqlite_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traceline.db");
    std::fs::write(
        &path,
        "name,email\nAda,ada@example.com\n-- a CSV export saved under the wrong name\n",
    )
    .unwrap();
    assert_explained(
        &serve(&path.to_string_lossy()),
        "is not a SQLite database",
        "Point DATABASE_URL",
    );
}

/// A directory only its owner (root, or the test's user) may write, readable by everyone.
fn read_only_directory() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mode = if crate::support::is_root() { 0o755 } else { 0o555 };
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    dir
}

#[test]
fn sqlite_permission_denied_on_the_directory() {
    let dir = read_only_directory();
    let url = dir.path().join("traceline.db").to_string_lossy().into_owned();
    let output = serve_with(as_unprivileged(), &url, "127.0.0.1:0");
    assert_explained(&output, "permission denied on the SQLite database", "read and write access");
}

#[test]
fn sqlite_permission_denied_on_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traceline.db");
    let made =
        Command::new(BINARY).args(["migrate", "--database-url", &path.to_string_lossy()]).output();
    assert!(made.unwrap().status.success());
    // Anyone may write the directory; nobody may write the file.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let output = serve_with(as_unprivileged(), &path.to_string_lossy(), "127.0.0.1:0");
    assert_explained(&output, "permission denied on the SQLite database", "read and write access");
}

#[test]
fn bind_address_in_use() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("traceline.db").to_string_lossy().into_owned();
    let output = serve_with(Command::new(BINARY), &url, &address);
    assert_explained(&output, &format!("{address} is already in use"), "--bind");
}

#[test]
fn a_restore_in_progress() {
    let database = TestDatabase::new(Backend::Sqlite);
    // What `traceline restore` holds while it works: the lock file beside the database, exclusively.
    let lock = std::fs::File::create(format!("{}.lock", database.url)).unwrap();
    lock.try_lock().unwrap();
    assert_explained(&serve(&database.url), "a restore of", "Wait for traceline restore to finish");
    drop(lock);
    let server = Server::start(&database.url);
    assert!(server.terminate().success(), "serves once the restore is over");
}
