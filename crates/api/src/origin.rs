//! The same-origin rule of spec §11: a state-changing request that a browser authenticates with the sign-in
//! cookie must say it comes from Traceline's own pages (`Origin`, else `Referer`), or it is refused with 403.
//! `SameSite=Strict` already keeps the cookie off cross-site requests in current browsers; this check is the
//! second lock, for older browsers and for sibling sites that count as "same site".

use actix_web::http::header;
use actix_web::http::Method;
use actix_web::HttpRequest;

/// Whether the method changes state (everything but GET, HEAD and OPTIONS).
pub(crate) fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request names this server as its origin. With `public_url` set (`TRACELINE_PUBLIC_URL`) the
/// origin must be exactly that URL's; otherwise its host and port must be those of the `Host` header (the scheme
/// is not compared, since TLS may end at a proxy in front). A request naming no origin at all is refused.
pub(crate) fn is_same_origin(request: &HttpRequest, public_url: Option<&str>) -> bool {
    let headers = request.headers();
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|value| value.to_str().ok())
        .and_then(Origin::of_url);
    let Some(claimed) = claimed else {
        return false;
    };
    match public_url.and_then(Origin::of_url) {
        Some(expected) => claimed == expected,
        None => headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|host| claimed.authority == normalize_authority(host, &claimed.scheme)),
    }
}

/// A URL's scheme and authority, lower-case, default ports left out.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    authority: String,
}

impl Origin {
    /// The origin of an absolute `http(s)` URL; `None` for anything else (including the literal `null`).
    fn of_url(url: &str) -> Option<Origin> {
        let (scheme, rest) = url.trim().split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        // Credentials in a URL (`user@host`) are not part of its origin.
        let authority = authority.rsplit('@').next().unwrap_or_default();
        if authority.is_empty() {
            return None;
        }
        let authority = normalize_authority(authority, &scheme);
        Some(Origin { scheme, authority })
    }
}

/// `host[:port]` in lower case, without the scheme's default port.
fn normalize_authority(authority: &str, scheme: &str) -> String {
    let authority = authority.trim().to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    authority.strip_suffix(default_port).map(str::to_owned).unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn request(headers: &[(&str, &str)]) -> HttpRequest {
        let mut request = TestRequest::post().uri("/v1/assessments");
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        request.to_http_request()
    }

    #[test]
    fn the_origin_must_match_the_host_or_the_public_url() {
        let same = request(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")]);
        assert!(is_same_origin(&same, None));
        let other = request(&[("host", "127.0.0.1:8080"), ("origin", "http://evil.test")]);
        assert!(!is_same_origin(&other, None));
        let other_port =
            request(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:9090")]);
        assert!(!is_same_origin(&other_port, None));
        let null = request(&[("host", "127.0.0.1:8080"), ("origin", "null")]);
        assert!(!is_same_origin(&null, None));
        let nothing = request(&[("host", "127.0.0.1:8080")]);
        assert!(!is_same_origin(&nothing, None), "no Origin and no Referer");
        let referer = request(&[
            ("host", "review.example"),
            ("referer", "https://review.example/sessions?x"),
        ]);
        assert!(is_same_origin(&referer, None));
        let behind_proxy =
            request(&[("host", "10.0.0.5:8080"), ("origin", "https://review.example")]);
        assert!(is_same_origin(&behind_proxy, Some("https://review.example/")));
        assert!(!is_same_origin(&behind_proxy, Some("https://other.example")));
        let default_port =
            request(&[("host", "review.example"), ("origin", "https://Review.Example:443")]);
        assert!(is_same_origin(&default_port, Some("https://review.example")));
        let credentials = request(&[("host", "a.test"), ("origin", "http://a.test@evil.test")]);
        assert!(!is_same_origin(&credentials, None));
    }

    #[test]
    fn only_reads_are_safe() {
        assert!(!changes_state(&Method::GET));
        assert!(!changes_state(&Method::HEAD));
        assert!(changes_state(&Method::POST));
        assert!(changes_state(&Method::PATCH));
        assert!(changes_state(&Method::DELETE));
    }
}
