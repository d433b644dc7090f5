//! Starting the real binary and talking to it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test, built by cargo for this test target.
pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_traceline");

/// Runs an operator command against `database`.
pub(crate) fn traceline(args: &[&str], database: &Path) -> Output {
    Command::new(BINARY)
        .args(args)
        .arg("--database-url")
        .arg(database)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the traceline binary")
}

/// The JSON a successful command printed.
pub(crate) fn json_stdout(output: &Output) -> Value {
    assert!(output.status.success(), "command failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the command prints JSON")
}

/// A `traceline serve` child process.
pub(crate) struct Server {
    child: Child,
    pub(crate) base_url: String,
}

impl Server {
    /// Serves `database` on a port the OS chooses.
    pub(crate) fn start(database: &Path) -> Self {
        Server::start_on(database, "127.0.0.1:0")
    }

    /// Serves `database` on `bind`, e.g. the port an earlier server of the same test used.
    pub(crate) fn start_on(database: &Path, bind: &str) -> Self {
        let mut child = Command::new(BINARY)
            .args(["serve", "--bind", bind, "--database-url"])
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

    /// The `host:port` the server listens on.
    pub(crate) fn address(&self) -> &str {
        self.base_url.trim_start_matches("http://")
    }

    /// Sends SIGTERM and waits for the exit.
    pub(crate) fn terminate(mut self) -> ExitStatus {
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

/// A reviewer's HTTP client.
pub(crate) struct Client {
    agent: ureq::Agent,
    base_url: String,
}

impl Client {
    pub(crate) fn new(base_url: &str) -> Self {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        Client { agent, base_url: base_url.to_owned() }
    }

    pub(crate) fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let mut request = self.agent.get(format!("{}{path}", self.base_url));
        if let Some(key) = key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        Self::finish(request.call())
    }

    pub(crate) fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
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
