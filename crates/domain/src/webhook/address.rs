//! Which destination addresses a webhook may reach: public ones only, unless the operator allows private ones
//! (`TRACELINE_WEBHOOK_ALLOW_PRIVATE=1`). Otherwise anyone who may create a webhook could make the server post to
//! its own loopback services, the cloud metadata address or the internal network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `address` is on the public internet: not loopback, link-local, private, shared (CGNAT), unspecified,
/// broadcast, multicast, documentation or otherwise reserved. IPv4 addresses embedded in IPv6 (mapped,
/// compatible, NAT64) are judged as IPv4.
pub fn is_public_address(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    let [a, b, c, _] = address.octets();
    !(address.is_unspecified()
        || address.is_loopback()
        || address.is_private()
        || address.is_link_local()
        || address.is_broadcast()
        || address.is_documentation()
        || address.is_multicast()
        || a == 0
        // 100.64.0.0/10, shared address space (carrier-grade NAT).
        || (a == 100 && (64..128).contains(&b))
        // 192.0.0.0/24, IETF protocol assignments.
        || (a == 192 && b == 0 && c == 0)
        // 198.18.0.0/15, benchmarking.
        || (a == 198 && (b == 18 || b == 19))
        // 240.0.0.0/4, reserved.
        || a >= 240)
}

fn is_public_v6(address: Ipv6Addr) -> bool {
    let first = address.segments()[0];
    !(address.is_unspecified()
        || address.is_loopback()
        || address.is_multicast()
        // fc00::/7, unique local.
        || (first & 0xfe00) == 0xfc00
        // fe80::/10, link-local; fec0::/10, the deprecated site-local.
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        // 2001:db8::/32, documentation.
        || (first == 0x2001 && address.segments()[1] == 0x0db8))
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) or NAT64
/// (`64:ff9b::a.b.c.d`) address.
fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = address.segments();
    let low = Ipv4Addr::new(
        (segments[6] >> 8) as u8,
        segments[6] as u8,
        (segments[7] >> 8) as u8,
        segments[7] as u8,
    );
    let nat64 = segments[0] == 0x64 && segments[1] == 0xff9b && segments[2..6] == [0, 0, 0, 0];
    let mapped = segments[..5] == [0, 0, 0, 0, 0] && segments[5] == 0xffff;
    let compatible = segments[..6] == [0, 0, 0, 0, 0, 0] && !address.is_loopback();
    (nat64 || mapped || (compatible && !address.is_unspecified())).then_some(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public_address(text.parse().unwrap())
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for address in [
            "127.0.0.1",
            "127.8.9.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.10",
            "::",
            "::1",
            "fe80::1",
            "fd00::1",
            "fc12::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!public(address), "{address} counted as public");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for address in
            ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:1.1.1.1"]
        {
            assert!(public(address), "{address} counted as private");
        }
    }
}
