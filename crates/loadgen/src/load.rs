//! The load loop: one thread and one keep-alive connection per simulated client, a warm-up left out of the
//! figures, then per-request latencies kept per thread and merged at the end.

use std::io;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};

use crate::http::Client;
use crate::response::Response;
use crate::server::cpu_seconds;

/// Transport errors in a row after which a connection gives up: the server is gone, not slow.
const MAX_FAILURES_IN_A_ROW: u32 = 10;

/// How long a body excerpt in an error message may be.
const EXCERPT_CHARS: usize = 300;

/// Where and how hard to push.
pub struct Load {
    /// The server.
    pub address: SocketAddr,
    /// Concurrent connections, one thread each.
    pub connections: usize,
    /// Time spent at full load before anything is counted.
    pub warmup: Duration,
    /// The measured window.
    pub measure: Duration,
    /// The server's process, whose CPU use is measured with ours.
    pub server_pid: u32,
}

/// How one request went, as the scenario judges it.
pub enum Outcome {
    /// A 2xx that did what was asked.
    Success,
    /// Anything else; the response is kept for the first error's message.
    Failure(Response),
}

impl Outcome {
    /// Success for any 2xx.
    pub fn of(response: Response) -> Outcome {
        if response.is_success() {
            Outcome::Success
        } else {
            Outcome::Failure(response)
        }
    }
}

/// What one scenario measured.
pub struct LoadReport {
    /// Successful requests completed inside the window.
    pub requests: u64,
    /// Failed requests (non-2xx, failed checks, transport errors) completed inside the window.
    pub errors: u64,
    /// What the first failure looked like.
    pub first_error: Option<String>,
    /// The measured window.
    pub window: Duration,
    /// Latencies of the successful requests in microseconds, sorted.
    pub latencies: Vec<u32>,
    /// Events each request carries (1, or the batch size).
    pub events_per_request: u64,
    /// CPU cores the server kept busy during the window, on average.
    pub server_cores: Option<f64>,
    /// CPU cores the load generator itself kept busy during the window, on average.
    pub client_cores: Option<f64>,
}

impl LoadReport {
    /// Successful requests per second.
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.window.as_secs_f64()
    }

    /// Events per second: requests per second times the events each carries.
    pub fn events_per_second(&self) -> f64 {
        self.requests_per_second() * self.events_per_request as f64
    }

    /// The `p`th percentile latency in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies, p)
    }
}

/// The `p`th percentile (nearest rank) of sorted microsecond latencies, in milliseconds; 0 when empty.
pub fn percentile_ms(sorted_micros: &[u32], p: f64) -> f64 {
    if sorted_micros.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted_micros.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted_micros.len()) - 1;
    f64::from(sorted_micros[index]) / 1000.0
}

/// Microseconds, saturating.
pub fn micros(elapsed: Duration) -> u32 {
    u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX)
}

/// A short, single-line excerpt of a response for an error message.
pub fn describe(response: &Response) -> String {
    let text: String = response.text().chars().take(EXCERPT_CHARS).collect();
    format!("HTTP {}: {}", response.status, text.replace('\n', " "))
}

/// What one connection counted.
#[derive(Default)]
struct Tally {
    latencies: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs `load.connections` threads for the warm-up and the window. `make(i)` builds connection `i`'s request
/// function, which sends one request on the given client and judges its response.
pub fn run<M, G>(load: &Load, events_per_request: u64, make: M) -> Result<LoadReport>
where
    M: Fn(usize) -> G + Sync,
    G: FnMut(&mut Client) -> io::Result<Outcome>,
{
    let start = Instant::now();
    let make = &make;
    let mut cpu = (None, None);
    let tallies: Vec<Result<Tally>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..load.connections)
            .map(|index| scope.spawn(move || connection(load, start, index, make(index))))
            .collect();
        cpu = cores_used(load, start);
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|_| Err(anyhow!("a load thread panicked"))))
            .collect()
    });
    let mut merged = Tally::default();
    for tally in tallies {
        let tally = tally?;
        merged.latencies.extend_from_slice(&tally.latencies);
        merged.errors += tally.errors;
        merged.first_error = merged.first_error.or(tally.first_error);
    }
    merged.latencies.sort_unstable();
    Ok(LoadReport {
        requests: merged.latencies.len() as u64,
        errors: merged.errors,
        first_error: merged.first_error,
        window: load.measure,
        latencies: merged.latencies,
        events_per_request,
        server_cores: cpu.0,
        client_cores: cpu.1,
    })
}

/// Sleeps through the warm-up and the window, returning the CPU cores the server and this process used
/// during the window.
fn cores_used(load: &Load, start: Instant) -> (Option<f64>, Option<f64>) {
    let snapshot = || (cpu_seconds(load.server_pid).ok(), cpu_seconds(std::process::id()).ok());
    thread::sleep((start + load.warmup).saturating_duration_since(Instant::now()));
    let before = snapshot();
    thread::sleep((start + load.warmup + load.measure).saturating_duration_since(Instant::now()));
    let after = snapshot();
    let window = load.measure.as_secs_f64();
    let cores = |before: Option<f64>, after: Option<f64>| Some((after? - before?) / window);
    (cores(before.0, after.0), cores(before.1, after.1))
}

/// One connection's loop: send until the window closes, counting what completes inside it.
fn connection<G>(load: &Load, start: Instant, index: usize, mut send: G) -> Result<Tally>
where
    G: FnMut(&mut Client) -> io::Result<Outcome>,
{
    let counted_from = start + load.warmup;
    let end = counted_from + load.measure;
    let mut client = Client::new(load.address);
    let mut tally = Tally { latencies: Vec::with_capacity(1 << 16), ..Tally::default() };
    let mut failures_in_a_row = 0;
    loop {
        let began = Instant::now();
        if began >= end {
            return Ok(tally);
        }
        let result = send(&mut client);
        let done = Instant::now();
        let counted = done > counted_from && done <= end;
        match result {
            Ok(Outcome::Success) => {
                failures_in_a_row = 0;
                if counted {
                    tally.latencies.push(micros(done - began));
                }
            }
            Ok(Outcome::Failure(response)) => {
                failures_in_a_row = 0;
                if counted {
                    tally.errors += 1;
                    tally.first_error.get_or_insert_with(|| describe(&response));
                }
            }
            Err(error) => {
                failures_in_a_row += 1;
                if counted {
                    tally.errors += 1;
                    tally.first_error.get_or_insert_with(|| format!("transport error: {error}"));
                }
                if failures_in_a_row >= MAX_FAILURES_IN_A_ROW {
                    bail!("connection {index}: {failures_in_a_row} transport errors in a row; last: {error}");
                }
                client.reset();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percentile_ms;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile_ms(&sorted, 50.0), 50.0);
        assert_eq!(percentile_ms(&sorted, 99.0), 99.0);
        assert_eq!(percentile_ms(&sorted, 100.0), 100.0);
        assert_eq!(percentile_ms(&[1500], 99.0), 1.5);
        assert_eq!(percentile_ms(&[], 50.0), 0.0);
    }
}
