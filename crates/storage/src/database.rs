//! The connection pools and the two ways to use them: a read, or a write inside one transaction.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, ConnectionError};

use crate::connection::{open_sqlite, AnyConnection, Backend, DatabaseUrl};
use crate::error::StorageError;
use crate::group_commit::GroupCommitter;
use crate::ingest_committers::IngestCommitters;
use crate::ingest_together::{IngestReply, IngestRequest};
use crate::pending::PendingWrite;
use crate::retry::run_retrying;
use crate::write_gate::WriteGate;
use crate::writer_stats::WriterSnapshot;

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
    /// PostgreSQL: how long a write waits for its turn at a writer connection, behind the writes that arrived
    /// before it, before it is answered as unavailable. Longer than `connection_timeout`: writes of one
    /// candidate's sessions take turns on their row locks, and a burst of them is a queue that moves.
    pub write_wait: Duration,
}

/// How long a request waits for a connection by default. Short, because a request that cannot get one is
/// answered 503 with `Retry-After`; waiting r2d2's own default of 30 s would only hold the client and a thread.
pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a PostgreSQL write waits for its turn by default.
pub const DEFAULT_WRITE_WAIT: Duration = Duration::from_secs(15);

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 8,
            connection_timeout: DEFAULT_CONNECTION_TIMEOUT,
            write_wait: DEFAULT_WRITE_WAIT,
        }
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
                let mut connection = open_sqlite(path).map_err(ConnectError::Connect)?;
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
    writes: WritePath,
}

/// How writes reach the database.
#[derive(Clone)]
enum WritePath {
    /// SQLite: one thread commits concurrent writes together.
    GroupCommit(GroupCommitter),
    /// PostgreSQL: writes run concurrently, each taking its turn at the gate for a writer connection (waiting
    /// at most `wait`); ingest requests are stored in sets by the committers.
    Concurrent { gate: Arc<WriteGate>, wait: Duration, ingest: IngestCommitters },
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
        // rather than race for the file lock and sleep in busy handlers. PostgreSQL writers get a pool of their
        // own: a write may wait on a row lock while holding its connection, and a burst of such writes must not
        // take the connections that authentication and reads need.
        let writer = match url.backend() {
            Backend::Sqlite => build(1),
            Backend::Postgres => build(settings.max_connections.max(1)),
        };
        let writes = match url.backend() {
            Backend::Sqlite => WritePath::GroupCommit(GroupCommitter::start(writer.clone())),
            Backend::Postgres => {
                let capacity = usize::try_from(settings.max_connections).unwrap_or(1).max(1);
                let gate = Arc::new(WriteGate::new(capacity));
                // Half the writer connections at most, so that other writes find one while every committer
                // is storing a set; four are enough to keep PostgreSQL's commits overlapping on this scale.
                let committers = (capacity / 2).clamp(1, 4);
                let ingest = IngestCommitters::start(
                    writer.clone(),
                    Arc::clone(&gate),
                    settings.write_wait,
                    committers,
                );
                WritePath::Concurrent { gate, wait: settings.write_wait, ingest }
            }
        };
        Self { backend: url.backend(), readers, writer, writes }
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
    /// commit is durable. On SQLite it shares a commit with concurrent writes (in a savepoint of its own). On
    /// PostgreSQL writes take their turn at a connection in arrival order, and a transaction aborted to break a
    /// deadlock or for a serialisation failure runs again (so `work` may run more than once; only the last run
    /// commits). Blocking: call it off the async executor.
    pub fn write<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnMut(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        let (gate, wait) = match &self.writes {
            WritePath::GroupCommit(group_commit) => return group_commit.run(work),
            WritePath::Concurrent { gate, wait, .. } => (gate, *wait),
        };
        let _turn = gate.turn(wait)?;
        let mut pooled = self.writer.get()?;
        let connection: &mut AnyConnection = &mut pooled;
        run_retrying(connection, work)
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
        match &self.writes {
            WritePath::GroupCommit(group_commit) => Ok(group_commit.enqueue(work)),
            WritePath::Concurrent { .. } => Err(work),
        }
    }

    /// How the pools and SQLite's writer are used right now, for `GET /metrics`.
    pub fn stats(&self) -> DatabaseStats {
        let pool_use = |pool: &Pool| {
            let state = pool.state();
            PoolUse { open: state.connections, idle: state.idle_connections, max: pool.max_size() }
        };
        DatabaseStats {
            readers: pool_use(&self.readers),
            writer: pool_use(&self.writer),
            writer_queue: match &self.writes {
                WritePath::GroupCommit(writer) => Some(writer.stats().snapshot()),
                WritePath::Concurrent { ingest, .. } => Some(ingest.stats().snapshot()),
            },
        }
    }

    /// Queues an ingest request without blocking and returns the future of its committed reply (a full queue
    /// answers [`StorageError::Unavailable`] at once). SQLite's writer, or on PostgreSQL one of the ingest
    /// committers, stores it together with the ingest requests queued beside it.
    pub fn ingest(&self, request: IngestRequest) -> PendingWrite<IngestReply> {
        match &self.writes {
            WritePath::GroupCommit(group_commit) => group_commit.enqueue_ingest(request),
            WritePath::Concurrent { ingest, .. } => ingest.enqueue(request),
        }
    }

    /// Checks that the database answers a trivial query.
    pub fn ping(&self) -> Result<(), StorageError> {
        self.read(|connection| connection.batch_execute("SELECT 1").map_err(StorageError::from))
    }
}

/// The connections of one pool at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Connections open, busy or idle.
    pub open: u32,
    /// Open connections waiting for work.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// What [`Database::stats`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseStats {
    /// The read pool.
    pub readers: PoolUse,
    /// The writers' pool: SQLite's single writer connection, PostgreSQL's write pool.
    pub writer: PoolUse,
    /// The queue and batches of SQLite's group-commit writer (every write), or of PostgreSQL's ingest
    /// committers (ingest requests).
    pub writer_queue: Option<WriterSnapshot>,
}
