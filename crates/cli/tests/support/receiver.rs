//! A webhook receiver for the tests: a real HTTP/1.1 server on 127.0.0.1 that records every request and answers
//! as it is told (a status per request in turn, then 200; optionally after a delay).

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// Headers, names lower-cased.
    pub(crate) headers: HashMap<String, String>,
    /// The raw body.
    pub(crate) body: Vec<u8>,
    /// When it arrived.
    pub(crate) at: Instant,
}

impl Received {
    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The event's `type`.
    pub(crate) fn event_type(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }
}

struct Shared {
    received: Mutex<Vec<Received>>,
    statuses: Mutex<VecDeque<u16>>,
    delay: Duration,
    stopping: AtomicBool,
}

/// A running receiver; stops when dropped.
pub(crate) struct Receiver {
    pub(crate) url: String,
    shared: Arc<Shared>,
}

impl Receiver {
    /// Listens on a port the OS chooses; answers `statuses` in turn, then 200, each after `delay`.
    pub(crate) fn start(statuses: &[u16], delay: Duration) -> Self {
        Self::start_on(
            TcpListener::bind("127.0.0.1:0").expect("bind the receiver"),
            statuses,
            delay,
        )
    }

    /// The same on a listener the test bound (a port it reserved earlier).
    pub(crate) fn start_on(listener: TcpListener, statuses: &[u16], delay: Duration) -> Self {
        let url = format!("http://{}/hook", listener.local_addr().expect("the receiver's address"));
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            statuses: Mutex::new(statuses.iter().copied().collect()),
            delay,
            stopping: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            while !accepting.stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let serving = Arc::clone(&accepting);
                        thread::spawn(move || serve(stream, &serving));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Receiver { url, shared }
    }

    /// Everything received so far.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received, failing the test after `bound`.
    pub(crate) fn wait_for(
        &self,
        bound: Duration,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + bound;
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver waited {bound:?} in vain; it got {received:?}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let mut reader = BufReader::new(&stream);
    let mut headers = HashMap::new();
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length = headers.get("content-length").and_then(|length| length.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let status = shared.statuses.lock().unwrap().pop_front().unwrap_or(200);
    shared.received.lock().unwrap().push(Received { headers, body, at: Instant::now() });
    let answer_at = Instant::now() + shared.delay;
    while Instant::now() < answer_at && !shared.stopping.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(20));
    }
    let mut stream = &stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} Answer\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    );
}
