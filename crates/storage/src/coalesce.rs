//! Coalesced ingest, as both writers run it: the ingest requests queued side by side stored as one set of
//! statements, each answered with its own reply.
//!
//! The set runs in a transaction of its own (a savepoint inside SQLite's group commit, a whole transaction on
//! PostgreSQL). If it fails, it is rolled back and every request is run again alone, in a transaction of its
//! own, so a request that fails fails alone, as it would have without coalescing.

use diesel::Connection;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::ingest_together::{ingest_request, ingest_together, IngestReply, IngestRequest};

/// Most events stored together: ten bound values an event row keeps the largest statement under SQLite's
/// 32,766, and a long set would hold the replies of everyone in it.
pub(crate) const MAX_TOGETHER_EVENTS: usize = 2000;

/// Work that stores some requests and returns their replies in order.
pub(crate) type Storing<'a> =
    dyn FnMut(&mut AnyConnection) -> Result<Vec<IngestReply>, StorageError> + 'a;

/// Stores `requests`, in order, each set or single request through `transact`, which runs its work as one
/// transaction; returns each request's reply.
pub(crate) fn run(
    connection: &mut AnyConnection,
    requests: &[&IngestRequest],
    transact: impl Fn(&mut AnyConnection, &mut Storing<'_>) -> Result<Vec<IngestReply>, StorageError>,
) -> Vec<Result<IngestReply, StorageError>> {
    let alone = |connection: &mut AnyConnection, request: &IngestRequest| {
        let mut store = |connection: &mut AnyConnection| {
            ingest_request(connection, request).map(|reply| vec![reply])
        };
        transact(connection, &mut store).and_then(|mut replies| {
            replies.pop().ok_or_else(|| StorageError::Corrupt("an ingest gave no reply".to_owned()))
        })
    };
    if let [request] = requests {
        return vec![alone(connection, request)];
    }
    let mut together = |connection: &mut AnyConnection| ingest_together(connection, requests);
    match transact(connection, &mut together) {
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

/// Runs `work` in a savepoint of the writer's open transaction: SQLite's group commit.
pub(crate) fn in_savepoint(
    connection: &mut AnyConnection,
    work: &mut Storing<'_>,
) -> Result<Vec<IngestReply>, StorageError> {
    connection.transaction(work)
}
