//! The reviewer's heavier reads (issue 13): the compare page of two 10,000-event sessions, signed in with the
//! cookie (target ≤ 100 ms p50), and the export of the 100,000-event timeline session as NDJSON, read as a stream
//! on one connection (target ≥ 50,000 events/s with flat memory: the server's peak while exporting it is
//! compared with its peak while exporting one of the 10,000-event sessions; an export held in memory would add
//! the difference of their sizes).

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};

use traceline_loadgen::http::Client;
use traceline_loadgen::load::{describe, micros, percentile_ms};
use traceline_loadgen::server::peak_memory_during;

use super::figures::{mb, thousands};
use super::scenarios::build_session;

/// Exports timed; the best is reported (the first also warms the page cache).
const EXPORTS: usize = 3;
/// Events in each compared session.
pub(crate) const COMPARE_EVENTS: usize = 10_000;
/// The compared sessions' ids.
pub(crate) const COMPARED: (&str, &str) = ("bench-compare-a", "bench-compare-b");
/// Requests left out of the compare figures while caches warm up.
const COMPARE_WARMUP: usize = 5;
/// The targets.
const TARGET_EVENTS_PER_SECOND: f64 = 50_000.0;
const TARGET_COMPARE_P50_MS: f64 = 100.0;
/// How much more memory the 100,000-event export may take than a 10,000-event one and still count as flat: a
/// fraction of the difference of their sizes (tens of MB), so a server that held an export in memory fails.
const FLAT_MEMORY_MB: f64 = 8.0;

/// What the export scenario measured.
pub(crate) struct ExportReport {
    /// Events per export (lines counted in the stream).
    pub(crate) events: usize,
    /// Bytes of NDJSON per export.
    pub(crate) bytes: usize,
    /// Seconds from the request to the last byte, per export.
    pub(crate) seconds: Vec<f64>,
    /// Events and bytes of the small session's export.
    pub(crate) small_events: usize,
    pub(crate) small_bytes: usize,
    /// The server's peak resident memory while exporting the small session, in kB.
    pub(crate) small_peak_kb: u64,
    /// The same while exporting the large one.
    pub(crate) large_peak_kb: u64,
}

impl ExportReport {
    /// The fastest export's seconds.
    pub(crate) fn best_seconds(&self) -> f64 {
        self.seconds.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// Events per second of the fastest export.
    pub(crate) fn events_per_second(&self) -> f64 {
        self.events as f64 / self.best_seconds().max(f64::MIN_POSITIVE)
    }

    /// How much more memory the large export took than the small one, in MB.
    pub(crate) fn growth_mb(&self) -> f64 {
        mb(self.large_peak_kb.saturating_sub(self.small_peak_kb))
    }
}

/// What the compare scenario measured.
pub(crate) struct CompareReport {
    pub(crate) events_per_session: usize,
    pub(crate) repetitions: usize,
    /// Latencies in µs, sorted.
    pub(crate) latencies: Vec<u32>,
    /// Bytes of the page's HTML.
    pub(crate) bytes: usize,
}

impl CompareReport {
    /// The `p`th percentile in ms.
    pub(crate) fn percentile_ms(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies, p)
    }
}

/// Exports `small` then `large` (each a session and its event count) [`EXPORTS`] times as the reviewer, with the
/// server's peak memory during each.
pub(crate) fn export(
    address: SocketAddr,
    server_pid: u32,
    api_key: &str,
    small: (&str, usize),
    large: (&str, usize),
) -> Result<ExportReport> {
    let run = |(session, events): (&str, usize)| {
        peak_memory_during(server_pid, || {
            let mut seconds = Vec::with_capacity(EXPORTS);
            let mut counted = (0, 0);
            for _ in 0..EXPORTS {
                let began = Instant::now();
                counted =
                    stream_lines(address, &format!("/v1/sessions/{session}/export"), api_key)?;
                seconds.push(began.elapsed().as_secs_f64());
                ensure!(counted.0 == events, "the export held {} lines, not {events}", counted.0);
            }
            Ok((counted, seconds))
        })
    };
    let (((small_events, small_bytes), _), small_peak_kb) = run(small)?;
    let (((events, bytes), seconds), large_peak_kb) = run(large)?;
    Ok(ExportReport {
        events,
        bytes,
        seconds,
        small_events,
        small_bytes,
        small_peak_kb,
        large_peak_kb,
    })
}

/// GETs `path` on a connection of its own and reads the chunked body as it arrives, keeping nothing but counts:
/// returns the lines and the bytes of the body.
fn stream_lines(address: SocketAddr, path: &str, api_key: &str) -> Result<(usize, usize)> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {api_key}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buffer = vec![0; 256 * 1024];
    let mut head = Vec::new();
    let mut body = Dechunk::default();
    loop {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        if body.started {
            body.feed(&buffer[..read])?;
        } else {
            head.extend_from_slice(&buffer[..read]);
            if let Some(end) = head.windows(4).position(|window| window == b"\r\n\r\n") {
                let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
                let status = text.lines().next().unwrap_or("");
                ensure!(status.starts_with("http/1.1 200"), "the export answered {status}");
                ensure!(
                    text.contains("transfer-encoding: chunked"),
                    "the export is not streamed: {text}"
                );
                let rest = head.split_off(end + 4);
                body.started = true;
                body.feed(&rest)?;
            }
        }
        if body.done {
            break;
        }
    }
    ensure!(body.done, "the export ended before its last chunk");
    Ok((body.lines, body.bytes))
}

/// A chunked body decoded as it arrives, counting its bytes and lines.
#[derive(Default)]
struct Dechunk {
    started: bool,
    /// Bytes left in the current chunk's data, or `None` while reading a size line.
    remaining: Option<usize>,
    size_line: Vec<u8>,
    /// The CRLF after a chunk's data is still to be skipped.
    skip: usize,
    lines: usize,
    bytes: usize,
    done: bool,
}

impl Dechunk {
    fn feed(&mut self, mut input: &[u8]) -> Result<()> {
        while !input.is_empty() && !self.done {
            if self.skip > 0 {
                let skipped = self.skip.min(input.len());
                self.skip -= skipped;
                input = &input[skipped..];
                continue;
            }
            match self.remaining {
                Some(remaining) => {
                    let take = remaining.min(input.len());
                    self.lines += input[..take].iter().filter(|byte| **byte == b'\n').count();
                    self.bytes += take;
                    input = &input[take..];
                    if take == remaining {
                        self.remaining = None;
                        self.skip = 2;
                    } else {
                        self.remaining = Some(remaining - take);
                    }
                }
                None => {
                    let Some(end) = input.iter().position(|byte| *byte == b'\n') else {
                        self.size_line.extend_from_slice(input);
                        return Ok(());
                    };
                    self.size_line.extend_from_slice(&input[..end]);
                    input = &input[end + 1..];
                    let text = String::from_utf8_lossy(&self.size_line);
                    let size = text.trim().split(';').next().unwrap_or("");
                    let size = usize::from_str_radix(size, 16)
                        .with_context(|| format!("bad chunk size {text:?}"))?;
                    self.size_line.clear();
                    if size == 0 {
                        self.done = true;
                    } else {
                        self.remaining = Some(size);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Builds two sessions of [`COMPARE_EVENTS`] events with the first two of `candidate_keys`, then times
/// `GET /compare?a=&b=` `repetitions` times, one request at a time on one connection, signed in with `cookie`.
pub(crate) fn compare(
    address: SocketAddr,
    cookie: &str,
    candidate_keys: &[String],
    repetitions: usize,
) -> Result<CompareReport> {
    let [a_key, b_key] = candidate_keys else {
        bail!("the compare scenario needs two candidate keys")
    };
    build_session(address, a_key, COMPARED.0, COMPARE_EVENTS)?;
    build_session(address, b_key, COMPARED.1, COMPARE_EVENTS)?;
    let mut client = Client::new(address);
    let header = format!("Cookie: {cookie}");
    let mut latencies = Vec::with_capacity(repetitions);
    let mut bytes = 0;
    for round in 0..COMPARE_WARMUP + repetitions {
        let sent = Instant::now();
        let response = client.send(
            "GET",
            &format!("/compare?a={}&b={}", COMPARED.0, COMPARED.1),
            &[&header],
            b"",
        )?;
        let elapsed = micros(sent.elapsed());
        ensure!(response.status == 200, "the compare page: {}", describe(&response));
        if round == 0 {
            bytes = response.body.len();
            let text = response.text();
            ensure!(text.contains("Compare two sessions"), "the compare page shows no comparison");
        }
        if round >= COMPARE_WARMUP {
            latencies.push(elapsed);
        }
    }
    latencies.sort_unstable();
    Ok(CompareReport { events_per_session: COMPARE_EVENTS, repetitions, latencies, bytes })
}

/// The rows of the targets table for one backend's results, `(target, measured and whether met)`.
pub(crate) fn targets(
    label: &str,
    export: Option<&ExportReport>,
    compare: Option<&CompareReport>,
) -> Vec<(String, Option<(String, bool)>)> {
    vec![
        (
            format!("{label} export of a 100,000-event session ≥ 50,000 events/s, memory flat"),
            export.map(|e| {
                (
                    format!(
                        "{} events/s, memory +{:.1} MB",
                        thousands(e.events_per_second()),
                        e.growth_mb()
                    ),
                    e.events_per_second() >= TARGET_EVENTS_PER_SECOND
                        && e.growth_mb() <= FLAT_MEMORY_MB,
                )
            }),
        ),
        (
            format!("{label} compare page of two 10,000-event sessions ≤ 100 ms p50"),
            compare.map(|c| {
                (
                    format!("p50 {:.2} ms", c.percentile_ms(50.0)),
                    c.percentile_ms(50.0) <= TARGET_COMPARE_P50_MS,
                )
            }),
        ),
    ]
}

/// The paragraph of a backend's section.
pub(crate) fn section(out: &mut String, export: &ExportReport, compare: &CompareReport) {
    let seconds: Vec<String> = export.seconds.iter().map(|s| format!("{s:.2}")).collect();
    _ = writeln!(
        out,
        "Export, `GET /v1/sessions/:id/export` of the same session as NDJSON, read as a stream on one \
         connection: {} lines, {:.1} MB, in {} s ({} runs), so {} events/s at best. The server's peak resident \
         memory (`VmHWM`, reset before each) was {:.1} MB while exporting it and {:.1} MB while exporting a \
         session of {} events ({:.1} MB): +{:.1} MB for {:.1} MB more output (flat means at most \
         +{FLAT_MEMORY_MB} MB).\n",
        thousands(export.events as f64),
        export.bytes as f64 / 1e6,
        seconds.join(" / "),
        export.seconds.len(),
        thousands(export.events_per_second()),
        mb(export.large_peak_kb),
        mb(export.small_peak_kb),
        thousands(export.small_events as f64),
        export.small_bytes as f64 / 1e6,
        export.growth_mb(),
        export.bytes.saturating_sub(export.small_bytes) as f64 / 1e6,
    );
    _ = writeln!(
        out,
        "Compare, `GET /compare?a=&b=` (the web UI's HTML, signed in with the cookie) of two sessions of {} events \
         each, {} sequential requests on one connection: p50 {:.2} ms, p99 {:.2} ms; {} bytes of HTML.\n",
        thousands(compare.events_per_session as f64),
        compare.repetitions,
        compare.percentile_ms(50.0),
        compare.percentile_ms(99.0),
        thousands(compare.bytes as f64),
    );
}
