//! Talking to the Traceline server: redeem, batch ingest, complete, a session read for `status`, and the signed
//! log for `verify`.

use std::time::Duration;

use anyhow::{anyhow, bail};
use serde::Deserialize;
use serde_json::{json, Value};
use ureq::http::Response;
use ureq::tls::{TlsConfig, TlsProvider};
use ureq::{Agent, Body};

/// How long a call may take. Hooks never call the server themselves (a detached flusher does); a quick look gives
/// up early, and commands a person runs can wait longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patience {
    /// A quick look (`status`): connect within 1 s, finish within 5 s.
    Quick,
    /// The detached flusher a hook starts: nobody waits for it, but a hung server must not hold it forever;
    /// connect within 2 s, finish within 15 s.
    Background,
    /// `start`, `flush`, `done`, `status`: connect within 10 s, finish within 60 s.
    Interactive,
}

/// A Traceline server at a base URL.
#[derive(Debug, Clone)]
pub struct Server {
    base: String,
    agent: Agent,
}

/// What `POST /v1/candidate/redeem` answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Redeemed {
    /// The session the key is linked to.
    pub session_id: String,
    /// The token to send as `X-API-Key`.
    pub session_token: String,
    /// The assessment.
    pub assessment_id: Option<String>,
    /// Its title.
    pub assessment_title: Option<String>,
    /// The task the candidate is given.
    pub task_brief: Option<String>,
    /// The time limit, if any.
    pub time_limit_minutes: Option<i64>,
}

/// The server's verdict on one event of a batch.
#[derive(Debug, Clone, Deserialize)]
pub struct ItemResult {
    /// The event's id.
    pub id: Option<String>,
    /// 201 stored, 200 already stored, 4xx refused.
    pub status: u16,
    /// Why it was refused.
    pub error: Option<String>,
}

/// Why a batch was not judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// No answer: refused connection, timeout, DNS, TLS.
    Unreachable(String),
    /// 401: the token is unknown, revoked or expired.
    Unauthorized,
    /// 413: the batch is too large for the server's limit.
    TooLarge,
    /// 429, with the wait the server asked for.
    RateLimited(Option<Duration>),
    /// Any other answer: 5xx, or a 4xx that says the whole batch is wrong.
    Status(u16, String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Unreachable(reason) => write!(formatter, "server unreachable: {reason}"),
            SendError::Unauthorized => formatter.write_str("the session token was refused (401)"),
            SendError::TooLarge => {
                formatter.write_str("the batch is too large for the server (413)")
            }
            SendError::RateLimited(_) => formatter.write_str("rate limited by the server (429)"),
            SendError::Status(status, message) => {
                write!(formatter, "server answered {status}: {message}")
            }
        }
    }
}

impl Server {
    /// A client for the server at `base` (e.g. `https://traceline.example.com`).
    pub fn new(base: &str, patience: Patience) -> Server {
        let (connect, global) = match patience {
            Patience::Quick => (Duration::from_secs(1), Duration::from_secs(5)),
            Patience::Background => (Duration::from_secs(2), Duration::from_secs(15)),
            Patience::Interactive => (Duration::from_secs(10), Duration::from_secs(60)),
        };
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(connect))
            .timeout_global(Some(global))
            .tls_config(TlsConfig::builder().provider(TlsProvider::NativeTls).build())
            .user_agent(concat!("traceline-capture/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Server { base: base.trim_end_matches('/').to_owned(), agent }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Redeems a candidate key, giving the server the public key the events will be signed with.
    pub fn redeem(
        &self,
        key: &str,
        candidate_name: Option<&str>,
        signing_pub_key: Option<&str>,
    ) -> anyhow::Result<Redeemed> {
        let mut body = json!({"key": key});
        if let Some(name) = candidate_name {
            body["candidateName"] = Value::from(name);
        }
        if let Some(public_key) = signing_pub_key {
            body["signingPubKey"] = Value::from(public_key);
        }
        let response = self
            .agent
            .post(&format!("{}/v1/candidate/redeem", self.base))
            .send_json(&body)
            .map_err(|error| anyhow!("could not reach {}: {error}", self.base))?;
        let (status, body) = read(response);
        match status {
            200 => Ok(serde_json::from_value(body)?),
            401 => bail!("the server did not accept this key: it is unknown, revoked or expired"),
            _ => bail!("redeeming the key failed: {status} {}", error_message(&body)),
        }
    }

    /// Sends events through `POST /v1/hooks/ingest/batch`.
    pub fn send_batch(&self, token: &str, events: &[Value]) -> Result<Vec<ItemResult>, SendError> {
        let response = self
            .agent
            .post(&format!("{}/v1/hooks/ingest/batch", self.base))
            .header("X-API-Key", token)
            .send_json(json!({"events": events}))
            .map_err(|error| SendError::Unreachable(error.to_string()))?;
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let (status, body) = read(response);
        match status {
            207 => {
                let results = body.get("results").cloned().unwrap_or(Value::Null);
                serde_json::from_value(results).map_err(|error| {
                    SendError::Status(status, format!("unexpected batch answer: {error}"))
                })
            }
            401 => Err(SendError::Unauthorized),
            413 => Err(SendError::TooLarge),
            429 => Err(SendError::RateLimited(retry_after)),
            _ => Err(SendError::Status(status, error_message(&body))),
        }
    }

    /// Marks the key completed; returns `completedAt`.
    pub fn complete(&self, token: &str, session_id: &str) -> anyhow::Result<String> {
        let response = self
            .agent
            .post(&format!("{}/v1/candidate/complete", self.base))
            .header("X-API-Key", token)
            .send_json(json!({"sessionId": session_id}))
            .map_err(|error| anyhow!("could not reach {}: {error}", self.base))?;
        let (status, body) = read(response);
        if status != 200 {
            bail!("completing the session failed: {status} {}", error_message(&body));
        }
        Ok(body.get("completedAt").and_then(Value::as_str).unwrap_or_default().to_owned())
    }

    /// One page (up to 2,000 events) of `GET /v1/sessions/:id/signed-log`, after the event `after`.
    pub fn signed_log(
        &self,
        token: &str,
        session_id: &str,
        after: Option<&str>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .agent
            .get(&format!("{}/v1/sessions/{session_id}/signed-log", self.base))
            .query("limit", "2000");
        if let Some(after) = after {
            request = request.query("after", after);
        }
        let response = request
            .header("X-API-Key", token)
            .call()
            .map_err(|error| anyhow!("could not reach {}: {error}", self.base))?;
        let (status, body) = read(response);
        if status != 200 {
            bail!("reading the signed log failed: {status} {}", error_message(&body));
        }
        Ok(body)
    }

    /// `GET /v1/sessions/:id` as the candidate.
    pub fn session(&self, token: &str, session_id: &str) -> anyhow::Result<Value> {
        let response = self
            .agent
            .get(&format!("{}/v1/sessions/{session_id}", self.base))
            .header("X-API-Key", token)
            .call()
            .map_err(|error| anyhow!("could not reach {}: {error}", self.base))?;
        let (status, body) = read(response);
        if status != 200 {
            bail!("reading the session failed: {status} {}", error_message(&body));
        }
        Ok(body.get("session").cloned().unwrap_or(body))
    }
}

/// What `traceline doctor` learns from one quick request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    /// The status of `GET /v1/sessions/:id` with the session token.
    pub(crate) status: u16,
    /// The server's clock, from its `Date` header.
    pub(crate) server_time: Option<chrono::DateTime<chrono::Utc>>,
    /// How long the answer took.
    pub(crate) took: Duration,
}

impl Server {
    /// Reads the session with the token, for `doctor`: whether the server answers, accepts the token, and what time
    /// it thinks it is.
    pub(crate) fn probe(&self, token: &str, session_id: &str) -> Result<Probe, String> {
        let started = std::time::Instant::now();
        let response = self
            .agent
            .get(&format!("{}/v1/sessions/{session_id}", self.base))
            .header("X-API-Key", token)
            .call()
            .map_err(|error| error.to_string())?;
        let took = started.elapsed();
        let server_time = response
            .headers()
            .get("date")
            .and_then(|value| value.to_str().ok())
            .and_then(|text| chrono::DateTime::parse_from_rfc2822(text).ok())
            .map(|time| time.with_timezone(&chrono::Utc));
        Ok(Probe { status: response.status().as_u16(), server_time, took })
    }
}

fn read(mut response: Response<Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.body_mut().read_json::<Value>().unwrap_or(Value::Null);
    (status, body)
}

fn error_message(body: &Value) -> String {
    body.get("error").and_then(Value::as_str).unwrap_or("no error message").to_owned()
}
