//! Reading HTTP/1.1 responses off a byte stream (fixed length, chunked, or until close), and the one JSON
//! lookup the bench needs.

use std::io::{self, Read};

/// The largest response head accepted; anything bigger is not the server we are measuring.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How many bytes one read asks for.
const READ_CHUNK: usize = 64 * 1024;

/// One response: its status and its whole body.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// The `name=value` of the first `Set-Cookie`, for scenarios that sign in.
    pub cookie: Option<String>,
    /// The `Retry-After` header, for workloads that back off.
    pub retry_after: Option<String>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text, for error messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How the body of a response is delimited.
#[derive(Debug, PartialEq, Eq)]
enum BodyLength {
    Fixed(usize),
    Chunked,
    UntilClose,
}

/// A parsed status line and headers.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: u16,
    length: BodyLength,
    /// Whether the server closes the connection after this response.
    close: bool,
    /// Bytes of the head, blank line included.
    size: usize,
    cookie: Option<String>,
    retry_after: Option<String>,
}

/// Reads one response from `reader`, starting with the bytes already in `pending` and leaving any bytes past
/// its end there. Returns the response and whether the connection is closed after it.
pub fn read_response(
    reader: &mut impl Read,
    pending: &mut Vec<u8>,
) -> io::Result<(Response, bool)> {
    let head = loop {
        if let Some(head) = parse_head(pending)? {
            break head;
        }
        if pending.len() > MAX_HEAD_BYTES {
            return Err(invalid("response head over 64 KiB"));
        }
        fill(reader, pending)?;
    };
    let (body, close) = match head.length {
        BodyLength::Fixed(length) => {
            let end = head.size + length;
            while pending.len() < end {
                fill(reader, pending)?;
            }
            let body = pending[head.size..end].to_vec();
            pending.drain(..end);
            (body, head.close)
        }
        BodyLength::Chunked => loop {
            if let Some((body, used)) = decode_chunked(&pending[head.size..])? {
                pending.drain(..head.size + used);
                break (body, head.close);
            }
            fill(reader, pending)?;
        },
        BodyLength::UntilClose => {
            reader.read_to_end(pending)?;
            let body = pending[head.size..].to_vec();
            pending.clear();
            (body, true)
        }
    };
    let Head { status, cookie, retry_after, .. } = head;
    Ok((Response { status, body, cookie, retry_after }, close))
}

/// Appends one read's worth of bytes to `pending`; the peer closing the connection is an error here.
fn fill(reader: &mut impl Read, pending: &mut Vec<u8>) -> io::Result<()> {
    let start = pending.len();
    pending.resize(start + READ_CHUNK, 0);
    let read = loop {
        match reader.read(&mut pending[start..]) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            read => break read,
        }
    };
    pending.truncate(start + read.as_ref().map_or(0, |&n| n));
    match read? {
        0 => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection")),
        _ => Ok(()),
    }
}

/// The head at the start of `bytes`, or `None` while its blank line has not arrived.
fn parse_head(bytes: &[u8]) -> io::Result<Option<Head>> {
    let Some(end) = bytes.windows(4).position(|window| window == b"\r\n\r\n") else {
        return Ok(None);
    };
    let text =
        std::str::from_utf8(&bytes[..end]).map_err(|_| invalid("response head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(invalid(&format!("not an HTTP/1.x status line: {status_line:?}")));
    }
    let status: u16 = parts
        .next()
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid(&format!("no status code in {status_line:?}")))?;
    let mut close = version == "HTTP/1.0";
    let mut length = None;
    let mut chunked = false;
    let mut cookie = None;
    let mut retry_after = None;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or_else(|| invalid("malformed header line"))?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().map_err(|_| invalid("bad Content-Length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("set-cookie") && cookie.is_none() {
            cookie = value.split(';').next().map(str::to_owned);
        } else if name.eq_ignore_ascii_case("retry-after") {
            retry_after = Some(value.to_owned());
        }
    }
    let length = match (status, chunked, length) {
        (100..=199 | 204 | 304, _, _) => BodyLength::Fixed(0),
        (_, true, _) => BodyLength::Chunked,
        (_, false, Some(length)) => BodyLength::Fixed(length),
        (_, false, None) => BodyLength::UntilClose,
    };
    Ok(Some(Head { status, length, close, size: end + 4, cookie, retry_after }))
}

/// A whole chunked body at the start of `bytes` and the bytes it used, or `None` while it is incomplete.
fn decode_chunked(bytes: &[u8]) -> io::Result<Option<(Vec<u8>, usize)>> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(line_end) = find_crlf(&bytes[at..]) else { return Ok(None) };
        let line = std::str::from_utf8(&bytes[at..at + line_end])
            .map_err(|_| invalid("chunk size is not UTF-8"))?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| invalid("bad chunk size"))?;
        at += line_end + 2;
        if size == 0 {
            // Trailers, if any, end with a blank line.
            loop {
                let Some(line_end) = find_crlf(&bytes[at..]) else { return Ok(None) };
                at += line_end + 2;
                if line_end == 0 {
                    return Ok(Some((body, at)));
                }
            }
        }
        if bytes.len() < at + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&bytes[at..at + size]);
        at += size + 2;
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|window| window == b"\r\n")
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// Every string value of `"field": "…"` in a JSON text, in order. Enough for the ids and keys the bench reads
/// back (none of them holds an escaped quote), without a JSON dependency.
pub fn string_fields(json: &str, field: &str) -> Vec<String> {
    let needle = format!("\"{field}\"");
    let mut values = Vec::new();
    let mut rest = json;
    while let Some(found) = rest.find(&needle) {
        rest = &rest[found + needle.len()..];
        let Some(after_colon) = rest.trim_start().strip_prefix(':') else { continue };
        let Some(value) = after_colon.trim_start().strip_prefix('"') else { continue };
        if let Some(end) = value.find('"') {
            values.push(value[..end].to_owned());
        }
    }
    values
}

/// The text of a JSON document from the value of its first `"field":` on, leading whitespace removed; `None`
/// when no such field is there. Enough to check a number or an object's presence without a JSON dependency.
pub fn field_value<'a>(json: &'a str, field: &str) -> Option<&'a str> {
    let needle = format!("\"{field}\"");
    let mut rest = json;
    while let Some(found) = rest.find(&needle) {
        rest = &rest[found + needle.len()..];
        if let Some(value) = rest.trim_start().strip_prefix(':') {
            return Some(value.trim_start());
        }
    }
    None
}

/// The non-negative integer value of the first `"field":` of a JSON document.
pub fn integer_field(json: &str, field: &str) -> Option<u64> {
    let value = field_value(json, field)?;
    let digits = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    value[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use super::{
        field_value, integer_field, parse_head, read_response, string_fields, BodyLength, Head,
    };

    /// A reader that hands out its bytes a few at a time, like a socket under load.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(self.0.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn head_with_content_length() {
        let bytes =
            b"HTTP/1.1 201 Created\r\ncontent-length: 12\r\ncontent-type: application/json\r\n\r\n";
        let head = parse_head(bytes).unwrap().unwrap();
        assert_eq!(
            head,
            Head {
                status: 201,
                length: BodyLength::Fixed(12),
                close: false,
                size: bytes.len(),
                cookie: None,
                retry_after: None,
            }
        );
    }

    #[test]
    fn incomplete_head_waits_for_more() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n").unwrap(), None);
    }

    #[test]
    fn head_flags_chunked_close_and_bodiless_statuses() {
        let chunked =
            parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap().unwrap();
        assert_eq!(chunked.length, BodyLength::Chunked);
        let close = parse_head(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(close.close);
        assert_eq!(close.length, BodyLength::UntilClose);
        let no_content = parse_head(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap().unwrap();
        assert_eq!(no_content.length, BodyLength::Fixed(0));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 abc OK\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n").is_err());
    }

    #[test]
    fn reads_back_to_back_responses_in_small_pieces() {
        let bytes = b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"ok\":true}\
                      HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}";
        let mut reader = Trickle(bytes, 7);
        let mut pending = Vec::new();
        let (first, close) = read_response(&mut reader, &mut pending).unwrap();
        assert_eq!((first.status, first.text().as_str(), close), (200, "{\"ok\":true}", false));
        let (second, _) = read_response(&mut reader, &mut pending).unwrap();
        assert_eq!((second.status, second.text().as_str()), (201, "{}"));
        assert!(pending.is_empty());
    }

    #[test]
    fn decodes_chunked_bodies_with_trailers() {
        let bytes = b"HTTP/1.1 207 Multi-Status\r\ntransfer-encoding: chunked\r\n\r\n\
                      4\r\n{\"a\"\r\n6;ext=1\r\n:[1,2]\r\n1\r\n}\r\n0\r\nx-trailer: 1\r\n\r\nHTTP/1.1";
        let mut reader = Trickle(bytes, 5);
        let mut pending = Vec::new();
        let (response, _) = read_response(&mut reader, &mut pending).unwrap();
        assert_eq!((response.status, response.text().as_str()), (207, "{\"a\":[1,2]}"));
        assert!(response.is_success());
        // What follows the body stays for the next response, read or not.
        assert_eq!([pending.as_slice(), reader.0].concat(), b"HTTP/1.1");
    }

    #[test]
    fn body_until_close() {
        let mut reader = Cursor::new(b"HTTP/1.0 500 Internal Server Error\r\n\r\noops".to_vec());
        let mut pending = Vec::new();
        let (response, close) = read_response(&mut reader, &mut pending).unwrap();
        assert_eq!((response.status, response.text().as_str(), close), (500, "oops", true));
        assert!(!response.is_success());
    }

    #[test]
    fn truncated_body_is_an_error() {
        let mut reader = Cursor::new(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc".to_vec());
        assert!(read_response(&mut reader, &mut Vec::new()).is_err());
    }

    #[test]
    fn string_fields_finds_every_value() {
        let json = r#"{"keys": [{"id":"1","key": "PST-AAAA-BBBB"},{"id":"2","key":"PST-CCCC-DDDD","keys":"x"}]}"#;
        assert_eq!(string_fields(json, "key"), ["PST-AAAA-BBBB", "PST-CCCC-DDDD"]);
        assert_eq!(string_fields(json, "id"), ["1", "2"]);
        assert!(string_fields(json, "apiKey").is_empty());
    }

    #[test]
    fn field_values_and_integers() {
        let json = r#"{"cohortStats": {"sessionCount" : 10000, "metrics": {}, "percentiles":{"durationMs":0.5}}}"#;
        assert_eq!(integer_field(json, "sessionCount"), Some(10_000));
        assert!(field_value(json, "percentiles").is_some_and(|value| value.starts_with('{')));
        assert_eq!(field_value(json, "missing"), None);
        assert_eq!(integer_field(r#"{"cohortStats":null}"#, "cohortStats"), None);
        // A quoted mention that is not a field is skipped.
        assert_eq!(
            integer_field(r#"{"a":"sessionCount","sessionCount":3}"#, "sessionCount"),
            Some(3)
        );
    }
}
