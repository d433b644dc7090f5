//! Requests counted by method, route pattern and status, with a latency histogram per method and route.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actix_web::http::Method;

/// Upper bounds of the latency histogram's buckets, in seconds.
pub(crate) const LATENCY_BOUNDS: [f64; 13] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The label of a request that matched no route.
pub(crate) const UNMATCHED: &str = "unmatched";

/// Methods labelled by name; anything else a client sends is `other`.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// One method and route.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RouteStats {
    /// Responses by status.
    pub(crate) statuses: Vec<(u16, u64)>,
    /// Requests per latency bucket ([`LATENCY_BOUNDS`], then one beyond the last), not cumulative.
    pub(crate) buckets: [u64; LATENCY_BOUNDS.len() + 1],
    /// Σ latency, in seconds.
    pub(crate) seconds: f64,
    /// Requests.
    pub(crate) count: u64,
}

/// Every route's counts, behind one lock held for a few additions per request.
#[derive(Debug, Default)]
pub(crate) struct RequestCounts {
    routes: Mutex<HashMap<(&'static str, String), RouteStats>>,
}

impl RequestCounts {
    /// Counts one answered request.
    pub(crate) fn record(
        &self,
        method: &Method,
        route: Option<&str>,
        status: u16,
        elapsed: Duration,
    ) {
        let method =
            METHODS.iter().copied().find(|name| *name == method.as_str()).unwrap_or("other");
        let route = route.unwrap_or(UNMATCHED);
        let seconds = elapsed.as_secs_f64();
        let bucket = LATENCY_BOUNDS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BOUNDS.len());
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let stats = match routes.get_mut(&(method, route.to_owned())) {
            Some(stats) => stats,
            None => routes.entry((method, route.to_owned())).or_default(),
        };
        match stats.statuses.iter_mut().find(|(known, _)| *known == status) {
            Some((_, count)) => *count += 1,
            None => stats.statuses.push((status, 1)),
        }
        stats.buckets[bucket] += 1;
        stats.seconds += seconds;
        stats.count += 1;
    }

    /// Every method and route seen, sorted, with its counts.
    pub(crate) fn snapshot(&self) -> Vec<((&'static str, String), RouteStats)> {
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<_> =
            routes.iter().map(|(key, stats)| (key.clone(), stats.clone())).collect();
        drop(routes);
        all.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, stats) in &mut all {
            stats.statuses.sort_unstable();
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_method_route_and_status_into_their_bucket() {
        let counts = RequestCounts::default();
        let route = Some("/v1/sessions/{id}");
        counts.record(&Method::GET, route, 200, Duration::from_micros(800));
        counts.record(&Method::GET, route, 404, Duration::from_millis(3));
        counts.record(&Method::GET, route, 200, Duration::from_secs(11));
        counts.record(&Method::from_bytes(b"BREW").unwrap(), None, 404, Duration::ZERO);
        let snapshot = counts.snapshot();
        assert_eq!(snapshot.len(), 2);
        let ((method, path), stats) = &snapshot[0];
        assert_eq!((*method, path.as_str()), ("GET", "/v1/sessions/{id}"));
        assert_eq!(stats.statuses, vec![(200, 2), (404, 1)]);
        assert_eq!(stats.buckets[0], 1);
        assert_eq!(stats.buckets[2], 1);
        assert_eq!(stats.buckets[LATENCY_BOUNDS.len()], 1, "beyond the last bound");
        assert_eq!(stats.count, 3);
        assert_eq!((snapshot[1].0 .0, snapshot[1].0 .1.as_str()), ("other", UNMATCHED));
    }
}
