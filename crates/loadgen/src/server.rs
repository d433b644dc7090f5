//! The server under test: `org create`, starting `traceline serve` on a free port, stopping it with SIGTERM
//! (also when the bench fails), and its memory as `/proc/<pid>/status` reports it.

use std::fs::{self, OpenOptions};
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};

use crate::response::string_fields;

/// How long the server may take to migrate a fresh database and bind.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// How long the server may take to drain and exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How often memory is sampled during load.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// What the server prints first on stdout, followed by its address.
const LISTENING: &str = "traceline listening on http://";

/// Runs `traceline org create --name bench` and returns the reviewer key it prints.
pub fn create_org(binary: &Path, database_url: &str) -> Result<String> {
    let output = Command::new(binary)
        .args(["org", "create", "--name", "bench", "--database-url", database_url])
        .env("RUST_LOG", "warn")
        .output()
        .with_context(|| format!("could not run {}", binary.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "`traceline org create` failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    string_fields(&stdout, "apiKey")
        .into_iter()
        .next()
        .with_context(|| format!("`traceline org create` printed no apiKey: {stdout}"))
}

/// How to start a server: where it listens, extra settings in its environment, where its stderr goes.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// The listen address; `127.0.0.1:0` (a port the OS chooses) when `None`.
    pub bind: Option<String>,
    /// Environment variables (settings) on top of `RUST_LOG=warn`.
    pub env: Vec<(String, String)>,
    /// A file its stderr is appended to; inherited when `None`.
    pub log: Option<PathBuf>,
}

impl ServerOptions {
    /// Rate limits off, stderr appended to `log`: how the bench runs a server it loads.
    pub fn unlimited(log: &Path) -> Self {
        ServerOptions::default()
            .setting("TRACELINE_INGEST_RATE_PER_MIN", "0")
            .setting("TRACELINE_IP_RATE_PER_MIN", "0")
            .log_to(log)
    }

    /// Adds an environment variable.
    #[must_use]
    pub fn setting(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Appends stderr to `log`.
    #[must_use]
    pub fn log_to(mut self, log: &Path) -> Self {
        self.log = Some(log.to_owned());
        self
    }

    /// Listens on `bind`.
    #[must_use]
    pub fn bind(mut self, bind: &str) -> Self {
        self.bind = Some(bind.to_owned());
        self
    }
}

/// A running `traceline serve`; dropping it stops it (SIGTERM, then SIGKILL if it does not exit).
pub struct Server {
    child: Child,
    /// Where it listens.
    pub address: SocketAddr,
    /// Its stderr, when it goes to a file.
    log: Option<PathBuf>,
    stopped: bool,
}

impl Server {
    /// Starts the server and waits for it to say where it listens.
    pub fn start(binary: &Path, database_url: &str, options: &ServerOptions) -> Result<Server> {
        let stderr = match &options.log {
            Some(log) => Stdio::from(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .with_context(|| format!("could not open {}", log.display()))?,
            ),
            None => Stdio::inherit(),
        };
        let bind = options.bind.as_deref().unwrap_or("127.0.0.1:0");
        let mut child = Command::new(binary)
            .args(["serve", "--bind", bind, "--database-url", database_url])
            .env("RUST_LOG", "warn")
            .envs(options.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;
        let stdout = child.stdout.take().context("the server's stdout is not piped")?;
        let (first_line, receive) = mpsc::channel();
        // The reader keeps draining stdout after the first line, so the server never blocks on a full pipe.
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            _ = first_line.send(lines.next().transpose());
            lines.for_each(drop);
        });
        let mut server = Server {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            log: options.log.clone(),
            stopped: false,
        };
        let line = match receive.recv_timeout(START_TIMEOUT) {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                bail!("the server exited before listening; {}", server.log_tail())
            }
            Ok(Err(error)) => bail!("reading the server's stdout: {error}"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                bail!("the server did not listen within {START_TIMEOUT:?}; {}", server.log_tail())
            }
        };
        let address = line
            .strip_prefix(LISTENING)
            .and_then(|address| address.trim().parse().ok())
            .with_context(|| format!("unexpected first line from the server: {line:?}"))?;
        server.address = address;
        Ok(server)
    }

    /// `http://host:port` of the listener.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// SIGKILL, and waits for the process to be gone: no chance to clean up, as in a crash or an OOM kill.
    pub fn kill(mut self) -> Result<()> {
        self.stopped = true;
        self.child.kill().context("SIGKILL the server")?;
        self.child.wait().context("reap the killed server")?;
        Ok(())
    }

    /// Sends a signal (`TERM`, `INT`, …) and returns at once.
    pub fn signal(&self, signal: &str) -> Result<()> {
        let pid = self.pid().to_string();
        let sent = Command::new("kill").args([&format!("-{signal}"), &pid]).status()?;
        ensure!(sent.success(), "kill -{signal} {pid} failed");
        Ok(())
    }

    /// Waits for the process to exit on its own, at most `bound`.
    pub fn wait_exit(&mut self, bound: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait()? {
                self.stopped = true;
                return Ok(status);
            }
            ensure!(Instant::now() < deadline, "the server did not exit within {bound:?}");
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The peak resident memory of the server's life so far (`VmHWM`), in kB.
    pub fn peak_memory_kb(&self) -> Result<u64> {
        status_kb(self.pid(), "VmHWM:")
    }

    /// Sends SIGTERM and waits for a clean exit (status 0); kills it after [`STOP_TIMEOUT`].
    pub fn stop(&mut self) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.signal("TERM")?;
        match self.wait_exit(STOP_TIMEOUT) {
            Ok(status) => {
                ensure!(status.success(), "the server exited with {status}; {}", self.log_tail());
                Ok(())
            }
            Err(error) => {
                _ = self.child.kill();
                _ = self.child.wait();
                self.stopped = true;
                bail!("the server ignored SIGTERM and was killed: {error}")
            }
        }
    }

    /// The end of the server's stderr, for error messages.
    fn log_tail(&self) -> String {
        let Some(log) = &self.log else {
            return "its log is on stderr above".to_owned();
        };
        let text = fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n  ");
        format!("its log ({}) ends:\n  {tail}", log.display())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.stop().is_err() {
            _ = self.child.kill();
            _ = self.child.wait();
        }
    }
}

/// Samples a process's `VmRSS` every 100 ms on a thread of its own, keeping the largest value.
pub struct RssSampler {
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<u64>>,
}

impl RssSampler {
    /// Starts sampling `pid`.
    pub fn start(pid: u32) -> RssSampler {
        let running = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&running);
        let thread = thread::spawn(move || {
            let mut peak = 0;
            while flag.load(Ordering::Relaxed) {
                peak = peak.max(status_kb(pid, "VmRSS:").unwrap_or(0));
                thread::sleep(SAMPLE_EVERY);
            }
            peak
        });
        RssSampler { running, thread: Some(thread) }
    }

    /// Stops sampling and returns the largest `VmRSS` seen, in kB.
    pub fn finish(mut self) -> u64 {
        self.running.store(false, Ordering::Relaxed);
        self.thread.take().and_then(|thread| thread.join().ok()).unwrap_or(0)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
    }
}

/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`, 100 on every Linux architecture we run on).
const USER_HZ: f64 = 100.0;

/// CPU seconds (user and system, every thread, exited ones included) a process has used so far.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let text = fs::read_to_string(&path).with_context(|| format!("could not read {path}"))?;
    // The command name, in parentheses, may hold spaces: fields are counted after its closing one.
    let after_name = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> Result<f64> {
        let field = fields.get(index).with_context(|| format!("{path} is too short"))?;
        Ok(field.parse::<u64>().with_context(|| format!("unreadable {path}"))? as f64)
    };
    // utime and stime are fields 14 and 15; the state, field 3, comes first after the name.
    Ok((ticks(11)? + ticks(12)?) / USER_HZ)
}

/// Runs `work` and returns the largest resident memory `pid` reached meanwhile, in kB: its `VmHWM`, reset to the
/// current `VmRSS` first (`/proc/<pid>/clear_refs`, Linux ≥ 4.0), so the figure is exact, not sampled.
pub fn peak_memory_during<T>(pid: u32, work: impl FnOnce() -> Result<T>) -> Result<(T, u64)> {
    let path = format!("/proc/{pid}/clear_refs");
    fs::write(&path, "5")
        .with_context(|| format!("could not reset the peak memory through {path}"))?;
    let value = work()?;
    Ok((value, status_kb(pid, "VmHWM:")?))
}

/// A `kB` line of `/proc/<pid>/status`.
fn status_kb(pid: u32, field: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = fs::read_to_string(&path).with_context(|| format!("could not read {path}"))?;
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .with_context(|| format!("{path} has no {field} line"))?;
    line.trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .with_context(|| format!("unreadable {field} line in {path}: {line:?}"))
}
