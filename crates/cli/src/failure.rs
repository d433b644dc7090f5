//! Failures an operator can act on: one line saying what went wrong, one saying what to do, and no backtrace.

use std::fmt;
use std::io;

use traceline_storage::diagnose::DatabaseProblem;
use traceline_storage::lock::LockError;

/// What went wrong, and what to do about it.
#[derive(Debug)]
pub(crate) struct Failure {
    cause: String,
    remedy: String,
}

impl Failure {
    pub(crate) fn new(cause: impl Into<String>, remedy: impl Into<String>) -> Self {
        Failure { cause: cause.into(), remedy: remedy.into() }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cause)
    }
}

impl std::error::Error for Failure {}

/// Prints a command's error on stderr: a [`Failure`] as its cause and remedy, anything else as its chain of
/// causes on one line. Never a backtrace: this replaces the `Debug` print of an error returned from `main`.
#[expect(clippy::print_stderr, reason = "the error is the command's output on failure")]
pub(crate) fn report(error: &anyhow::Error) {
    match error.downcast_ref::<Failure>() {
        Some(failure) => eprintln!("error: {}\n  {}", failure.cause, failure.remedy),
        None => eprintln!("error: {error:#}"),
    }
}

impl From<DatabaseProblem> for Failure {
    fn from(problem: DatabaseProblem) -> Self {
        let remedy = match &problem {
            DatabaseProblem::PostgresRefused { .. } => {
                "Start PostgreSQL, or correct the host and port in DATABASE_URL (--database-url).".to_owned()
            }
            DatabaseProblem::PostgresAuthentication { .. } => "Check the user name and password in \
                DATABASE_URL, and that the server's pg_hba.conf admits that user from this host."
                .to_owned(),
            DatabaseProblem::PostgresUnknownDatabase { .. } => "Create it (createdb NAME, or CREATE \
                DATABASE NAME; in psql), or correct the database name at the end of DATABASE_URL."
                .to_owned(),
            DatabaseProblem::PostgresUnknownHost { .. } => {
                "Correct the host name in DATABASE_URL.".to_owned()
            }
            DatabaseProblem::PostgresTimeout { .. } => "Check the host and port in DATABASE_URL, and that \
                no firewall drops connections to them (connect_timeout=N in the URL sets the wait)."
                .to_owned(),
            DatabaseProblem::PostgresOther { .. } => {
                "Check DATABASE_URL, and the PostgreSQL server's log for why it refused.".to_owned()
            }
            DatabaseProblem::SqliteMissingDirectory { directory } => format!(
                "Create it (mkdir -p {}), or point DATABASE_URL (--database-url) at a file in an existing \
                 directory.",
                directory.display()
            ),
            DatabaseProblem::SqlitePermissionDenied { .. } => "Give the user traceline runs as read and \
                write access to the file and to its directory (SQLite writes -wal and -shm files beside it)."
                .to_owned(),
            DatabaseProblem::SqliteIsADirectory { path } => format!(
                "Point DATABASE_URL at a file, e.g. {}.",
                path.join("traceline.db").display()
            ),
            DatabaseProblem::SqliteNotADatabase { .. } => "Point DATABASE_URL at Traceline's database \
                file, or at a path where none exists yet to start a new one."
                .to_owned(),
            DatabaseProblem::SqliteDamaged { .. } => {
                "Restore the latest backup: stop the server, then run traceline restore --from BACKUP."
                    .to_owned()
            }
            DatabaseProblem::SqliteOther { .. } => {
                "Check DATABASE_URL, the file's permissions and the space left on its disk.".to_owned()
            }
        };
        Failure::new(problem.to_string(), remedy)
    }
}

impl From<LockError> for Failure {
    fn from(error: LockError) -> Self {
        match &error {
            LockError::Held { database, exclusive: true, .. } => Failure::new(
                format!(
                    "{} is in use by a running traceline server (or another traceline command)",
                    database.display()
                ),
                "Stop the server first (e.g. systemctl stop traceline) and let other traceline commands \
                 finish, then run the restore again.",
            ),
            LockError::Held { database, exclusive: false, .. } => Failure::new(
                format!("a restore of {} is in progress", database.display()),
                "Wait for traceline restore to finish, then try again.",
            ),
            LockError::Io { lock, source } => Failure::new(
                format!("could not lock {}: {source}", lock.display()),
                "Give the user traceline runs as the right to create and read files in the database's \
                 directory.",
            ),
        }
    }
}

/// Why `traceline serve` could not listen on `address`.
pub(crate) fn bind(address: &str, error: &io::Error) -> Failure {
    let choose = "choose another address with --bind or TRACELINE_BIND";
    match error.kind() {
        io::ErrorKind::AddrInUse => Failure::new(
            format!(
                "{address} is already in use: another traceline, or another program, listens there"
            ),
            format!("Stop it (ss -ltnp shows which process it is), or {choose}."),
        ),
        io::ErrorKind::PermissionDenied => Failure::new(
            format!("listening on {address} is not permitted for this user"),
            "Ports below 1024 need privileges: listen on a higher port behind a reverse proxy \
             (docs/DEPLOY.md), or grant the service CAP_NET_BIND_SERVICE.",
        ),
        io::ErrorKind::AddrNotAvailable => Failure::new(
            format!("{address} is not an address of this machine"),
            format!("Listen on 127.0.0.1, 0.0.0.0 or one of this host's addresses: {choose}."),
        ),
        _ => Failure::new(
            format!("could not listen on {address}: {error}"),
            "Give --bind (or TRACELINE_BIND) as HOST:PORT, e.g. 127.0.0.1:8080.",
        ),
    }
}
