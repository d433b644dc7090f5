//! What the black-box tests share: the `traceline` binary run as a child process (operator commands, and
//! `serve` on a port the OS chose), and a small blocking HTTP client that reports transport failures as values.

pub(crate) mod database;
pub(crate) mod fixture;
pub(crate) mod pg_cluster;
pub(crate) mod receiver;

use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use traceline_loadgen::server::ServerOptions;

/// The binary under test, built by cargo for this test target.
pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_traceline");

/// Runs an operator command of the binary against a database (a SQLite path or a PostgreSQL URL).
pub(crate) fn traceline(args: &[&str], database_url: &str) -> Output {
    Command::new(BINARY)
        .args(args)
        .args(["--database-url", database_url])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the traceline binary")
}

/// The JSON a successful command printed.
pub(crate) fn json_stdout(output: &Output) -> Value {
    assert!(output.status.success(), "command failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the command prints JSON")
}

/// A `traceline serve` child process on a port the OS chose (`traceline_loadgen::server`, which the benchmark
/// uses too), with the panicking helpers tests want. Dropping it kills the process.
pub(crate) struct Server {
    process: Option<traceline_loadgen::server::Server>,
    pub(crate) base_url: String,
}

impl Server {
    /// Serves `database_url` with default settings; the server's log goes to the test's stderr.
    pub(crate) fn start(database_url: &str) -> Self {
        Self::spawn(database_url, ServerOptions::default())
    }

    /// Serves `database_url` on `bind`, e.g. the address an earlier server of the same test had.
    pub(crate) fn start_on(database_url: &str, bind: &str) -> Self {
        Self::spawn(database_url, ServerOptions::default().bind(bind))
    }

    /// Serves `database_url` on `bind` with extra environment (a restart with the settings of the first start).
    pub(crate) fn start_on_with(database_url: &str, bind: &str, env: &[(&str, &str)]) -> Self {
        Self::spawn(database_url, Self::options(env, None).bind(bind))
    }

    /// Serves `database_url` with extra environment (settings), its log appended to `log` when given.
    pub(crate) fn start_with(database_url: &str, env: &[(&str, &str)], log: Option<&Path>) -> Self {
        Self::spawn(database_url, Self::options(env, log))
    }

    /// Serves `database_url` through `launcher`, an executable that ends by exec-ing [`BINARY`] with the
    /// arguments it was given (to start the server under limits the launcher sets).
    pub(crate) fn start_through(launcher: &Path, database_url: &str, env: &[(&str, &str)]) -> Self {
        let process = traceline_loadgen::server::Server::start(
            launcher,
            database_url,
            &Self::options(env, None),
        )
        .unwrap_or_else(|error| panic!("start traceline serve: {error:#}"));
        let base_url = process.base_url();
        Server { process: Some(process), base_url }
    }

    fn options(env: &[(&str, &str)], log: Option<&Path>) -> ServerOptions {
        let mut options = ServerOptions::default();
        for (name, value) in env {
            options = options.setting(name, value);
        }
        if let Some(log) = log {
            options = options.log_to(log);
        }
        options
    }

    fn spawn(database_url: &str, options: ServerOptions) -> Self {
        let process =
            traceline_loadgen::server::Server::start(Path::new(BINARY), database_url, &options)
                .unwrap_or_else(|error| panic!("start traceline serve: {error:#}"));
        let base_url = process.base_url();
        Server { process: Some(process), base_url }
    }

    fn process(&self) -> &traceline_loadgen::server::Server {
        self.process.as_ref().expect("the server is running")
    }

    /// `host:port` of the listener.
    pub(crate) fn address(&self) -> &str {
        self.base_url.trim_start_matches("http://")
    }

    /// SIGKILL: the process gets no chance to clean up, as in a crash or an OOM kill.
    pub(crate) fn kill(mut self) {
        let process = self.process.take().expect("the server is running");
        process.kill().expect("SIGKILL the server");
    }

    /// Sends a signal (`TERM`, `INT`) and returns at once.
    pub(crate) fn send_signal(&self, signal: &str) {
        self.process().signal(signal).expect("signal the server");
    }

    /// Waits for the process to exit, failing the test after `bound`.
    pub(crate) fn wait_exit(&mut self, bound: Duration) -> ExitStatus {
        let process = self.process.as_mut().expect("the server is running");
        process.wait_exit(bound).unwrap_or_else(|error| panic!("{error:#}"))
    }

    /// SIGTERM, then the exit status (within 20 s).
    pub(crate) fn terminate(mut self) -> ExitStatus {
        self.send_signal("TERM");
        self.wait_exit(Duration::from_secs(20))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Tests end fast: no graceful stop for a server whose test is over.
        if let Some(process) = self.process.take() {
            let _ = process.kill();
        }
    }
}

/// An answer: status, JSON body, and the `Retry-After` header when there was one.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) retry_after: Option<String>,
}

/// A keep-alive HTTP client for one server.
pub(crate) struct Client {
    agent: ureq::Agent,
    base_url: String,
}

impl Client {
    pub(crate) fn new(base_url: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Client { agent, base_url: base_url.to_owned() }
    }

    /// A GET that must reach the server.
    pub(crate) fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let reply = self.try_get(path, key).expect("the request reaches the server");
        (reply.status, reply.body)
    }

    /// A POST with a reviewer key that must reach the server.
    pub(crate) fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        let reply = self
            .try_post(path, &("Authorization", &format!("Bearer {key}")), body)
            .expect("the request reaches the server");
        (reply.status, reply.body)
    }

    /// A PATCH with a reviewer key that must reach the server.
    pub(crate) fn patch(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        let request = self
            .agent
            .patch(format!("{}{path}", self.base_url))
            .header("Authorization", format!("Bearer {key}"));
        let reply = Self::finish(request.send_json(body)).expect("the request reaches the server");
        (reply.status, reply.body)
    }

    /// A DELETE with a reviewer key that must reach the server.
    pub(crate) fn delete(&self, path: &str, key: &str) -> (u16, Value) {
        let request = self
            .agent
            .delete(format!("{}{path}", self.base_url))
            .header("Authorization", format!("Bearer {key}"));
        let reply = Self::finish(request.call()).expect("the request reaches the server");
        (reply.status, reply.body)
    }

    /// A GET whose transport failure is the caller's to judge.
    pub(crate) fn try_get(&self, path: &str, key: Option<&str>) -> Result<Reply, ureq::Error> {
        let mut request = self.agent.get(format!("{}{path}", self.base_url));
        if let Some(key) = key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        Self::finish(request.call())
    }

    /// A GET with one credential header (`Authorization` or `X-API-Key`).
    pub(crate) fn try_get_as(
        &self,
        path: &str,
        (header, value): (&str, &str),
    ) -> Result<Reply, ureq::Error> {
        Self::finish(
            self.agent.get(format!("{}{path}", self.base_url)).header(header, value).call(),
        )
    }

    /// A POST with one credential header (`Authorization` or `X-API-Key`).
    pub(crate) fn try_post(
        &self,
        path: &str,
        (header, value): &(&str, &str),
        body: &Value,
    ) -> Result<Reply, ureq::Error> {
        let request = self.agent.post(format!("{}{path}", self.base_url)).header(*header, *value);
        Self::finish(request.send_json(body))
    }

    /// A POST of an already serialised JSON body, so the caller can time the request alone.
    pub(crate) fn try_post_raw(
        &self,
        path: &str,
        (header, value): (&str, &str),
        body: &[u8],
    ) -> Result<Reply, ureq::Error> {
        let request = self
            .agent
            .post(format!("{}{path}", self.base_url))
            .header(header, value)
            .header("Content-Type", "application/json");
        Self::finish(request.send(body))
    }

    fn finish(
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply, ureq::Error> {
        let mut response = result?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response.body_mut().read_json::<Value>()?;
        Ok(Reply { status, body, retry_after })
    }
}

/// Runs `command` to its end, with stdout and stderr captured; kills it and fails the test after `bound` (a
/// command that was meant to fail at once, such as `serve` with a bad setting, must not hang the suite).
pub(crate) fn output_within(command: &mut Command, bound: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the traceline binary");
    let deadline = Instant::now() + bound;
    while child.try_wait().expect("poll the child").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("reap the child");
            panic!(
                "still running after {bound:?}; stdout {:?}, stderr {:?}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect the output")
}

/// Whether the tests run as root, who may read and write any file: tests about permissions then run the binary
/// as `nobody` ([`as_unprivileged`]).
pub(crate) fn is_root() -> bool {
    let output = Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

/// A command running the binary as a user without special rights: `nobody` when the tests run as root (via
/// `setpriv`, which execs the binary, so killing the child kills the binary), the current user otherwise.
pub(crate) fn as_unprivileged() -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", BINARY]);
        command
    } else {
        Command::new(BINARY)
    }
}
