//! The writer's side of coalesced ingest: the ingest requests of one group-commit batch stored as one set of
//! statements, each answered with its own reply.
//!
//! The set runs in a savepoint. If it fails, that savepoint is rolled back and every request is run again alone
//! in a savepoint of its own, so a request that fails fails alone, as it would have without coalescing.

use diesel::Connection;

use crate::connection::AnyConnection;
use crate::group_commit::{settle, Completion, IngestJob};
use crate::ingest_together::{ingest_request, ingest_together, IngestRequest};

/// Most events stored together: ten bound values an event row keeps the largest statement under SQLite's
/// 32,766, and a long set would hold the replies of everyone in it.
pub(crate) const MAX_TOGETHER_EVENTS: usize = 2000;

/// Stores the requests of `jobs`, in order, in the current transaction; returns how to answer each once the
/// commit outcome is known.
pub(crate) fn run(connection: &mut AnyConnection, jobs: Vec<IngestJob>) -> Vec<Completion> {
    if let [_] = jobs.as_slice() {
        return jobs.into_iter().map(|job| alone(connection, job)).collect();
    }
    let requests: Vec<&IngestRequest> = jobs.iter().map(|job| &job.request).collect();
    match connection.transaction(|connection| ingest_together(connection, &requests)) {
        Ok(replies) => jobs
            .into_iter()
            .zip(replies)
            .map(|(job, reply)| settle(Ok(reply), job.answer))
            .collect(),
        Err(error) => {
            log::warn!(
                "{} ingest requests failed together ({error}); running each alone",
                jobs.len()
            );
            jobs.into_iter().map(|job| alone(connection, job)).collect()
        }
    }
}

fn alone(connection: &mut AnyConnection, job: IngestJob) -> Completion {
    let outcome = connection.transaction(|connection| ingest_request(connection, &job.request));
    settle(outcome, job.answer)
}
