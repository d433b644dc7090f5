//! A webhook's destination as written: an absolute `http` or `https` URL with a host. Whether the host may be
//! reached (it must not resolve to a private address) takes DNS, so the server decides that, at creation and again
//! at every delivery.

/// Longest URL accepted.
pub const MAX_URL_CHARS: usize = 2048;

/// A syntactically acceptable destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    text: String,
    host: String,
    port: u16,
}

impl WebhookUrl {
    /// Checks the URL's form; the error is the sentence for `details`.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.chars().count() > MAX_URL_CHARS {
            return Err("must be at most 2048 characters");
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters");
        }
        let lower = text.to_ascii_lowercase();
        let (rest, default_port) = if lower.starts_with("https://") {
            (&text["https://".len()..], 443)
        } else if lower.starts_with("http://") {
            (&text["http://".len()..], 80)
        } else {
            return Err("must be an http:// or https:// URL");
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let (host, port) = split_port(host_port).ok_or("must have a valid port")?;
        if host.is_empty() {
            return Err("must name a host");
        }
        Ok(WebhookUrl {
            text: text.to_owned(),
            host: host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase(),
            port: port.unwrap_or(default_port),
        })
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The URL with any `user:password@` taken out, for logs.
    pub fn without_credentials(&self) -> String {
        let (scheme, rest) = self.text.split_at(self.text.find("://").map_or(0, |at| at + 3));
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        match rest[..authority_end].rfind('@') {
            Some(at) => format!("{scheme}{}", &rest[at + 1..]),
            None => self.text.clone(),
        }
    }

    /// The host: a name, or an address without IPv6 brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit or the scheme's.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// `host` and its port, if it names one; `None` when the port is not a number.
fn split_port(host_port: &str) -> Option<(&str, Option<u16>)> {
    let port_start = if host_port.starts_with('[') {
        // [v6]:port — the port, if any, follows the closing bracket.
        let close = host_port.find(']')?;
        match &host_port[close + 1..] {
            "" => return Some((&host_port[..=close], None)),
            rest => rest.strip_prefix(':').map(|_| close + 1)?,
        }
    } else {
        match host_port.rfind(':') {
            Some(colon) => colon,
            None => return Some((host_port, None)),
        }
    };
    let port = &host_port[port_start + 1..];
    if port.is_empty() {
        return Some((&host_port[..port_start], None));
    }
    Some((&host_port[..port_start], Some(port.parse().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports_are_found() {
        let url = WebhookUrl::parse("https://ATS.example.com/hooks?x=1").unwrap();
        assert_eq!((url.host(), url.port()), ("ats.example.com", 443));
        let url = WebhookUrl::parse("http://user:pw@10.0.0.1:8080/x?a=b@c").unwrap();
        assert_eq!((url.host(), url.port()), ("10.0.0.1", 8080));
        assert_eq!(url.without_credentials(), "http://10.0.0.1:8080/x?a=b@c");
        let plain = WebhookUrl::parse("https://ats.example.com/a@b").unwrap();
        assert_eq!(plain.without_credentials(), "https://ats.example.com/a@b");
        let url = WebhookUrl::parse("http://[::1]:9000").unwrap();
        assert_eq!((url.host(), url.port()), ("::1", 9000));
        let url = WebhookUrl::parse("HTTP://[fe80::1]/").unwrap();
        assert_eq!((url.host(), url.port()), ("fe80::1", 80));
    }

    #[test]
    fn other_schemes_and_malformed_urls_are_refused() {
        for bad in [
            "ftp://example.com",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://example.com:port/",
            "https://example.com:99999/",
            "https://exa mple.com/",
            "example.com/hook",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad} was accepted");
        }
        assert!(WebhookUrl::parse(&format!("https://a.example/{}", "x".repeat(2048))).is_err());
    }
}
