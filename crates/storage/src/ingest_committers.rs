//! Ingest committers for PostgreSQL: a few threads that store the ingest requests waiting in one queue as sets,
//! one transaction and one set of statements for all of them.
//!
//! Stored one by one, a single-event request costs a transaction and about seven round trips, and PostgreSQL's
//! commits are flushed one after another: that, not the CPU, is what caps single-event ingest. A committer takes
//! every small request waiting when it becomes free (up to [`MAX_TOGETHER_EVENTS`] events) and stores them as
//! SQLite's writer does (`coalesce`), so the busier the server, the more requests share a commit; a large batch
//! already fills a commit and is stored alone. Several committers run
//! at once because PostgreSQL takes concurrent writers; each waits its turn at the write gate like any other
//! write, so ingest cannot take the connections that other writes are waiting for. A transaction aborted for a
//! deadlock or a serialisation failure runs again; a set that fails otherwise is stored again one request at a
//! time, so a bad request fails alone. Every request is answered after the commit holding its events.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use crate::coalesce::{self, MAX_TOGETHER_EVENTS};
use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::ingest_together::{IngestReply, IngestRequest};
use crate::pending::{self, writer_gone, Completer, PendingWrite};
use crate::retry::run_retrying;
use crate::write_gate::WriteGate;
use crate::writer_stats::{WriterStats, BATCH_SIZE_BOUNDS};

/// Requests waiting beyond this are refused at once as unavailable (503 with `Retry-After`), as on SQLite.
const QUEUE_DEPTH: usize = 4096;
/// A request of this many events fills a commit by itself and is stored as a set of its own. Stored together,
/// large batches only wait for one another: four 500-event batches as one set went in at 16,400 events/s on
/// the 2-core bench machine, each alone on its own committer at 19,300.
const STORED_ALONE_FROM: usize = 100;
/// Most requests in one set, as in one of SQLite's batches: the largest bucket `GET /metrics` reports.
const MAX_SET_REQUESTS: usize = BATCH_SIZE_BOUNDS[BATCH_SIZE_BOUNDS.len() - 1] as usize;

/// A request and where its reply goes.
struct Job {
    request: IngestRequest,
    completer: Completer<IngestReply>,
}

/// The queue the committers take sets from.
struct Queue {
    state: Mutex<QueueState>,
    arrived: Condvar,
    stats: WriterStats,
}

struct QueueState {
    jobs: VecDeque<Job>,
    /// Set once every handle is gone: the committers store what is left and stop.
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // Every change to the state is a single push, pop or assignment: a panic cannot leave it half-made.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next set: the first waiting request and the small requests behind it, while their events fit in
    /// one set; a large request goes alone. `None` once the queue is closed and empty.
    fn take_set(&self) -> Option<Vec<Job>> {
        let mut state = self.lock();
        while state.jobs.is_empty() {
            if state.closed {
                return None;
            }
            state = self.arrived.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        let taken = next_set_len(state.jobs.iter().map(|job| job.request.events.len()));
        let set: Vec<Job> = state.jobs.drain(..taken).collect();
        self.stats.took_batch(set.len());
        Some(set)
    }

    /// Queues `job`, or refuses it (dropping it) when the queue is full or its committers have stopped.
    fn submit(&self, job: Job) -> Result<(), StorageError> {
        let mut state = self.lock();
        if state.closed {
            return Err(writer_gone());
        }
        if state.jobs.len() >= QUEUE_DEPTH {
            return Err(StorageError::Unavailable(Box::new(std::io::Error::other(
                "the ingest queue is full",
            ))));
        }
        state.jobs.push_back(job);
        self.stats.entered();
        drop(state);
        self.arrived.notify_one();
        Ok(())
    }

    fn close(&self) {
        self.lock().closed = true;
        self.arrived.notify_all();
    }
}

/// How many of the waiting requests, given by their event counts in queue order, the next set takes: a large
/// request alone, otherwise the small requests from the front while their events fit in one set. At least one
/// when any is waiting.
fn next_set_len(waiting: impl IntoIterator<Item = usize>) -> usize {
    let mut waiting = waiting.into_iter();
    let Some(first) = waiting.next() else { return 0 };
    if first >= STORED_ALONE_FROM {
        return 1;
    }
    let mut events = first;
    let mut taken = 1;
    for adding in waiting {
        if adding >= STORED_ALONE_FROM
            || events + adding > MAX_TOGETHER_EVENTS
            || taken == MAX_SET_REQUESTS
        {
            break;
        }
        events += adding;
        taken += 1;
    }
    taken
}

/// What a committer stores with.
struct Committer<M: r2d2::ManageConnection<Connection = AnyConnection>> {
    queue: Arc<Queue>,
    pool: r2d2::Pool<M>,
    gate: Arc<WriteGate>,
    write_wait: Duration,
}

/// The handle the database keeps; dropping the last clone stops the committers once the queue is empty.
#[derive(Clone)]
pub(crate) struct IngestCommitters {
    inner: Arc<Handle>,
}

struct Handle {
    queue: Arc<Queue>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl IngestCommitters {
    /// Starts `committers` threads storing through `pool`, each taking its turn at `gate` (waiting at most
    /// `write_wait` for it).
    pub(crate) fn start<M>(
        pool: r2d2::Pool<M>,
        gate: Arc<WriteGate>,
        write_wait: Duration,
        committers: usize,
    ) -> Self
    where
        M: r2d2::ManageConnection<Connection = AnyConnection>,
    {
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState { jobs: VecDeque::new(), closed: false }),
            arrived: Condvar::new(),
            stats: WriterStats::default(),
        });
        let committer = Arc::new(Committer { queue: Arc::clone(&queue), pool, gate, write_wait });
        for number in 0..committers.max(1) {
            let committer = Arc::clone(&committer);
            let spawned = thread::Builder::new()
                .name(format!("traceline-ingest-{number}"))
                .spawn(move || commit_loop(&committer));
            if let Err(error) = spawned {
                log::error!("could not start ingest committer {number}: {error}");
            }
        }
        Self { inner: Arc::new(Handle { queue }) }
    }

    /// The queue's depth and set sizes.
    pub(crate) fn stats(&self) -> &WriterStats {
        &self.inner.queue.stats
    }

    /// Queues `request` without blocking; the future answers once the transaction holding its events has
    /// committed, or at once with [`StorageError::Unavailable`] when the queue is full.
    pub(crate) fn enqueue(&self, request: IngestRequest) -> PendingWrite<IngestReply> {
        let (pending, completer) = pending::pair();
        match self.inner.queue.submit(Job { request, completer }) {
            Ok(()) => pending,
            Err(refused) => PendingWrite::failed(refused),
        }
    }
}

fn commit_loop<M>(committer: &Committer<M>)
where
    M: r2d2::ManageConnection<Connection = AnyConnection>,
{
    while let Some(set) = committer.queue.take_set() {
        let requests: Vec<&IngestRequest> = set.iter().map(|job| &job.request).collect();
        // A panic in one request's code must not stop the committer: its set is answered unavailable, and the
        // connection, left inside a transaction, is discarded by the pool as broken.
        let replies = catch_unwind(AssertUnwindSafe(|| store(committer, &requests)))
            .unwrap_or_else(|_| {
                log::error!(
                    "an ingest set panicked; its {} requests were not stored",
                    requests.len()
                );
                unavailable_for_each(&requests, "storing the request failed unexpectedly")
            });
        for (job, reply) in set.into_iter().zip(replies) {
            job.completer.complete(reply);
        }
    }
}

/// Stores one set and returns each request's reply; every request gets the same error when there was no
/// connection to store them with.
fn store<M>(
    committer: &Committer<M>,
    requests: &[&IngestRequest],
) -> Vec<Result<IngestReply, StorageError>>
where
    M: r2d2::ManageConnection<Connection = AnyConnection>,
{
    let connected = committer
        .gate
        .turn(committer.write_wait)
        .and_then(|turn| Ok((turn, committer.pool.get()?)));
    match connected {
        Ok((_turn, mut connection)) => {
            coalesce::run(&mut connection, requests, |connection, work| {
                run_retrying(connection, work)
            })
        }
        Err(error) => unavailable_for_each(requests, &error.to_string()),
    }
}

/// The same unavailability for every request of a set (a [`StorageError`] cannot be cloned).
fn unavailable_for_each(
    requests: &[&IngestRequest],
    reason: &str,
) -> Vec<Result<IngestReply, StorageError>> {
    requests
        .iter()
        .map(|_| Err(StorageError::Unavailable(Box::new(std::io::Error::other(reason.to_owned())))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_requests_share_a_set_up_to_its_bounds() {
        assert_eq!(next_set_len([]), 0);
        assert_eq!(next_set_len([1; 3]), 3);
        assert_eq!(next_set_len([1; 2 * MAX_SET_REQUESTS]), MAX_SET_REQUESTS);
        // 99-event requests: twenty fit under the 2,000-event bound, the twenty-first does not.
        assert_eq!(
            next_set_len([STORED_ALONE_FROM - 1; 30]),
            MAX_TOGETHER_EVENTS / (STORED_ALONE_FROM - 1)
        );
    }

    #[test]
    fn a_large_request_is_stored_alone() {
        assert_eq!(next_set_len([500, 1, 1]), 1);
        assert_eq!(next_set_len([1, 1, 500, 1]), 2);
        assert_eq!(next_set_len([STORED_ALONE_FROM, 1]), 1);
        assert_eq!(
            next_set_len([MAX_TOGETHER_EVENTS + 1]),
            1,
            "even a request over the set bound is taken"
        );
    }

    fn queue() -> Queue {
        Queue {
            state: Mutex::new(QueueState { jobs: VecDeque::new(), closed: false }),
            arrived: Condvar::new(),
            stats: WriterStats::default(),
        }
    }

    fn job() -> (PendingWrite<IngestReply>, Job) {
        let credential = crate::ingest::IngestCredential {
            org_id: traceline_domain::ids::OrgId::new("org".to_owned()),
            candidate_key_id: "key".to_owned(),
            assessment_id: "assessment".to_owned(),
        };
        let request =
            IngestRequest { credential, events: Vec::new(), received_at: chrono::Utc::now() };
        let (pending, completer) = pending::pair();
        (pending, Job { request, completer })
    }

    fn unavailable_reason(submitted: Result<(), StorageError>) -> String {
        match submitted {
            Err(StorageError::Unavailable(reason)) => reason.to_string(),
            other => panic!("expected unavailable, got {other:?}"),
        }
    }

    #[test]
    fn a_full_queue_refuses_at_once_and_a_closed_one_says_the_writer_is_gone() {
        let queue = queue();
        let mut waiting = Vec::new();
        for _ in 0..QUEUE_DEPTH {
            let (pending, job) = job();
            queue.submit(job).unwrap();
            waiting.push(pending);
        }
        assert_eq!(unavailable_reason(queue.submit(job().1)), "the ingest queue is full");

        queue.close();
        assert_eq!(unavailable_reason(queue.submit(job().1)), "the database writer is not running");
        // What was queued before the close is still handed out, then the committers are told to stop.
        let mut handed_out = 0;
        while let Some(set) = queue.take_set() {
            handed_out += set.len();
        }
        assert_eq!(handed_out, QUEUE_DEPTH);
    }
}
