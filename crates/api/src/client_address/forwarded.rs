//! Reading forwarding headers: `X-Forwarded-For` and `Forwarded` (RFC 7239) as lists of hops, and choosing the
//! client's address among them. Pure: header lines in, an address out.

use std::net::{IpAddr, Ipv4Addr};

use super::trusted::TrustedProxies;

/// One hop of a forwarding header: the address a proxy saw, or `None` when the entry names no address
/// (`unknown`, an obfuscated identifier, garbage).
pub(crate) type Hop = Option<IpAddr>;

/// The hops of every `X-Forwarded-For` line, in order: farthest (the original client) first, nearest last.
pub(crate) fn x_forwarded_for<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Vec<Hop> {
    let mut hops = Vec::new();
    for line in lines {
        match std::str::from_utf8(line) {
            Ok(line) => hops.extend(line.split(',').map(node)),
            Err(_) => hops.push(None),
        }
    }
    hops
}

/// The `for=` hops of every `Forwarded` line, in order: one per element, `None` for an element without one.
pub(crate) fn forwarded<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Vec<Hop> {
    let mut hops = Vec::new();
    for line in lines {
        let Ok(line) = std::str::from_utf8(line) else {
            hops.push(None);
            continue;
        };
        for element in split_unquoted(line, ',') {
            let for_node = split_unquoted(element, ';').into_iter().find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| unquote(value.trim()))
            });
            hops.push(for_node.and_then(|value| node(&value)));
        }
    }
    hops
}

/// The client's address: the peer itself unless it is a trusted proxy; otherwise, walking a forwarding header
/// from its nearest hop, the first address that is not a trusted proxy. If every hop is trusted, the farthest
/// one; if a hop names no address, the trusted hop that wrote it (nothing beyond it can be believed).
///
/// A client can add either header itself; only the one its proxy appends to is trustworthy, and the proxy's
/// hop is the one read. When a request carries both and they name different clients, neither is believed and
/// the request counts as the proxy's own, so a forged header never earns a fresh address.
pub(crate) fn resolve(
    peer: IpAddr,
    trusted: &TrustedProxies,
    x_forwarded_for: &[Hop],
    forwarded: &[Hop],
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let client_in =
        |hops: &[Hop]| (!hops.is_empty()).then(|| nearest_untrusted(peer, trusted, hops));
    match (client_in(x_forwarded_for), client_in(forwarded)) {
        (Some(one), Some(other)) if one != other => peer,
        (Some(client), _) | (None, Some(client)) => client,
        (None, None) => peer,
    }
}

fn nearest_untrusted(peer: IpAddr, trusted: &TrustedProxies, hops: &[Hop]) -> IpAddr {
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if trusted.contains(*ip) => nearest = *ip,
            Some(ip) => return *ip,
            None => break,
        }
    }
    nearest
}

/// An address as proxies write it: bare, `[v6]`, `[v6]:port` or `v4:port`.
fn node(text: &str) -> Hop {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(bracketed) = text.strip_prefix('[') {
        let (inside, _port) = bracketed.split_once(']')?;
        return inside.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
    }
    let (host, _port) = text.rsplit_once(':')?;
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Splits on `separator` outside double-quoted strings (RFC 7239 values may be quoted and contain `,` or `;`).
fn split_unquoted(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (index, character) in text.char_indices() {
        match character {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..index]);
                start = index + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The value of a token or a quoted string (quotes removed, backslash escapes resolved).
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut unquoted = String::with_capacity(inner.len());
    let mut escaped = false;
    for character in inner.chars() {
        if escaped || character != '\\' {
            unquoted.push(character);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    unquoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn lines(lines: &[&'static str]) -> Vec<&'static [u8]> {
        lines.iter().map(|line| line.as_bytes()).collect()
    }

    fn trusted(list: &str) -> TrustedProxies {
        list.parse().unwrap()
    }

    #[test]
    fn x_forwarded_for_lists_every_line_in_order() {
        let hops = x_forwarded_for(lines(&[
            "203.0.113.7, [2001:db8::1]:443",
            "198.51.100.2:8080 ,unknown,",
        ]));
        assert_eq!(
            hops,
            [
                Some(ip("203.0.113.7")),
                Some(ip("2001:db8::1")),
                Some(ip("198.51.100.2")),
                None,
                None
            ]
        );
        assert_eq!(x_forwarded_for([b"\xff\xfe".as_slice()]), [None]);
        assert_eq!(x_forwarded_for(lines(&["::ffff:192.0.2.1"])), [Some(ip("192.0.2.1"))]);
    }

    #[test]
    fn forwarded_reads_the_for_parameter_of_each_element() {
        let hops = forwarded(lines(&[
            "for=192.0.2.60;proto=http;by=203.0.113.43, FOR=\"[2001:db8:cafe::17]:4711\"",
            "proto=https, for=unknown, for=_hidden, for=\"198.51.100.9:80\";host=\"a,b;c\"",
        ]));
        assert_eq!(
            hops,
            [
                Some(ip("192.0.2.60")),
                Some(ip("2001:db8:cafe::17")),
                None,
                None,
                None,
                Some(ip("198.51.100.9"))
            ]
        );
        assert_eq!(forwarded(lines(&["for=\"\\192.0.2.1\""])), [Some(ip("192.0.2.1"))]);
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let claims = [Some(ip("198.51.100.1"))];
        assert_eq!(resolve(ip("203.0.113.9"), &trusted(""), &claims, &claims), ip("203.0.113.9"));
        assert_eq!(
            resolve(ip("203.0.113.9"), &trusted("10.0.0.0/8"), &claims, &[]),
            ip("203.0.113.9")
        );
        assert_eq!(resolve(ip("::ffff:203.0.113.9"), &trusted(""), &[], &[]), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let proxies = trusted("10.0.0.0/8");
        let hops = x_forwarded_for(lines(&["198.51.100.66, 203.0.113.7, 10.0.0.5"]));
        // 198.51.100.66 was written by the client itself: only the hop the trusted proxy added counts.
        assert_eq!(resolve(ip("10.0.0.2"), &proxies, &hops, &[]), ip("203.0.113.7"));
        let all_trusted = x_forwarded_for(lines(&["10.0.0.9, 10.0.0.5"]));
        assert_eq!(resolve(ip("10.0.0.2"), &proxies, &all_trusted, &[]), ip("10.0.0.9"));
        let unknown = x_forwarded_for(lines(&["203.0.113.7, unknown, 10.0.0.5"]));
        assert_eq!(resolve(ip("10.0.0.2"), &proxies, &unknown, &[]), ip("10.0.0.5"));
        assert_eq!(resolve(ip("10.0.0.2"), &proxies, &[], &[]), ip("10.0.0.2"));
        let by_forwarded = forwarded(lines(&["for=203.0.113.8"]));
        assert_eq!(resolve(ip("10.0.0.2"), &proxies, &[], &by_forwarded), ip("203.0.113.8"));
    }

    #[test]
    fn two_headers_that_disagree_count_as_the_proxy() {
        let proxies = trusted("10.0.0.2");
        let appended = x_forwarded_for(lines(&["203.0.113.7"]));
        let forged = forwarded(lines(&["for=198.51.100.1"]));
        assert_eq!(resolve(ip("10.0.0.2"), &proxies, &appended, &forged), ip("10.0.0.2"));
        let agreeing = forwarded(lines(&["for=203.0.113.7"]));
        assert_eq!(resolve(ip("10.0.0.2"), &proxies, &appended, &agreeing), ip("203.0.113.7"));
    }
}
