//! `traceline backup` and `traceline restore`: the SQLite database's own backups. On PostgreSQL they refuse and
//! name the tools that do the job there.

use std::path::{Path, PathBuf};

use serde_json::json;
use traceline_storage::backup::{self, BackupError, Contents};
use traceline_storage::DatabaseUrl;

use crate::args::{BackupArgs, DatabaseArgs, RestoreArgs};
use crate::failure::Failure;
use crate::operator::print_json;

/// `traceline backup --to PATH`: prints what the backup holds.
pub(crate) fn backup(args: &BackupArgs) -> anyhow::Result<()> {
    let database = sqlite_file(
        &args.database,
        "pg_dump --format=custom --file=traceline.dump \"$DATABASE_URL\" (restore it with pg_restore)",
    )?;
    let contents =
        backup::snapshot(&database, &args.to).map_err(|error| explain(error, Side::Backup))?;
    print_json(&json!({
        "backup": shown(&args.to),
        "database": shown(&database),
        "contents": described(&contents),
    }))
}

/// `traceline restore --from PATH`: prints what the database now holds, and where the replaced one was kept.
pub(crate) fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    let database = sqlite_file(
        &args.database,
        "pg_restore --clean --if-exists --dbname \"$DATABASE_URL\" traceline.dump",
    )?;
    let restored = backup::restore(&args.from, &database, chrono::Utc::now())
        .map_err(|error| explain(error, Side::Restore))?;
    print_json(&json!({
        "restored": shown(&database),
        "from": shown(&args.from),
        "previous": restored.previous.as_deref().map(shown),
        "contents": described(&restored.contents),
    }))
}

/// The SQLite file a command works on; on PostgreSQL, a failure that names the tool to use instead.
fn sqlite_file(database: &DatabaseArgs, postgres_tool: &str) -> Result<PathBuf, Failure> {
    match database.url() {
        DatabaseUrl::Sqlite { path } => Ok(PathBuf::from(path)),
        url @ DatabaseUrl::Postgres { .. } => Err(Failure::new(
            format!(
                "DATABASE_URL names a PostgreSQL database ({url}); backup and restore here are for the \
                 SQLite file only"
            ),
            format!("Use PostgreSQL's own tools: {postgres_tool}. See docs/DEPLOY.md."),
        )),
    }
}

/// A path as JSON text; serde refuses paths that are not UTF-8, and the command must not fail for that.
fn shown(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn described(contents: &Contents) -> serde_json::Value {
    json!({
        "bytes": contents.bytes,
        "sessions": contents.sessions,
        "events": contents.events,
        "schemaVersion": contents.migrations.last(),
        "integrityCheck": "ok",
    })
}

/// Which command failed, for the remedy: the same problem means another file in each.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Backup,
    Restore,
}

fn explain(error: BackupError, side: Side) -> Failure {
    let error = match error {
        BackupError::Locked(lock) => return Failure::from(lock),
        other => other,
    };
    let remedy = match (&error, side) {
        (
            BackupError::NotFound { .. }
            | BackupError::NotADatabase { .. }
            | BackupError::NotTraceline { .. },
            Side::Backup,
        ) => {
            "DATABASE_URL (--database-url) must name the server's SQLite database file.".to_owned()
        }
        (
            BackupError::NotFound { .. }
            | BackupError::NotADatabase { .. }
            | BackupError::NotTraceline { .. },
            Side::Restore,
        ) => {
            "--from must name a file that traceline backup wrote.".to_owned()
        }
        (BackupError::IsADirectory { path }, _) => {
            format!("Name a file, e.g. {}.", path.join("traceline.db").display())
        }
        (BackupError::MissingDirectory { path }, _) => {
            format!("Create it first (mkdir -p {}), or choose another path.", path.display())
        }
        (BackupError::SameFile { .. }, _) => {
            "Give the backup a path of its own, ideally on another disk.".to_owned()
        }
        (BackupError::Damaged { .. }, Side::Backup) => "The database itself is likely damaged: stop the \
            server, keep a copy of its files, and restore the latest good backup."
            .to_owned(),
        (BackupError::Damaged { .. }, Side::Restore) => {
            "Nothing was changed. Restore an older backup.".to_owned()
        }
        (BackupError::TooNew { .. }, _) => {
            "Nothing was changed. Restore it with the traceline version that wrote it, or a newer one."
                .to_owned()
        }
        (BackupError::Sqlite { .. } | BackupError::Io { .. } | BackupError::Locked(_), _) => {
            "Check the permissions of the files and directories involved and the space left on their disks."
                .to_owned()
        }
    };
    // The whole chain of causes, so that SQLite's or the system's own words reach the operator.
    Failure::new(format!("{:#}", anyhow::Error::new(error)), remedy)
}
