//! The `GET /metrics` page: the server's counters, the database's gauges and the webhook backlog, as one
//! exposition.

use traceline_storage::writer_stats::BATCH_SIZE_BOUNDS;
use traceline_storage::{DatabaseStats, PoolUse};

use super::exposition::{Exposition, Kind};
use super::{Telemetry, LATENCY_BOUNDS};

/// Renders every family. `backlog` is `None` when the database could not be asked.
pub(crate) fn render(
    telemetry: &Telemetry,
    database: &DatabaseStats,
    backlog: Option<i64>,
) -> String {
    let mut page = Exposition::default();
    requests(&mut page, telemetry);
    page.family(
        "traceline_events_ingested_total",
        "Events stored by ingest (duplicates and refused events not counted).",
        Kind::Counter,
    );
    page.sample("traceline_events_ingested_total", &[], telemetry.events_ingested());
    pools(&mut page, database);
    if let Some(writer) = database.writer_queue {
        page.family(
            "traceline_writer_queue_depth",
            "Writes waiting for the writer: every write on SQLite, ingest requests on PostgreSQL.",
            Kind::Gauge,
        );
        page.sample("traceline_writer_queue_depth", &[], writer.queue_depth);
        page.family(
            "traceline_writer_batch_size",
            "Writes committed together per transaction by the writer (SQLite) or an ingest committer (PostgreSQL).",
            Kind::Histogram,
        );
        let bounds: Vec<String> = BATCH_SIZE_BOUNDS.iter().map(u64::to_string).collect();
        let mut buckets = writer.batch_size_buckets.to_vec();
        // Batches never exceed the last bound: both writers cap them there.
        buckets.push(0);
        page.histogram(
            "traceline_writer_batch_size",
            &[],
            &bounds,
            &buckets,
            writer.batched_requests,
        );
    }
    if let Some(backlog) = backlog {
        page.family(
            "traceline_webhook_backlog",
            "Webhook deliveries pending (not yet delivered, not given up).",
            Kind::Gauge,
        );
        page.sample("traceline_webhook_backlog", &[], backlog);
    }
    page.finish()
}

fn requests(page: &mut Exposition, telemetry: &Telemetry) {
    let routes = telemetry.requests().snapshot();
    page.family(
        "traceline_http_requests_total",
        "HTTP requests answered, by method, route pattern and status.",
        Kind::Counter,
    );
    for ((method, route), stats) in &routes {
        for (status, count) in &stats.statuses {
            let status = status.to_string();
            page.sample(
                "traceline_http_requests_total",
                &[("method", method), ("route", route), ("status", &status)],
                count,
            );
        }
    }
    page.family(
        "traceline_http_request_duration_seconds",
        "Time from receiving a request to its response, by method and route pattern.",
        Kind::Histogram,
    );
    let bounds: Vec<String> = LATENCY_BOUNDS.iter().map(f64::to_string).collect();
    for ((method, route), stats) in &routes {
        page.histogram(
            "traceline_http_request_duration_seconds",
            &[("method", method), ("route", route)],
            &bounds,
            &stats.buckets,
            stats.seconds,
        );
    }
}

fn pools(page: &mut Exposition, database: &DatabaseStats) {
    let pools = [("read", database.readers), ("write", database.writer)];
    page.family(
        "traceline_pool_connections",
        "Database connections open, by pool and state (busy or idle).",
        Kind::Gauge,
    );
    for (name, PoolUse { open, idle, .. }) in &pools {
        page.sample(
            "traceline_pool_connections",
            &[("pool", name), ("state", "busy")],
            open.saturating_sub(*idle),
        );
        page.sample("traceline_pool_connections", &[("pool", name), ("state", "idle")], idle);
    }
    page.family(
        "traceline_pool_max_connections",
        "The most connections each pool opens.",
        Kind::Gauge,
    );
    for (name, pool) in &pools {
        page.sample("traceline_pool_max_connections", &[("pool", name)], pool.max);
    }
}
