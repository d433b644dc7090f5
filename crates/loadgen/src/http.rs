//! A minimal HTTP/1.1 keep-alive client: just enough for the load generator, and cheap, because it shares the
//! machine's cores with the server it measures.

use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

use crate::response::{read_response, Response};

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one read or write may block. Generous: under load a 500-event batch queues behind the other
/// connections' batches, which takes seconds on PostgreSQL.
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// One keep-alive connection to the server, reopened when the server closes it.
pub struct Client {
    address: SocketAddr,
    stream: Option<TcpStream>,
    /// Bytes read but not yet consumed by a response.
    pending: Vec<u8>,
    /// The request being sent, reused between requests.
    request: Vec<u8>,
}

impl Client {
    /// A client for `address`; it connects on its first request.
    pub fn new(address: SocketAddr) -> Self {
        Client { address, stream: None, pending: Vec::new(), request: Vec::new() }
    }

    /// Sends one request and reads its response. `headers` are `Name: value` lines without line endings.
    /// A request on a reused connection that fails is retried once on a fresh one (the server may have closed
    /// it while idle).
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[&str],
        body: &[u8],
    ) -> io::Result<Response> {
        self.request.clear();
        self.request.extend_from_slice(method.as_bytes());
        self.request.push(b' ');
        self.request.extend_from_slice(path.as_bytes());
        self.request.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        self.request.extend_from_slice(self.address.to_string().as_bytes());
        self.request.extend_from_slice(b"\r\n");
        for header in headers {
            self.request.extend_from_slice(header.as_bytes());
            self.request.extend_from_slice(b"\r\n");
        }
        if !body.is_empty() || method != "GET" {
            let typed = headers
                .iter()
                .any(|header| header.to_ascii_lowercase().starts_with("content-type:"));
            if !typed {
                self.request.extend_from_slice(b"Content-Type: application/json\r\n");
            }
            self.request.extend_from_slice(b"Content-Length: ");
            self.request.extend_from_slice(body.len().to_string().as_bytes());
            self.request.extend_from_slice(b"\r\n");
        }
        self.request.extend_from_slice(b"\r\n");
        self.request.extend_from_slice(body);

        let reused = self.stream.is_some();
        match self.exchange() {
            Err(_) if reused => {
                self.reset();
                self.exchange()
            }
            result => result,
        }
    }

    /// The server this client talks to.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Forgets the connection, so the next request opens a new one.
    pub fn reset(&mut self) {
        self.stream = None;
        self.pending.clear();
    }

    fn exchange(&mut self) -> io::Result<Response> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => self.stream.insert(connect(self.address)?),
        };
        let result =
            stream.write_all(&self.request).and_then(|()| read_response(stream, &mut self.pending));
        match result {
            Ok((response, close)) => {
                if close {
                    self.reset();
                }
                Ok(response)
            }
            Err(error) => {
                self.reset();
                Err(error)
            }
        }
    }
}

fn connect(address: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(stream)
}

/// A JSON answer: its status, its body parsed (`null` when it is not JSON), and `Retry-After` when sent.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body as JSON.
    pub body: Value,
    /// The `Retry-After` header.
    pub retry_after: Option<String>,
}

impl Client {
    /// A client for a base URL such as `http://127.0.0.1:8080` (the form `traceline serve` announces).
    pub fn for_url(base_url: &str) -> io::Result<Self> {
        let address = base_url.trim_start_matches("http://").trim_end_matches('/');
        let address = address.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not an http://ip:port URL: {base_url}"),
            )
        })?;
        Ok(Client::new(address))
    }

    /// Sends a JSON request (or none, for `body: None`) with one credential header (`("X-API-Key", key)` or
    /// `("Authorization", "Bearer …")`) and reads the answer as JSON.
    pub fn json(
        &mut self,
        method: &str,
        path: &str,
        (header, value): (&str, &str),
        body: Option<&Value>,
    ) -> io::Result<Reply> {
        let header = format!("{header}: {value}");
        let body = body.map(Value::to_string).unwrap_or_default();
        let response = self.send(method, path, &[&header], body.as_bytes())?;
        Ok(Reply {
            status: response.status,
            body: serde_json::from_slice(&response.body).unwrap_or(Value::Null),
            retry_after: response.retry_after,
        })
    }
}
