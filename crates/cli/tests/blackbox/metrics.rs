//! `GET /metrics` (spec §13) of a real server after real traffic: the exposition parses, requests are labelled by
//! route pattern (the session ids a candidate chose appear nowhere), and the ingest, pool, writer and webhook
//! families say what happened; `TRACELINE_METRICS=off` hides the route.

use std::collections::HashMap;

use serde_json::json;

use crate::support::database::{Backend, TestDatabase};
use crate::support::fixture::{create_org, tenant, UNLIMITED};
use crate::support::{Client, Server};

/// One sample: its name and labels, and its value.
type Samples = HashMap<(String, Vec<(String, String)>), f64>;

/// Parses the text format strictly enough to fail on what a scraper would refuse: every line a comment (`# HELP`
/// or `# TYPE` of the family that follows) or `name{label="value",...} number`, label values properly escaped.
fn parse(text: &str) -> Samples {
    let mut samples = Samples::new();
    let mut typed = Vec::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.splitn(3, ' ');
            let (keyword, name) = (words.next().unwrap(), words.next().unwrap());
            assert!(keyword == "HELP" || keyword == "TYPE", "{line}");
            if keyword == "TYPE" {
                let kind = words.next().unwrap();
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                typed.push(name.to_owned());
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series, Vec::new()),
            Some((name, rest)) => (name, labels_of(rest.strip_suffix('}').expect(line))),
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "metric name {name:?}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix).filter(|base| typed.iter().any(|t| t == base))
            })
            .unwrap_or(name);
        assert!(typed.iter().any(|t| t == family), "{name} has no # TYPE before it");
        assert!(samples.insert((name.to_owned(), labels), value).is_none(), "repeated: {line}");
    }
    samples
}

/// `a="x",b="y\"z"` as pairs, unescaping `\\`, `\"` and `\n`.
fn labels_of(text: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"").expect(text);
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect("an unterminated label value") {
                (_, '\\') => match chars.next().expect("a dangling escape").1 {
                    'n' => value.push('\n'),
                    escaped @ ('\\' | '"') => value.push(escaped),
                    other => panic!("unknown escape \\{other} in {text}"),
                },
                (index, '"') => break index,
                (_, other) => value.push(other),
            }
        };
        labels.push((name.to_owned(), value));
        rest = after[end + 1..].trim_start_matches(',');
    }
    labels
}

fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let labels = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    samples.get(&(name.to_owned(), labels)).copied()
}

fn scrape(base_url: &str) -> (u16, String, String) {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut response = agent.get(format!("{base_url}/metrics")).call().expect("reach the server");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.body_mut().read_to_string().expect("a text body");
    (response.status().as_u16(), content_type, text)
}

fn metrics_after_real_traffic(backend: Backend) {
    let database = TestDatabase::new(backend);
    let reviewer = create_org(&database.url);
    let server = Server::start_with(&database.url, &UNLIMITED, None);
    let candidate = tenant(&server.base_url, reviewer.clone(), 1).candidate_keys.remove(0);
    let client = Client::new(&server.base_url);
    let sessions = ["chosen-by-candidate-1", "chosen-by-candidate-2"];
    for (index, session) in sessions.iter().enumerate() {
        for minute in 0..=index {
            let event = json!({
                "id": uuid::Uuid::new_v4().to_string(), "sessionId": session, "v": 1, "kind": "checkpoint",
                "ts": format!("2026-04-01T10:0{minute}:00Z"), "source": "hook", "data": {},
            });
            let (status, body) = client.post("/v1/hooks/ingest", &candidate, &event);
            assert_eq!(status, 201, "{body}");
        }
        let (status, _) = client.get(&format!("/v1/sessions/{session}"), Some(&reviewer));
        assert_eq!(status, 200);
    }
    let (status, _) = client.get("/v1/no/such/path-chosen-by-anyone", None);
    assert_eq!(status, 404);
    let (status, _) = client.get("/v1/health", None);
    assert_eq!(status, 200);

    let (status, content_type, text) = scrape(&server.base_url);
    assert_eq!(status, 200, "{text}");
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    assert!(!text.contains("chosen-by"), "a raw path leaked into a label:\n{text}");
    let samples = parse(&text);
    let requests = "traceline_http_requests_total";
    let ingest = [("method", "POST"), ("route", "/v1/hooks/ingest"), ("status", "201")];
    assert_eq!(value(&samples, requests, &ingest), Some(3.0), "{text}");
    let session = [("method", "GET"), ("route", "/v1/sessions/{id}"), ("status", "200")];
    assert_eq!(value(&samples, requests, &session), Some(2.0));
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert_eq!(value(&samples, requests, &unmatched), Some(1.0));
    assert_eq!(value(&samples, "traceline_events_ingested_total", &[]), Some(3.0));

    // The latency histogram of the ingest route: cumulative buckets ending in +Inf = _count = 3.
    let latency = "traceline_http_request_duration_seconds";
    let route = [("method", "POST"), ("route", "/v1/hooks/ingest")];
    let mut buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|((name, labels), _)| {
            name == &format!("{latency}_bucket")
                && labels.iter().any(|(k, v)| k == "route" && v == route[1].1)
                && labels.iter().any(|(k, v)| k == "method" && v == "POST")
        })
        .map(|((_, labels), count)| {
            let le = &labels.iter().find(|(k, _)| k == "le").unwrap().1;
            (if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap() }, *count)
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(buckets.len() > 5, "{buckets:?}");
    assert!(buckets.windows(2).all(|pair| pair[0].1 <= pair[1].1), "cumulative: {buckets:?}");
    assert_eq!(buckets.last(), Some(&(f64::INFINITY, 3.0)));
    assert_eq!(value(&samples, &format!("{latency}_count"), &route), Some(3.0));
    assert!(value(&samples, &format!("{latency}_sum"), &route).unwrap() > 0.0);

    let read_pool = |state| {
        value(&samples, "traceline_pool_connections", &[("pool", "read"), ("state", state)])
    };
    assert!(read_pool("idle").unwrap() + read_pool("busy").unwrap() >= 1.0, "{text}");
    assert!(value(&samples, "traceline_pool_max_connections", &[("pool", "read")]).unwrap() >= 1.0);
    // Both backends write through a pool of their own: SQLite's one writer, PostgreSQL's write pool.
    assert!(
        value(&samples, "traceline_pool_max_connections", &[("pool", "write")]).unwrap() >= 1.0
    );
    assert_eq!(value(&samples, "traceline_webhook_backlog", &[]), Some(0.0));
    let batches = value(&samples, "traceline_writer_batch_size_count", &[]);
    match backend {
        Backend::Sqlite => {
            assert_eq!(value(&samples, "traceline_writer_queue_depth", &[]), Some(0.0));
            // Org, assessment, keys, three events, the health probe: every write went through the writer.
            assert!(batches.unwrap() >= 5.0, "{text}");
            let committed = value(&samples, "traceline_writer_batch_size_sum", &[]).unwrap();
            assert!(committed >= batches.unwrap());
        }
        Backend::Postgres => {
            // Only ingest goes through the committers: the three requests, sent one after another.
            assert_eq!(value(&samples, "traceline_writer_queue_depth", &[]), Some(0.0));
            assert_eq!(
                value(&samples, "traceline_writer_batch_size_sum", &[]),
                Some(3.0),
                "{text}"
            );
            assert_eq!(batches, Some(3.0), "{text}");
        }
    }
    drop(server);

    let server = Server::start_with(&database.url, &[("TRACELINE_METRICS", "off")], None);
    let (status, _, text) = scrape(&server.base_url);
    assert_eq!(status, 404);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["code"], "not_found");
}

#[test]
fn metrics_after_real_traffic_on_sqlite() {
    metrics_after_real_traffic(Backend::Sqlite);
}

#[test]
fn metrics_after_real_traffic_on_postgres() {
    metrics_after_real_traffic(Backend::Postgres);
}
