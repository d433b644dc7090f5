//! An org with a reviewer key and candidate keys, made the way an operator and a reviewer would: the `org create`
//! command, then the assessment and key routes.

use serde_json::json;

use super::{json_stdout, traceline, Client};

/// Settings every reliability test serves with: no rate limits, which would turn load into 429s.
pub(crate) const UNLIMITED: [(&str, &str); 3] = [
    ("TRACELINE_INGEST_RATE_PER_MIN", "0"),
    ("TRACELINE_IP_RATE_PER_MIN", "0"),
    ("TRACELINE_AUTH_FAILURES_PER_10MIN", "0"),
];

/// Credentials of one org.
pub(crate) struct Tenant {
    pub(crate) reviewer_key: String,
    /// One per client thread, each sent as `X-API-Key`.
    pub(crate) candidate_keys: Vec<String>,
}

/// Creates the org on the database (before any server runs on it).
pub(crate) fn create_org(database_url: &str) -> String {
    let org = json_stdout(&traceline(&["org", "create", "--name", "Reliability"], database_url));
    org["apiKey"].as_str().expect("the org's API key").to_owned()
}

/// Creates an assessment with `candidates` keys through the server at `base_url`.
pub(crate) fn tenant(base_url: &str, reviewer_key: String, candidates: usize) -> Tenant {
    let client = Client::new(base_url);
    let (status, created) = client.post(
        "/v1/assessments",
        &reviewer_key,
        &json!({"title": "Crash safety", "role": "Backend", "taskBrief": "Ingest under failure"}),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["assessment"]["id"].as_str().unwrap();
    let (status, keys) = client.post(
        &format!("/v1/assessments/{id}/keys"),
        &reviewer_key,
        &json!({"count": candidates}),
    );
    assert_eq!(status, 201, "{keys}");
    let candidate_keys =
        keys["keys"].as_array().unwrap().iter().map(|key| key["key"].as_str().unwrap().to_owned());
    Tenant { reviewer_key, candidate_keys: candidate_keys.collect() }
}
