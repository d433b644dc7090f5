//! Black-box tests of the `traceline` binary: the operator commands, and `serve` on a free port over real HTTP,
//! stopped by SIGTERM. The rest of the suite drives the same app in process (`tests/it`).

#![expect(
    clippy::expect_used,
    reason = "a test fails by panicking, with the expectation as its message"
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_traceline");

fn traceline(args: &[&str], database: &Path) -> Output {
    Command::new(BINARY)
        .args(args)
        .arg("--database-url")
        .arg(database)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the traceline binary")
}

fn json_stdout(output: &Output) -> Value {
    assert!(output.status.success(), "command failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the command prints JSON")
}

/// A `traceline serve` child process on a port the OS chose.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    fn start(database: &Path) -> Self {
        let mut child = Command::new(BINARY)
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url"])
            .arg(database)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start traceline serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the announcement");
        let base_url = line
            .trim()
            .strip_prefix("traceline listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from serve: {line:?}"))
            .to_owned();
        Server { child, base_url }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop within 20 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Client {
    agent: ureq::Agent,
    base_url: String,
}

impl Client {
    fn new(base_url: &str) -> Self {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        Client { agent, base_url: base_url.to_owned() }
    }

    fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let mut request = self.agent.get(format!("{}{path}", self.base_url));
        if let Some(key) = key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        Self::finish(request.call())
    }

    fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        let request = self
            .agent
            .post(format!("{}{path}", self.base_url))
            .header("Authorization", format!("Bearer {key}"));
        Self::finish(request.send_json(body))
    }

    fn finish(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
        let mut response = result.expect("the request reaches the server");
        let status = response.status().as_u16();
        let body = response.body_mut().read_json::<Value>().expect("a JSON body");
        (status, body)
    }
}

#[test]
fn serve_answers_over_http_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("traceline.db");
    let org = json_stdout(&traceline(&["org", "create", "--name", "Acme"], &database));
    let key = org["apiKey"].as_str().unwrap().to_owned();
    assert!(key.starts_with("psk_live_") && key.len() >= 41, "{key}");
    let org_id = org["org"]["id"].as_str().unwrap();
    assert_eq!(org["org"]["name"], "Acme");
    let read_only = json_stdout(&traceline(
        &["apikey", "create", "--org", org_id, "--scopes", "read"],
        &database,
    ));
    let read_key = read_only["apiKey"].as_str().unwrap().to_owned();

    let server = Server::start(&database);
    let client = Client::new(&server.base_url);
    assert_eq!(client.get("/v1/health", None), (200, json!({"ok": true})));
    let (status, body) = client.get("/v1/sessions", None);
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));

    let (status, created) = client.post("/v1/sessions", &key, &json!({"sourceService": "cursor"}));
    assert_eq!(status, 201, "{created}");
    let id = created["session"]["id"].as_str().unwrap();
    let (status, fetched) = client.get(&format!("/v1/sessions/{id}"), Some(&read_key));
    assert_eq!((status, &fetched["session"]), (200, &created["session"]));
    let (status, refused) = client.post("/v1/sessions", &read_key, &json!({}));
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")));

    let exit = server.terminate();
    assert!(exit.success(), "serve exited with {exit:?} after SIGTERM");

    // The data outlives the process.
    let server = Server::start(&database);
    let client = Client::new(&server.base_url);
    let (status, listed) = client.get("/v1/sessions", Some(&key));
    assert_eq!((status, listed["total"].as_i64()), (200, Some(1)));
}

#[test]
fn operator_commands_refuse_bad_input_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("traceline.db");
    let blank = traceline(&["org", "create", "--name", "   "], &database);
    assert!(!blank.status.success());
    assert!(
        String::from_utf8_lossy(&blank.stderr).contains("org name"),
        "{}",
        String::from_utf8_lossy(&blank.stderr)
    );
    let unknown = traceline(&["apikey", "create", "--org", "no-such-org"], &database);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no org with id no-such-org"));
    let org = json_stdout(&traceline(&["org", "create", "--name", "Acme"], &database));
    let bad_scope = traceline(
        &["apikey", "create", "--org", org["org"]["id"].as_str().unwrap(), "--scopes", "admin"],
        &database,
    );
    assert!(!bad_scope.status.success());
    assert!(String::from_utf8_lossy(&bad_scope.stderr).contains("unknown scope 'admin'"));
}

#[test]
fn migrate_applies_the_schema_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("fresh.db");
    let first = traceline(&["migrate"], &database);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(database.exists());
    let second = traceline(&["migrate"], &database);
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
}
