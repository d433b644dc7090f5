//! Privacy before anything leaves the machine: secrets are redacted and long outputs cut.
//!
//! [`redact`] replaces, in any text:
//!
//! - provider keys and tokens, keeping their telling prefix: Anthropic `sk-ant-…`, OpenAI `sk-…`/`sk-proj-…`,
//!   GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_`, GitLab `glpat-`, npm `npm_`, AWS access key ids
//!   `AKIA…`/`ASIA…`, Slack `xoxb-`/`xoxp-`/…, Stripe `sk_live_`/`sk_test_`/`rk_live_`, Google `AIza…`; each
//!   only at the start of a word and only with a token's length after it, so `sk-learn` or `AKIA` in prose stay;
//! - JSON Web Tokens (`eyJ….eyJ….…`);
//! - `Bearer <token>`, and the credentials of `Authorization: <scheme> <credentials>`;
//! - PEM private key blocks, whole;
//! - the password of `scheme://user:password@host`;
//! - the value of assignments whose name ends in a secret word (`password`, `passwd`, `secret`, `token`,
//!   `api_key`/`apikey`, `access_key`, `private_key`, `authorization`, `pass`), written `name=value`,
//!   `name: value`, `"name": "value"` or `--name value`. Values that cannot be secrets are left: references
//!   (`$TOKEN`, `%TOKEN%`, `<token>`), `true`/`false`/`null`, and values under 4 characters; so is `name == x`.
//!
//! The matching is hand-written: a single pass over the bytes, linear in the text, with no regex engine to ship.

use std::borrow::Cow;

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";
/// What replaces a PEM private key block.
pub const REDACTED_PRIVATE_KEY: &str = "[REDACTED PRIVATE KEY]";

/// Token prefixes, and how many token characters must follow for it to be a token rather than a word.
const PREFIXES: &[(&str, usize)] = &[
    ("sk-ant-", 20),
    ("sk-proj-", 20),
    ("sk-", 20),
    ("ghp_", 20),
    ("gho_", 20),
    ("ghu_", 20),
    ("ghs_", 20),
    ("ghr_", 20),
    ("github_pat_", 20),
    ("glpat-", 20),
    ("npm_", 30),
    ("xoxb-", 10),
    ("xoxp-", 10),
    ("xoxa-", 10),
    ("xoxr-", 10),
    ("xoxs-", 10),
    ("xoxe-", 10),
    ("sk_live_", 16),
    ("sk_test_", 16),
    ("rk_live_", 16),
    ("rk_test_", 16),
    ("AIza", 30),
];

/// Names whose assigned value is a secret when the name ends with one of them (`DB_PASSWORD`, `apiToken`).
const SECRET_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "api-key",
    "apikey",
    "access_key",
    "private_key",
    "authorization",
];

/// Values that are not secrets whatever name they are given.
const NOT_SECRETS: &[&str] = &["true", "false", "null", "none", "undefined", "nil"];

/// The shortest assigned value taken for a secret: shorter ones are flags, types or placeholders far more often.
const MIN_VALUE_LEN: usize = 4;

/// A byte range to replace, always between ASCII bytes, so always on char boundaries.
struct Span {
    start: usize,
    end: usize,
    with: &'static str,
}

/// `text` with every secret it recognises replaced (see the module docs); borrowed when there is none.
pub fn redact(text: &str) -> Cow<'_, str> {
    let spans = find_secrets(text.as_bytes());
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut clean = String::with_capacity(text.len());
    let mut copied = 0;
    for span in spans {
        clean.push_str(&text[copied..span.start]);
        clean.push_str(span.with);
        copied = span.end;
    }
    clean.push_str(&text[copied..]);
    Cow::Owned(clean)
}

/// `text` cut to at most `max_bytes` bytes, keeping its start and its end (where a test summary or the error
/// is) around a marker `…[truncated N bytes]`; borrowed when it fits. Cuts fall on char boundaries. When
/// `max_bytes` is too small for the marker itself, the marker alone is returned.
pub fn truncate(text: &str, max_bytes: usize) -> Cow<'_, str> {
    if text.len() <= max_bytes {
        return Cow::Borrowed(text);
    }
    // The marker's length with the largest number it can hold, so the result never exceeds the budget.
    let reserve = marker(text.len()).len();
    let keep = max_bytes.saturating_sub(reserve);
    let head_end = floor_boundary(text, keep / 2);
    let tail_start = ceil_boundary(text, text.len() - (keep - keep / 2));
    let removed = tail_start - head_end;
    Cow::Owned(format!("{}{}{}", &text[..head_end], marker(removed), &text[tail_start..]))
}

fn marker(removed: usize) -> String {
    format!("…[truncated {removed} bytes]")
}

fn floor_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

fn find_secrets(bytes: &[u8]) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let word_start = at == 0 || !is_word(bytes[at - 1]);
        let found = private_key(bytes, at)
            .or_else(|| url_password(bytes, at))
            .or_else(|| word_start.then(|| token(bytes, at)).flatten())
            .or_else(|| word_start.then(|| bearer(bytes, at)).flatten());
        if let Some(span) = found {
            at = span.end.max(at + 1);
            spans.push(span);
            continue;
        }
        if word_start && is_name(bytes[at]) {
            let name_end = run(bytes, at, is_name);
            if let Some(span) = assignment(bytes, at, name_end) {
                at = span.end;
                spans.push(span);
            } else {
                // Nothing starts inside a name, so skipping it keeps the scan linear.
                at = name_end;
            }
            continue;
        }
        at += 1;
    }
    spans
}

/// Characters that continue a word: a token cannot start right after one.
fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Characters of an assignment's name (`db.password`, `--api-key`, `GITHUB_TOKEN`).
fn is_name(byte: u8) -> bool {
    is_word(byte) || byte == b'.'
}

/// Characters of a token: base64url, plus what bearer tokens and keys use.
fn is_token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-')
}

fn is_bearer_token(byte: u8) -> bool {
    is_token(byte) || matches!(byte, b'.' | b'~' | b'+' | b'/' | b'=')
}

/// The end of the run of `class` bytes starting at `start`.
fn run(bytes: &[u8], start: usize, class: impl Fn(u8) -> bool) -> usize {
    bytes[start..]
        .iter()
        .position(|byte| !class(*byte))
        .map_or(bytes.len(), |length| start + length)
}

fn starts_with_ignore_case(bytes: &[u8], at: usize, word: &str) -> bool {
    bytes.get(at..at + word.len()).is_some_and(|slice| slice.eq_ignore_ascii_case(word.as_bytes()))
}

fn private_key(bytes: &[u8], at: usize) -> Option<Span> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    if !bytes[at..].starts_with(BEGIN) {
        return None;
    }
    let header_end = at + BEGIN.len() + find(&bytes[at + BEGIN.len()..], b"-----")? + 5;
    if !bytes[at..header_end].ends_with(b"PRIVATE KEY-----") {
        return None;
    }
    // To the end of the footer; a block cut short (truncated output) is redacted to the end of the text.
    let end = find(&bytes[header_end..], b"-----END ")
        .and_then(|footer| {
            let footer = header_end + footer + 9;
            find(&bytes[footer..], b"-----").map(|close| footer + close + 5)
        })
        .unwrap_or(bytes.len());
    Some(Span { start: at, end, with: REDACTED_PRIVATE_KEY })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// `://user:password@` → `://user:[REDACTED]@`.
fn url_password(bytes: &[u8], at: usize) -> Option<Span> {
    if !bytes[at..].starts_with(b"://") {
        return None;
    }
    let is_userinfo =
        |byte: u8| -> bool { !matches!(byte, b'/' | b'@' | b':' | b'?' | b'#') && byte > b' ' };
    let user_end = run(bytes, at + 3, is_userinfo);
    if bytes.get(user_end) != Some(&b':') || user_end == at + 3 {
        return None;
    }
    let start = user_end + 1;
    let end = run(bytes, start, |byte| is_userinfo(byte) || byte == b':');
    (end > start && bytes.get(end) == Some(&b'@')).then_some(Span { start, end, with: REDACTED })
}

/// A provider token by its prefix, an AWS access key id, or a JWT. The prefix is kept.
fn token(bytes: &[u8], at: usize) -> Option<Span> {
    if let Some(span) = jwt(bytes, at).or_else(|| aws_key_id(bytes, at)) {
        return Some(span);
    }
    let (prefix, min) =
        PREFIXES.iter().find(|(prefix, _)| bytes[at..].starts_with(prefix.as_bytes()))?;
    let start = at + prefix.len();
    let end = run(bytes, start, is_token);
    (end - start >= *min).then_some(Span { start, end, with: REDACTED })
}

/// `AKIA`/`ASIA` and exactly 16 upper-case letters or digits, as a whole word.
fn aws_key_id(bytes: &[u8], at: usize) -> Option<Span> {
    if !(bytes[at..].starts_with(b"AKIA") || bytes[at..].starts_with(b"ASIA")) {
        return None;
    }
    let start = at + 4;
    let end = run(bytes, start, |byte| byte.is_ascii_uppercase() || byte.is_ascii_digit());
    let whole_word = bytes.get(end).is_none_or(|byte| !is_word(*byte));
    (end - start == 16 && whole_word).then_some(Span { start, end, with: REDACTED })
}

/// Three base64url segments joined by dots, the first two starting `eyJ` (a JSON object's `{"`).
fn jwt(bytes: &[u8], at: usize) -> Option<Span> {
    let mut end = at;
    for segment in 0..3 {
        if segment < 2 && !bytes[end..].starts_with(b"eyJ") {
            return None;
        }
        let segment_end = run(bytes, end, is_token);
        if segment_end - end < 10 {
            return None;
        }
        end = segment_end;
        if segment < 2 {
            if bytes.get(end) != Some(&b'.') {
                return None;
            }
            end += 1;
        }
    }
    Some(Span { start: at, end, with: REDACTED })
}

/// `Bearer <token of 16 characters or more>`, in any case.
fn bearer(bytes: &[u8], at: usize) -> Option<Span> {
    if !starts_with_ignore_case(bytes, at, "bearer ") {
        return None;
    }
    let start = run(bytes, at + 6, |byte| byte == b' ');
    let end = run(bytes, start, is_bearer_token);
    (end - start >= 16).then_some(Span { start, end, with: REDACTED })
}

/// `name = value` (or `:`; or `--name value`) where the name ends in a secret word: the value is redacted.
fn assignment(bytes: &[u8], name_start: usize, name_end: usize) -> Option<Span> {
    let name = std::str::from_utf8(&bytes[name_start..name_end]).ok()?.to_ascii_lowercase();
    let is_flag = name.starts_with("--");
    let is_secret_name = SECRET_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
        || name.trim_start_matches('-') == "pass"
        || name.ends_with("_pass");
    if !is_secret_name {
        return None;
    }
    let mut at = name_end;
    // `"password": "…"`: the name's closing quote.
    if matches!(bytes.get(at), Some(b'"' | b'\'')) {
        at += 1;
    }
    at = run(bytes, at, |byte| byte == b' ' || byte == b'\t');
    match bytes.get(at) {
        Some(b'=') if bytes.get(at + 1) == Some(&b'=') => return None,
        Some(b'=' | b':') => at += 1,
        // `--password hunter2`: a flag followed by its value.
        _ if is_flag && at > name_end => {}
        _ => return None,
    }
    at = run(bytes, at, |byte| byte == b' ' || byte == b'\t');
    if name.ends_with("authorization") {
        // `Authorization: Basic dXNlcjpw…`: keep the scheme, redact the credentials.
        let scheme_end = run(bytes, at, |byte| byte.is_ascii_alphabetic());
        if scheme_end > at && bytes.get(scheme_end) == Some(&b' ') {
            at = run(bytes, scheme_end, |byte| byte == b' ');
        }
    }
    let (start, end) = match bytes.get(at) {
        Some(quote @ (b'"' | b'\'')) => {
            let start = at + 1;
            let length = bytes[start..].iter().position(|byte| byte == quote || *byte == b'\n')?;
            (start, start + length)
        }
        _ => (at, run(bytes, at, |byte| byte > b' ' && !b"\"',;&)]}>".contains(&byte))),
    };
    let value = &bytes[start..end];
    let placeholder = matches!(value.first(), Some(b'$' | b'%' | b'<' | b'{' | b'[' | b'*'))
        || NOT_SECRETS.iter().any(|word| value.eq_ignore_ascii_case(word.as_bytes()));
    (value.len() >= MIN_VALUE_LEN && !placeholder).then_some(Span { start, end, with: REDACTED })
}
