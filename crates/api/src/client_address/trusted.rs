//! `TRACELINE_TRUSTED_PROXIES`: the addresses and networks whose forwarding headers are believed.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// One address, or a network in CIDR notation (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => same_prefix(
                u128::from(network.to_bits()),
                u128::from(ip.to_bits()),
                self.prefix,
                32,
            ),
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                same_prefix(network.to_bits(), ip.to_bits(), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` of `width` bits of two numbers agree.
fn same_prefix(one: u128, other: u128, prefix: u8, width: u32) -> bool {
    let ignored = width - u32::from(prefix);
    one.checked_shr(ignored).unwrap_or(0) == other.checked_shr(ignored).unwrap_or(0)
}

impl FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let written: IpAddr = address
            .parse()
            .map_err(|_| format!("'{text}' is not an IP address or a network like 10.0.0.0/8"))?;
        let width: u8 = if written.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= width)
                .ok_or_else(|| format!("'{text}' has a prefix length outside 0..={width}"))?,
        };
        // IPv4-mapped IPv6 peers are compared as IPv4, so a mapped entry is turned into the IPv4 network it covers.
        let address = written.to_canonical();
        let prefix = if address.is_ipv4() && written.is_ipv6() {
            prefix
                .checked_sub(96)
                .ok_or_else(|| format!("'{text}' covers more than IPv4-mapped addresses"))?
        } else {
            prefix
        };
        Ok(Network { address, prefix })
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// The peers whose `X-Forwarded-For` and `Forwarded` headers are believed; empty (the default) believes none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<Network>,
}

impl TrustedProxies {
    /// Whether no proxy is trusted, so forwarding headers are never read.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Whether `ip` is a trusted proxy (IPv4-mapped IPv6 addresses count as their IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|network| network.contains(ip))
    }
}

/// Parses a comma-separated list of addresses and CIDR networks, spaces allowed: `"10.0.0.2, 192.168.0.0/16"`.
/// An empty string is the empty list.
impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let networks = text
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies { networks })
    }
}

/// Lists the networks as a canonical comma-separated string (`10.0.0.2/32, 192.168.0.0/16`).
impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self.networks.iter().map(ToString::to_string).collect();
        f.write_str(&entries.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_networks_of_both_families() {
        let trusted: TrustedProxies = " 10.0.0.2 , 192.168.0.0/16,fd00::/8,::1,".parse().unwrap();
        assert_eq!(trusted.to_string(), "10.0.0.2/32, 192.168.0.0/16, fd00::/8, ::1/128");
        for inside in
            ["10.0.0.2", "192.168.0.1", "192.168.255.255", "fd12:3456::1", "::1", "::ffff:10.0.0.2"]
        {
            assert!(trusted.contains(ip(inside)), "{inside}");
        }
        for outside in ["10.0.0.3", "192.169.0.1", "fe80::1", "::2", "203.0.113.7"] {
            assert!(!trusted.contains(ip(outside)), "{outside}");
        }
    }

    #[test]
    fn prefix_zero_trusts_a_whole_family_and_mapped_entries_are_ipv4() {
        let everyone: TrustedProxies = "0.0.0.0/0".parse().unwrap();
        assert!(everyone.contains(ip("203.0.113.7")));
        assert!(!everyone.contains(ip("2001:db8::1")));
        let mapped: TrustedProxies = "::ffff:10.0.0.0/104, ::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(mapped.to_string(), "10.0.0.0/8, 192.0.2.1/32");
        assert!(mapped.contains(ip("10.1.2.3")) && mapped.contains(ip("::ffff:10.1.2.3")));
        assert!("::ffff:10.0.0.0/64".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn empty_means_none_and_mistakes_are_named() {
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        assert!(" , ".parse::<TrustedProxies>().unwrap().is_empty());
        let error = "10.0.0.1, proxy.internal".parse::<TrustedProxies>().unwrap_err();
        assert!(error.contains("'proxy.internal' is not an IP address"), "{error}");
        let error = "10.0.0.0/33".parse::<TrustedProxies>().unwrap_err();
        assert!(error.contains("outside 0..=32"), "{error}");
        assert!("10.0.0.0/x".parse::<TrustedProxies>().is_err());
    }
}
