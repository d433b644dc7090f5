//! The session view scenario: `GET /sessions/:id` (the web UI's page, HTML) for the 100,000-event session the
//! timeline scenario built, as a signed-in reviewer, one request at a time on one connection. UI.md asks for
//! ≤ 50 ms p50 server time and ≤ 500 KB of HTML. [`sign_in`] makes the reviewer the page scenarios share: it
//! finds the session's org, makes a user with `traceline user create` and signs in through `POST /login`, as a
//! browser would.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{ensure, Context as _, Result};

use traceline_loadgen::http::Client;
use traceline_loadgen::load::{describe, micros, percentile_ms};
use traceline_loadgen::response::string_fields;

/// Requests left out of the figures while caches warm up.
const WARMUP: usize = 5;
/// The user the scenario signs in as, and their password.
const EMAIL: &str = "bench-reviewer@example.test";
const PASSWORD: &str = "bench reviewer password";
/// UI.md's targets.
pub(crate) const TARGET_P50_MS: f64 = 50.0;
pub(crate) const TARGET_BYTES: usize = 500 * 1000;

/// What the scenario measured.
pub(crate) struct SessionViewReport {
    /// Events in the session.
    pub(crate) events: usize,
    /// Timed requests.
    pub(crate) repetitions: usize,
    /// Latencies in µs, sorted.
    pub(crate) latencies: Vec<u32>,
    /// Bytes of the page's HTML.
    pub(crate) bytes: usize,
    /// Timeline events the page holds (its first page).
    pub(crate) events_shown: usize,
}

impl SessionViewReport {
    /// The `p`th percentile in ms.
    pub(crate) fn percentile_ms(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies, p)
    }
}

/// Times `repetitions` requests for `session`'s page, signed in with `cookie` (see [`sign_in`]).
pub(crate) fn measure(
    address: SocketAddr,
    cookie: &str,
    session: &str,
    events: usize,
    repetitions: usize,
) -> Result<SessionViewReport> {
    let mut client = Client::new(address);
    let path = format!("/sessions/{session}");
    let header = format!("Cookie: {cookie}");
    let mut latencies = Vec::with_capacity(repetitions);
    let mut bytes = 0;
    let mut events_shown = 0;
    for round in 0..WARMUP + repetitions {
        let sent = Instant::now();
        let response = client.send("GET", &path, &[&header], b"")?;
        let elapsed = micros(sent.elapsed());
        ensure!(response.status == 200, "the session view: {}", describe(&response));
        if round == 0 {
            let text = response.text();
            bytes = response.body.len();
            events_shown = text.matches("data-kind=\"").count();
            ensure!(events_shown > 0, "the session view shows no event");
        }
        if round >= WARMUP {
            latencies.push(elapsed);
        }
    }
    latencies.sort_unstable();
    Ok(SessionViewReport { events, repetitions, latencies, bytes, events_shown })
}

/// A `Cookie` value for a new admin of the org that owns `session` (made once per run: the address is fixed).
pub(crate) fn sign_in(
    binary: &Path,
    database_url: &str,
    address: SocketAddr,
    api_key: &str,
    session: &str,
) -> Result<String> {
    let mut client = Client::new(address);
    let auth = format!("Authorization: Bearer {api_key}");
    let found = client.send("GET", &format!("/v1/sessions/{session}"), &[&auth], b"")?;
    ensure!(found.status == 200, "reading the session: {}", describe(&found));
    let text = found.text();
    let org =
        string_fields(&text, "orgId").into_iter().next().context("the session names no orgId")?;
    let mut create = Command::new(binary)
        .args(["user", "create", "--org", &org, "--email", EMAIL, "--role", "admin"])
        .args(["--database-url", database_url])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("could not run traceline user create")?;
    create.stdin.take().context("piped stdin")?.write_all(PASSWORD.as_bytes())?;
    let output = create.wait_with_output()?;
    ensure!(
        output.status.success(),
        "traceline user create failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let mut form = String::new();
    _ = write!(form, "email={}&password={}", EMAIL.replace('@', "%40"), PASSWORD.replace(' ', "+"));
    let origin = format!("Origin: http://{address}", address = client.address());
    let signed_in = client.send(
        "POST",
        "/login",
        &[&origin, "Content-Type: application/x-www-form-urlencoded"],
        form.as_bytes(),
    )?;
    ensure!(signed_in.status == 303, "signing in: {}", describe(&signed_in));
    signed_in.cookie.context("signing in set no cookie")
}
