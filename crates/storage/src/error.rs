//! The storage layer's one error type, and the one place database errors are classified.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use traceline_domain::ValidationErrors;

/// What can go wrong in a repository call, classified for the layers above.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The row does not exist (or belongs to another org, which callers must not be able to tell apart).
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write.
    #[error("unique constraint violated")]
    Conflict {
        /// The constraint's name, when the backend reports it.
        constraint: Option<String>,
    },
    /// The database cannot be reached right now (connection refused or lost, pool exhausted).
    #[error("database unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// PostgreSQL aborted the transaction to break a deadlock or keep it serialisable; the same transaction
    /// run again may well succeed, and nothing of it was written.
    #[error("the transaction collided with a concurrent one")]
    Contended(#[source] DieselError),
    /// Any other failure of a query.
    #[error("database query failed")]
    Query(#[source] DieselError),
    /// Migrations could not be applied.
    #[error("migrations failed")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored value could not be read back into a domain type.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The write breaks a rule of the domain given what is stored (an `endedAt` before the session's start):
    /// nothing was written, and the errors say which field.
    #[error("the request conflicts with the stored state: {0}")]
    Refused(ValidationErrors),
}

impl From<DieselError> for StorageError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => StorageError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StorageError::Conflict { constraint: info.constraint_name().map(str::to_owned) }
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                StorageError::Contended(error)
            }
            // diesel reports SQLSTATE 40P01 as an unclassified error; its message is the one stable trait.
            DieselError::DatabaseError(_, ref info)
                if info.message().contains("deadlock detected") =>
            {
                StorageError::Contended(error)
            }
            // A read-only database (a standby after failover, `default_transaction_read_only`) cannot take
            // writes for now: the caller should try again later, not be told the server failed.
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::ReadOnlyTransaction,
                _,
            )
            | DieselError::BrokenTransactionManager => StorageError::Unavailable(Box::new(error)),
            DieselError::DatabaseError(_, ref info)
                if is_connection_loss(info.message()) || is_sqlite_unwritable(info.message()) =>
            {
                StorageError::Unavailable(Box::new(error))
            }
            other => StorageError::Query(other),
        }
    }
}

impl From<r2d2::Error> for StorageError {
    fn from(error: r2d2::Error) -> Self {
        StorageError::Unavailable(Box::new(error))
    }
}

/// libpq reports a dropped or restarting server as an unclassified error; these are its messages for that case
/// (a server stopped in any mode, a crash of another backend, a cluster still starting or recovering).
fn is_connection_loss(message: &str) -> bool {
    const LOST: [&str; 9] = [
        "server closed the connection",
        "terminating connection",
        "no connection to the server",
        "could not connect to server",
        "could not send data to server",
        "could not receive data from server",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
    ];
    mentions_any(message, &LOST)
}

/// diesel reports SQLite's result codes for a database that cannot take writes now as unclassified errors;
/// these are SQLite's messages for them (`SQLITE_READONLY`, `SQLITE_FULL`, `SQLITE_BUSY` past the busy
/// timeout, `SQLITE_IOERR`). Each is the server's condition, not the request's fault: 503, try again later.
fn is_sqlite_unwritable(message: &str) -> bool {
    const UNWRITABLE: [&str; 4] = [
        "attempt to write a readonly database",
        "database or disk is full",
        "database is locked",
        "disk I/O error",
    ];
    mentions_any(message, &UNWRITABLE)
}

/// Whether a driver's error message contains one of `phrases`: the only trait some conditions have.
fn mentions_any(message: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|phrase| message.contains(phrase))
}

impl StorageError {
    /// Whether the error means "try again later" rather than a fault in the request or the code.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StorageError::Unavailable(_) | StorageError::Contended(_))
    }

    /// Whether the transaction that failed with this error may simply be run again (a deadlock victim, a
    /// serialisation failure).
    pub fn is_contended(&self) -> bool {
        matches!(self, StorageError::Contended(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> StorageError {
        StorageError::from(DieselError::DatabaseError(kind, Box::new(message.to_owned())))
    }

    #[test]
    fn deadlocks_and_serialisation_failures_are_contention_and_unavailable() {
        let deadlock = database_error(
            DatabaseErrorKind::Unknown,
            "deadlock detected\nDETAIL: Process 1 waits for ShareLock on transaction 2",
        );
        let serialisation = database_error(
            DatabaseErrorKind::SerializationFailure,
            "could not serialize access due to concurrent update",
        );
        for error in [deadlock, serialisation] {
            assert!(error.is_contended() && error.is_unavailable(), "{error:?}");
        }
        let read_only = database_error(
            DatabaseErrorKind::ReadOnlyTransaction,
            "cannot execute INSERT in a read-only transaction",
        );
        assert!(read_only.is_unavailable() && !read_only.is_contended(), "{read_only:?}");
        for message in ["attempt to write a readonly database", "database or disk is full"] {
            let unwritable = database_error(DatabaseErrorKind::Unknown, message);
            assert!(unwritable.is_unavailable() && !unwritable.is_contended(), "{unwritable:?}");
        }
        let other = database_error(DatabaseErrorKind::Unknown, "division by zero");
        assert!(matches!(other, StorageError::Query(_)));
        assert!(!other.is_contended() && !other.is_unavailable());
    }
}
