//! The writer's side of coalesced ingest: the ingest requests of one group-commit batch stored as one set of
//! statements, each answered with its own reply.
//!
//! The set runs in a savepoint. If it fails, that savepoint is rolled back and every request is run again alone
//! in a savepoint of its own, so a request that fails fails alone, as it would have without coalescing.

use diesel::Connection;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::ingest_together::{ingest_request, ingest_together, IngestReply, IngestRequest};

/// Most events stored together: ten bound values an event row keeps the largest statement under SQLite's
/// 32,766, and a long set would hold the replies of everyone in it.
pub(crate) const MAX_TOGETHER_EVENTS: usize = 2000;

/// Stores `requests`, in order, in the current transaction; returns each one's reply, to be sent once the
/// commit outcome is known.
pub(crate) fn run(
    connection: &mut AnyConnection,
    requests: &[&IngestRequest],
) -> Vec<Result<IngestReply, StorageError>> {
    if let [request] = requests {
        return vec![alone(connection, request)];
    }
    match connection.transaction(|connection| ingest_together(connection, requests)) {
        Ok(replies) => replies.into_iter().map(Ok).collect(),
        Err(error) => {
            log::warn!(
                "{} ingest requests failed together ({error}); running each alone",
                requests.len()
            );
            requests.iter().map(|request| alone(connection, request)).collect()
        }
    }
}

fn alone(
    connection: &mut AnyConnection,
    request: &IngestRequest,
) -> Result<IngestReply, StorageError> {
    connection.transaction(|connection| ingest_request(connection, request))
}
