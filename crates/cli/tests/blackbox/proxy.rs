//! Behind a reverse proxy: with `TRACELINE_TRUSTED_PROXIES` naming it, clients behind the proxy are limited
//! separately and logged by their own address, and a forged `X-Forwarded-For` from a peer that is not a trusted
//! proxy changes nothing. The proxy's connections come from 127.0.0.2; everyone else's from 127.0.0.1.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};

use socket2::{Domain, Socket, Type};

use crate::support::database::{Backend, TestDatabase};
use crate::support::Server;

const PROXY: &str = "127.0.0.2";
const ELSEWHERE: &str = "127.0.0.1";

/// `GET /v1/health` over a connection from `source`, with `headers`: the status and the remaining IP budget.
fn health_from(source: &str, server: &str, headers: &[(&str, &str)]) -> (u16, Option<u64>) {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::new(source.parse().unwrap(), 0).into()).unwrap();
    socket.connect(&server.parse::<SocketAddr>().unwrap().into()).unwrap();
    let mut stream = TcpStream::from(socket);
    let mut request = format!("GET /v1/health HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let remaining = response.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("x-ratelimit-remaining").then(|| value.trim().parse().ok())?
    });
    (status, remaining)
}

fn behind_a_trusted_proxy(backend: Backend) {
    let database = TestDatabase::new(backend);
    let log = database.dir.path().join("server.log");
    let settings = [
        ("TRACELINE_TRUSTED_PROXIES", PROXY),
        ("TRACELINE_IP_RATE_PER_MIN", "3"),
        ("RUST_LOG", "warn,actix_web::middleware::logger=info"),
    ];
    let server = Server::start_with(&database.url, &settings, Some(&log));
    let address = server.address().to_owned();

    // Two clients behind the proxy, each with a budget of its own. The second's header also carries an entry
    // the client wrote itself, left of the one the proxy appended: only the proxy's counts.
    let ada = [("X-Forwarded-For", "203.0.113.7")];
    let grace = [("X-Forwarded-For", "198.51.100.1, 203.0.113.8")];
    for remaining in [2, 1, 0] {
        assert_eq!(health_from(PROXY, &address, &ada), (200, Some(remaining)));
        assert_eq!(health_from(PROXY, &address, &grace), (200, Some(remaining)));
    }
    assert_eq!(health_from(PROXY, &address, &ada).0, 429);
    assert_eq!(
        health_from(PROXY, &address, &[("Forwarded", "for=203.0.113.8;proto=https")]).0,
        429
    );
    assert_eq!(health_from(PROXY, &address, &[("X-Forwarded-For", "203.0.113.9")]), (200, Some(2)));

    // A peer that is not a trusted proxy names a new client each time: it is counted as itself all the same.
    for (forged, remaining) in [("192.0.2.1", 2), ("192.0.2.2", 1), ("192.0.2.3", 0)] {
        assert_eq!(
            health_from(ELSEWHERE, &address, &[("X-Forwarded-For", forged)]),
            (200, Some(remaining))
        );
    }
    let both = [("X-Forwarded-For", "192.0.2.4"), ("Forwarded", "for=192.0.2.5")];
    assert_eq!(health_from(ELSEWHERE, &address, &both).0, 429);
    // ... and the clients it named were charged nothing.
    assert_eq!(health_from(PROXY, &address, &[("X-Forwarded-For", "192.0.2.1")]), (200, Some(2)));

    assert!(server.terminate().success());
    let log = std::fs::read_to_string(&log).unwrap();
    let logged = |client: &str, status: u16| {
        log.contains(&format!("] {client} \"GET /v1/health HTTP/1.1\" {status}"))
    };
    assert!(logged("203.0.113.7", 200) && logged("203.0.113.7", 429), "{log}");
    assert!(logged("203.0.113.8", 200) && logged("203.0.113.8", 429), "{log}");
    assert!(logged(ELSEWHERE, 200) && logged(ELSEWHERE, 429), "{log}");
    assert!(logged("192.0.2.1", 200), "the proxy's client 192.0.2.1: {log}");
    for never in ["127.0.0.2", "198.51.100.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"] {
        assert!(
            !log.contains(&format!("] {never} ")),
            "{never} is no client of any request: {log}"
        );
    }
}

#[test]
fn behind_a_trusted_proxy_on_sqlite() {
    behind_a_trusted_proxy(Backend::Sqlite);
}

#[test]
fn behind_a_trusted_proxy_on_postgres() {
    behind_a_trusted_proxy(Backend::Postgres);
}
