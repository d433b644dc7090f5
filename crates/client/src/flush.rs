//! Delivering the spool: batches to the server, the answers applied back to the spool.

use std::collections::{HashSet, VecDeque};

use chrono::Utc;
use serde_json::Value;

use crate::backoff::Backoff;
use crate::server::{SendError, Server};
use crate::spool::{event_id, Rejection, Spool};
use crate::state::{SessionState, StateDir};

/// At most this many events per request: well under the server's 500, so one request stays quick.
const BATCH_EVENTS: usize = 200;
/// At most this many bytes of envelopes per request: half the server's default 8 MiB batch limit.
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// How much a flush may send before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushBudget {
    /// A hook sends at most this many requests, so a backlog after an outage drains over several calls instead of
    /// stalling one.
    Requests(usize),
    /// `traceline flush` and `done` send until the spool is empty or the server fails.
    Everything,
}

/// What a flush achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Events the server stored now or had stored before.
    pub delivered: usize,
    /// Events the server refused for good (moved to `rejected.jsonl`).
    pub rejected: usize,
    /// Events still waiting.
    pub remaining: usize,
    /// Why delivery stopped early, if it did.
    pub error: Option<String>,
}

/// Sends what the spool holds and records the outcome: acknowledged events leave the spool, a failure starts (or
/// extends) the backoff that hooks respect.
pub fn flush(
    dir: &StateDir,
    state: &SessionState,
    server: &Server,
    budget: FlushBudget,
) -> std::io::Result<FlushReport> {
    let spool = Spool::of(dir);
    let pending = spool.pending()?;
    let mut report = FlushReport { remaining: pending.len(), ..FlushReport::default() };
    let mut queue: VecDeque<Vec<Value>> = batches(pending).into();
    let mut requests = 0_usize;
    while let Some(batch) = queue.pop_front() {
        if let FlushBudget::Requests(limit) = budget {
            if requests >= limit {
                break;
            }
        }
        requests += 1;
        match server.send_batch(&state.session_token, &batch) {
            Ok(results) => {
                let (delivered, rejected) = judge(&batch, &results);
                spool.settle(&delivered, &rejected)?;
                report.delivered += delivered.len();
                report.rejected += rejected.len();
                // Saturating: a spool that holds one event twice (a tool firing a hook twice) settles both lines
                // under one delivered id.
                report.remaining =
                    report.remaining.saturating_sub(delivered.len() + rejected.len());
                Backoff::clear(dir);
            }
            Err(SendError::TooLarge) if batch.len() > 1 => {
                let mut first = batch;
                let second = first.split_off(first.len() / 2);
                queue.push_front(second);
                queue.push_front(first);
            }
            Err(SendError::TooLarge) => {
                let rejected: Vec<Rejection> = batch
                    .into_iter()
                    .map(|event| Rejection {
                        event,
                        reason: "larger than the server's body limit".to_owned(),
                    })
                    .collect();
                spool.settle(&HashSet::new(), &rejected)?;
                report.rejected += rejected.len();
                report.remaining = report.remaining.saturating_sub(rejected.len());
            }
            Err(error) => {
                let asked = match &error {
                    SendError::RateLimited(wait) => *wait,
                    _ => None,
                };
                Backoff::record_failure(dir, Utc::now(), &error.to_string(), asked);
                report.error = Some(error.to_string());
                break;
            }
        }
    }
    Ok(report)
}

/// Splits events into requests that respect both the count and the byte ceiling.
fn batches(events: Vec<Value>) -> Vec<Vec<Value>> {
    let mut batches = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0_usize;
    for event in events {
        let size = event.to_string().len();
        if !current.is_empty() && (current.len() == BATCH_EVENTS || bytes + size > BATCH_BYTES) {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(event);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Splits a batch by the server's per-event verdicts: 200/201 delivered; 429 and 5xx stay for another try; any
/// other 4xx is final, since resending the same envelope cannot change the answer.
fn judge(
    batch: &[Value],
    results: &[crate::server::ItemResult],
) -> (HashSet<String>, Vec<Rejection>) {
    let mut delivered = HashSet::new();
    let mut rejected = Vec::new();
    // The server answers in request order; the id, when it echoes one, is only a cross-check.
    for (event, result) in batch.iter().zip(results) {
        let Some(id) = event_id(event) else { continue };
        if result.id.as_deref().is_some_and(|echoed| !echoed.eq_ignore_ascii_case(id)) {
            continue;
        }
        match result.status {
            200 | 201 => {
                delivered.insert(id.to_owned());
            }
            429 => {}
            status if (400..500).contains(&status) => rejected.push(Rejection {
                event: event.clone(),
                reason: format!(
                    "{status}: {}",
                    result.error.as_deref().unwrap_or("refused by the server")
                ),
            }),
            _ => {}
        }
    }
    (delivered, rejected)
}

#[cfg(test)]
mod tests {

    use serde_json::json;

    use super::*;
    use crate::server::ItemResult;

    #[test]
    fn batches_respect_the_count_ceiling() {
        let events: Vec<Value> = (0..450).map(|n| json!({"id": n.to_string()})).collect();
        let sizes: Vec<usize> = batches(events).iter().map(Vec::len).collect();
        assert_eq!(sizes, [200, 200, 50]);
    }

    #[test]
    fn batches_respect_the_byte_ceiling() {
        let big = "x".repeat(BATCH_BYTES / 2);
        let events: Vec<Value> = (0..3).map(|n| json!({"id": n.to_string(), "big": big})).collect();
        let sizes: Vec<usize> = batches(events).iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, 1, 1]);
    }

    #[test]
    fn verdicts_split_into_delivered_final_and_retry() {
        let batch: Vec<Value> =
            ["a", "b", "c", "d", "e"].iter().map(|id| json!({"id": id})).collect();
        let result = |id: &str, status: u16| ItemResult {
            id: Some(id.to_owned()),
            status,
            error: (status >= 400).then(|| "why".to_owned()),
        };
        let results = [
            result("a", 201),
            result("b", 200),
            result("c", 400),
            result("d", 429),
            result("e", 500),
        ];
        let (delivered, rejected) = judge(&batch, &results);
        assert_eq!(delivered, HashSet::from(["a".to_owned(), "b".to_owned()]));
        assert_eq!(rejected.len(), 1);
        assert_eq!(event_id(&rejected[0].event), Some("c"));
        assert!(rejected[0].reason.starts_with("400"));
    }

    #[test]
    fn a_verdict_for_another_id_is_not_trusted() {
        let batch = [json!({"id": "a"})];
        let results = [ItemResult { id: Some("b".to_owned()), status: 201, error: None }];
        let (delivered, rejected) = judge(&batch, &results);
        assert!(delivered.is_empty() && rejected.is_empty());
    }
}
