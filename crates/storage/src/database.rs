//! The connection pools and the two ways to use them: a read, or a write inside one transaction.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};

use crate::connection::{AnyConnection, Backend, DatabaseUrl};
use crate::error::StorageError;
use crate::group_commit::{GroupCommitter, PendingWrite};
use crate::ingest_together::{IngestReply, IngestRequest};

/// Per-connection SQLite settings, each in its own statement and in this order (diesel's SQLite docs):
/// wait on locks instead of failing, write-ahead log so readers never block the writer, fsync the log on every
/// commit so an acknowledged write survives a power loss, and enforce foreign keys, which SQLite leaves off.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;";

/// Sizes and timeouts of the pools.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections for reads (SQLite) or for everything (PostgreSQL).
    pub max_connections: u32,
    /// How long a request waits for a free connection before the database counts as unavailable.
    pub connection_timeout: Duration,
}

/// How long a request waits for a connection by default. Short, because a request that cannot get one is
/// answered 503 with `Retry-After`; waiting r2d2's own default of 30 s would only hold the client and a thread.
pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 8, connection_timeout: DEFAULT_CONNECTION_TIMEOUT }
    }
}

/// Why a new connection could not be made ready.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    /// The backend refused or could not be reached.
    #[error("could not connect")]
    Connect(#[source] ConnectionError),
    /// A per-connection setting failed.
    #[error("could not configure the connection")]
    Configure(#[source] diesel::result::Error),
}

/// Opens connections for one database URL, choosing the backend from the URL rather than by trial.
#[derive(Debug)]
pub(crate) struct ConnectionManager {
    url: DatabaseUrl,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<AnyConnection, ConnectError> {
        match &self.url {
            DatabaseUrl::Sqlite { path } => {
                let mut connection =
                    SqliteConnection::establish(path).map_err(ConnectError::Connect)?;
                connection.batch_execute(SQLITE_PRAGMAS).map_err(ConnectError::Configure)?;
                Ok(AnyConnection::Sqlite(connection))
            }
            DatabaseUrl::Postgres { url } => PgConnection::establish(url)
                .map(AnyConnection::Postgres)
                .map_err(ConnectError::Connect),
        }
    }

    fn is_valid(&self, connection: &mut AnyConnection) -> Result<(), ConnectError> {
        connection.batch_execute("SELECT 1").map_err(ConnectError::Configure)
    }

    fn has_broken(&self, connection: &mut AnyConnection) -> bool {
        connection.is_broken()
    }
}

type Pool = r2d2::Pool<ConnectionManager>;

/// A handle on the database: cheap to clone, safe to share between threads.
#[derive(Clone)]
pub struct Database {
    backend: Backend,
    readers: Pool,
    writer: Pool,
    /// SQLite only: the thread that commits concurrent writes together.
    group_commit: Option<GroupCommitter>,
}

impl Database {
    /// Builds the pools. Connections are opened lazily, so this succeeds while the database is down; the first
    /// use then fails with [`StorageError::Unavailable`].
    pub fn open(url: &DatabaseUrl, settings: &PoolSettings) -> Self {
        // A SQLite connection cannot go stale; checking each checkout would only cost a statement per request.
        // A PostgreSQL connection can (a server restart), and a dead one must not reach a request.
        let test_on_check_out = url.backend() == Backend::Postgres;
        let build = |max_size: u32| {
            r2d2::Pool::builder()
                .max_size(max_size)
                .min_idle(Some(0))
                .test_on_check_out(test_on_check_out)
                .connection_timeout(settings.connection_timeout)
                .build_unchecked(ConnectionManager { url: url.clone() })
        };
        let readers = build(settings.max_connections.max(1));
        // SQLite takes one writer at a time. A single writer connection makes writers queue here, in order,
        // rather than race for the file lock and sleep in busy handlers.
        let writer = match url.backend() {
            Backend::Sqlite => build(1),
            Backend::Postgres => readers.clone(),
        };
        // PostgreSQL takes concurrent writers and batches their WAL flushes itself; SQLite needs it done here.
        let group_commit = match url.backend() {
            Backend::Sqlite => Some(GroupCommitter::start(writer.clone())),
            Backend::Postgres => None,
        };
        Self { backend: url.backend(), readers, writer, group_commit }
    }

    /// The engine behind this handle.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs read-only work on a pooled connection. Blocking: call it off the async executor.
    pub fn read<T>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut connection = self.readers.get()?;
        work(&mut connection)
    }

    /// Runs `work` as one transaction: all of it commits, or none of it does, and it returns only once the
    /// commit is durable. On SQLite it shares a commit with concurrent writes (in a savepoint of its own).
    /// Blocking: call it off the async executor.
    pub fn write<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        if let Some(group_commit) = &self.group_commit {
            return group_commit.run(work);
        }
        let mut pooled = self.writer.get()?;
        let connection: &mut AnyConnection = &mut pooled;
        connection.transaction(work)
    }

    /// Runs `work` on the writer connection without opening a transaction, for work that manages its own
    /// (migrations).
    pub(crate) fn write_outside_transaction<T>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut connection = self.writer.get()?;
        work(&mut connection)
    }

    /// On SQLite, queues `work` for the group-commit writer without blocking (a full queue answers
    /// [`StorageError::Unavailable`] at once); elsewhere hands `work` back to be run with [`Database::write`] on
    /// a thread that may block.
    pub fn write_queued<T, F>(&self, work: F) -> Result<PendingWrite<T>, F>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        match &self.group_commit {
            Some(group_commit) => Ok(group_commit.enqueue(work)),
            None => Err(work),
        }
    }

    /// On SQLite, queues an ingest request for the group-commit writer, which stores it together with the
    /// ingest requests queued beside it, like [`Database::write_queued`]; elsewhere hands it back to be run
    /// with [`Database::write`] and [`crate::ingest_together::ingest_request`].
    pub fn ingest_queued(
        &self,
        request: IngestRequest,
    ) -> Result<PendingWrite<IngestReply>, IngestRequest> {
        match &self.group_commit {
            Some(group_commit) => Ok(group_commit.enqueue_ingest(request)),
            None => Err(request),
        }
    }

    /// Checks that the database answers a trivial query.
    pub fn ping(&self) -> Result<(), StorageError> {
        self.read(|connection| connection.batch_execute("SELECT 1").map_err(StorageError::from))
    }
}
