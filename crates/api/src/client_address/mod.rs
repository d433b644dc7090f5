//! The address of the client behind a request, for everything keyed by it (the per-address rate limit, the
//! request log). It is the TCP peer, unless the peer is one of `TRACELINE_TRUSTED_PROXIES`: then the proxies'
//! `X-Forwarded-For` or `Forwarded` header says who the client is: the right-most address in it that is not
//! itself a trusted proxy.
//!
//! Headers from any other peer are ignored: a client can write whatever it likes there, and believing it would
//! give it a fresh rate-limit budget per request, or let it spend someone else's.
//!
//! ```
//! use actix_web::HttpRequest;
//! use traceline_api::client_address::ClientAddress;
//!
//! fn key_for_a_limit(request: &HttpRequest) -> Option<String> {
//!     ClientAddress::of(request).map(|client| client.ip().to_string())
//! }
//! ```

mod forwarded;
mod trusted;

use std::fmt;
use std::net::IpAddr;

use actix_web::http::header::{HeaderName, FORWARDED, X_FORWARDED_FOR};
use actix_web::{web, HttpMessage, HttpRequest};

pub use trusted::TrustedProxies;

/// The resolved address of the client that sent a request. IPv4-mapped IPv6 addresses are given as IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(IpAddr);

impl ClientAddress {
    /// The client address of `request`, resolved once and remembered in its extensions. `None` only for a
    /// request with no TCP peer (built in a test). The trusted proxies are the app's `web::Data<TrustedProxies>`
    /// (`create_app` registers `Settings::trusted_proxies`); without it, the peer.
    pub fn of(request: &HttpRequest) -> Option<Self> {
        if let Some(known) = request.extensions().get::<ClientAddress>() {
            return Some(*known);
        }
        let peer = request.peer_addr()?.ip();
        let address = match request.app_data::<web::Data<TrustedProxies>>() {
            Some(trusted) => Self::resolve(peer, request, trusted),
            None => ClientAddress(peer.to_canonical()),
        };
        request.extensions_mut().insert(address);
        Some(address)
    }

    fn resolve(peer: IpAddr, request: &HttpRequest, trusted: &TrustedProxies) -> Self {
        // Without a trusted proxy in front (every request, by default) the headers are not even read.
        if !trusted.contains(peer) {
            return ClientAddress(peer.to_canonical());
        }
        let lines = |name: HeaderName| {
            request.headers().get_all(name).map(|value| value.as_bytes()).collect::<Vec<_>>()
        };
        let x_forwarded_for = forwarded::x_forwarded_for(lines(X_FORWARDED_FOR));
        let forwarded = forwarded::forwarded(lines(FORWARDED));
        ClientAddress(forwarded::resolve(peer, trusted, &x_forwarded_for, &forwarded))
    }

    /// The address.
    pub fn ip(self) -> IpAddr {
        self.0
    }
}

impl fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
