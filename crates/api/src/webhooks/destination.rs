//! Where a webhook may post: http(s) URLs whose host resolves only to public addresses, unless the operator
//! allows private ones. Checked when a webhook is created (a clear 400), and again by the resolver every delivery
//! connects through, so a name that later resolves to a private address (DNS rebinding) reaches nothing.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use traceline_domain::webhook::{is_public_address, WebhookUrl};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Why a destination is refused, as the sentence for `details` and the delivery log.
pub(crate) fn refusal(addresses: &[SocketAddr], allow_private: bool) -> Option<String> {
    if allow_private {
        return None;
    }
    addresses.iter().find(|address| !is_public_address(address.ip())).map(|address| {
        format!(
            "resolves to {}, a loopback, link-local or private address; only public addresses are allowed",
            address.ip()
        )
    })
}

/// How long a name may take to resolve, at creation and at delivery.
pub(crate) const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Resolves `url`'s host (within [`RESOLVE_TIMEOUT`]) and checks its addresses. Blocking (DNS): call it off the
/// async executor.
pub(crate) fn check(url: &WebhookUrl, allow_private: bool) -> Result<(), String> {
    let target = (url.host().to_owned(), url.port());
    let (answer, answered) = mpsc::sync_channel(1);
    // getaddrinfo has no timeout of its own; a lookup that outlives the wait ends on its own, unheard.
    thread::spawn(move || drop(answer.send(target.to_socket_addrs().map(Iterator::collect))));
    let addresses: Vec<SocketAddr> = match answered.recv_timeout(RESOLVE_TIMEOUT) {
        Ok(Ok(addresses)) => addresses,
        Ok(Err(_)) => return Err(format!("host {} does not resolve", url.host())),
        Err(_) => {
            return Err(format!(
                "host {} did not resolve within {} s",
                url.host(),
                RESOLVE_TIMEOUT.as_secs()
            ))
        }
    };
    if addresses.is_empty() {
        return Err(format!("host {} does not resolve", url.host()));
    }
    refusal(&addresses, allow_private).map_or(Ok(()), Err)
}

/// ureq's resolver, refusing hosts with a non-public address; what it returns is all a delivery may connect to.
#[derive(Debug)]
pub(crate) struct GuardedResolver {
    pub(crate) allow_private: bool,
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let resolved = DefaultResolver::default().resolve(uri, config, timeout)?;
        match refusal(&resolved, self.allow_private) {
            None => Ok(resolved),
            Some(reason) => Err(ureq::Error::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{} {reason}", uri.host().unwrap_or_default()),
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_refused_unless_allowed() {
        let url = WebhookUrl::parse("http://127.0.0.1:9/hook").unwrap();
        assert!(check(&url, false).unwrap_err().contains("127.0.0.1"));
        assert_eq!(check(&url, true), Ok(()));
        let url = WebhookUrl::parse("http://localhost:9/hook").unwrap();
        assert!(check(&url, false).is_err());
    }

    #[test]
    fn unknown_hosts_are_refused() {
        let url = WebhookUrl::parse("https://no-such-host.invalid/hook").unwrap();
        assert!(check(&url, true).unwrap_err().contains("does not resolve"));
    }
}
