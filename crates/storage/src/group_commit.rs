//! Group commit for SQLite: one writer thread runs concurrent write requests together in one transaction and
//! acknowledges each only after that transaction has committed.
//!
//! SQLite takes one writer at a time and, with `synchronous = FULL`, pays an fsync per commit. Committing each
//! request alone would cap throughput at the disk's fsync rate; batching pays one fsync for every request that
//! arrived while the previous batch was being written. Each request still runs in a savepoint of its own, so a
//! request that fails rolls back alone and the others in its batch commit; ingest requests queued side by side
//! share one savepoint and one set of statements instead (`coalesce`), and fall back to one each if that fails.
//! Nobody is answered before the commit that makes their write durable; if the commit fails, every request in
//! the batch gets the error. A full queue is refused at once rather than waited on.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;

use crate::coalesce::{self, MAX_TOGETHER_EVENTS};
use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::ingest_together::{IngestReply, IngestRequest};
use crate::pending::{self, writer_gone, Completer, PendingWrite};
use crate::writer_stats::WriterStats;

/// What the writer runs for one request.
enum Job {
    /// Any write, run in a savepoint of its own.
    Work(Work),
    /// An ingest request, stored together with the ingest requests queued beside it.
    Ingest(IngestJob),
}

/// What a request does inside the batch transaction; it returns how to answer once the commit outcome is known.
type Work = Box<dyn FnOnce(&mut AnyConnection) -> Completion + Send>;
/// Answers one request, given whether the batch committed.
type Completion = Box<dyn FnOnce(Result<(), &str>) + Send>;

/// An ingest request and where its reply goes.
struct IngestJob {
    request: IngestRequest,
    answer: Box<dyn FnOnce(Result<IngestReply, StorageError>) + Send>,
}

/// Requests queued beyond this are refused at once as unavailable (503 with `Retry-After`): waiting for room
/// would tie up the threads that reads and authentication need, and the client can retry.
const QUEUE_DEPTH: usize = 4096;
/// Most requests in one transaction; keeps a batch's latency bounded when the queue is long.
const MAX_BATCH: usize = 512;

/// A handle on the writer thread; cheap to clone.
#[derive(Clone)]
pub(crate) struct GroupCommitter {
    jobs: SyncSender<Job>,
    stats: Arc<WriterStats>,
}

impl GroupCommitter {
    /// Starts the writer thread over the single writer connection of `pool`.
    /// Generic over the connection manager so that this module needs nothing of the pools' own module.
    pub(crate) fn start<M>(pool: r2d2::Pool<M>) -> Self
    where
        M: r2d2::ManageConnection<Connection = AnyConnection>,
    {
        let (jobs, queue) = mpsc::sync_channel(QUEUE_DEPTH);
        let stats = Arc::new(WriterStats::default());
        let writer_stats = Arc::clone(&stats);
        let spawned = thread::Builder::new()
            .name("traceline-writer".to_owned())
            .spawn(move || write_loop(&pool, &queue, &writer_stats));
        if let Err(error) = spawned {
            // Without a writer thread every write fails as unavailable (the queue's receiver is gone); say why.
            log::error!("could not start the SQLite writer thread: {error}");
        }
        Self { jobs, stats }
    }

    /// The writer's queue and batch counters.
    pub(crate) fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Runs `work` in the next batch, in a savepoint of its own, and returns its result once the batch has
    /// committed. Blocks the calling thread, also while the queue is full: for background work, which has no
    /// client to tell to come back.
    pub(crate) fn run<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        let (answer, answered) = mpsc::sync_channel::<Result<T, StorageError>>(1);
        // The submitter may have given up (its thread was cancelled); nothing to do then.
        let job = work_job(work, move |result| drop(answer.send(result)));
        self.jobs.send(job).map_err(|_| writer_gone())?;
        self.stats.entered();
        answered.recv().map_err(|_| writer_gone())?
    }

    /// Queues `work` for the next batch without blocking and returns the future of its committed result, which
    /// is an immediate [`StorageError::Unavailable`] when the queue is full.
    pub(crate) fn enqueue<T, F>(&self, work: F) -> PendingWrite<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        self.submit(|completer| work_job(work, move |result| completer.complete(result)))
    }

    /// Queues an ingest request like [`GroupCommitter::enqueue`]; the writer stores it together with the
    /// ingest requests queued beside it.
    pub(crate) fn enqueue_ingest(&self, request: IngestRequest) -> PendingWrite<IngestReply> {
        self.submit(|completer| {
            Job::Ingest(IngestJob {
                request,
                answer: Box::new(move |result| completer.complete(result)),
            })
        })
    }

    fn submit<T: Send + 'static>(&self, job: impl FnOnce(Completer<T>) -> Job) -> PendingWrite<T> {
        let (pending, completer) = pending::pair();
        let refused = match self.jobs.try_send(job(completer)) {
            Ok(()) => {
                self.stats.entered();
                None
            }
            Err(TrySendError::Full(job)) => Some((job, queue_full())),
            Err(TrySendError::Disconnected(job)) => Some((job, writer_gone())),
        };
        if let Some((job, error)) = refused {
            // Dropping the job drops its completer unanswered; the refusal is the answer the waiter sees.
            drop(job);
            return PendingWrite::failed(error);
        }
        pending
    }
}

/// Wraps a request's work as a job: run in a savepoint, answered through `answer` once the commit is known.
fn work_job<T, F, A>(work: F, answer: A) -> Job
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    A: FnOnce(Result<T, StorageError>) + Send + 'static,
{
    Job::Work(Box::new(move |connection| {
        let outcome = connection.transaction(work);
        settle(outcome, answer)
    }))
}

/// How to answer a request whose work gave `outcome`, once the batch's commit is known.
fn settle<T, A>(outcome: Result<T, StorageError>, answer: A) -> Completion
where
    T: Send + 'static,
    A: FnOnce(Result<T, StorageError>) + Send + 'static,
{
    Box::new(move |committed| {
        answer(match (outcome, committed) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(reason)) => Err(commit_failed(reason)),
            (Err(error), _) => Err(error),
        });
    })
}

fn write_loop<M>(pool: &r2d2::Pool<M>, queue: &Receiver<Job>, stats: &WriterStats)
where
    M: r2d2::ManageConnection<Connection = AnyConnection>,
{
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        stats.took_batch(batch.len());
        let mut connection = match pool.get() {
            Ok(connection) => connection,
            Err(error) => {
                let reason = format!("no database connection: {error}");
                fail_all(batch, &reason);
                continue;
            }
        };
        // A panic in one request's code must not take the writer down with it: the batch is rolled back and
        // everyone in it told.
        let outcome = catch_unwind(AssertUnwindSafe(|| run_batch(&mut connection, batch)));
        if outcome.is_err() {
            log::error!("a write request panicked; its batch was rolled back");
            let _ = <AnyConnection as Connection>::TransactionManager::rollback_transaction(
                &mut connection,
            );
        }
    }
}

fn run_batch(connection: &mut AnyConnection, batch: Vec<Job>) {
    if let Err(error) = begin_immediate(connection) {
        fail_all(batch, &format!("could not begin a transaction: {error}"));
        return;
    }
    let mut completions: Vec<Completion> = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter().peekable();
    while let Some(job) = jobs.next() {
        match job {
            Job::Work(work) => completions.push(work(connection)),
            Job::Ingest(first) => {
                // Consecutive ingest requests, so that everything still runs in queue order.
                let mut events = first.request.events.len();
                let mut run = vec![first];
                while let Some(Job::Ingest(next)) = jobs.peek() {
                    events += next.request.events.len();
                    if events > MAX_TOGETHER_EVENTS {
                        break;
                    }
                    let Some(Job::Ingest(next)) = jobs.next() else { break };
                    run.push(next);
                }
                let requests: Vec<&IngestRequest> = run.iter().map(|job| &job.request).collect();
                let replies = coalesce::run(connection, &requests, coalesce::in_savepoint);
                for (job, reply) in run.into_iter().zip(replies) {
                    completions.push(settle(reply, job.answer));
                }
            }
        }
    }
    let committed =
        <AnyConnection as Connection>::TransactionManager::commit_transaction(connection);
    let reason = match &committed {
        Ok(()) => None,
        Err(error) => {
            log::error!("group commit failed: {error}");
            let _ =
                <AnyConnection as Connection>::TransactionManager::rollback_transaction(connection);
            Some(error.to_string())
        }
    };
    for complete in completions {
        complete(reason.as_deref().map_or(Ok(()), Err));
    }
}

/// `BEGIN IMMEDIATE` takes SQLite's write lock up front (waiting up to `busy_timeout` for another process), so
/// the batch can never fail later on upgrading a read lock. Requests' own transactions nest as savepoints.
fn begin_immediate(connection: &mut AnyConnection) -> diesel::QueryResult<()> {
    match connection {
        AnyConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        AnyConnection::Postgres(pg) => AnsiTransactionManager::begin_transaction(pg),
    }
}

fn fail_all(batch: Vec<Job>, reason: &str) {
    log::error!("write batch of {} request(s) failed: {reason}", batch.len());
    // Jobs only become completions by running; these never ran, so answer them through a dead end: dropping the
    // job drops its answer channel, and the submitter sees the writer as gone.
    drop(batch);
}

fn commit_failed(reason: &str) -> StorageError {
    StorageError::Unavailable(Box::new(std::io::Error::other(format!("commit failed: {reason}"))))
}

fn queue_full() -> StorageError {
    StorageError::Unavailable(Box::new(std::io::Error::other("the write queue is full")))
}
