//! Privacy before anything leaves the machine: secrets are redacted and long outputs cut.
//!
//! [`redact`] replaces, in any text:
//!
//! - provider keys and tokens, keeping their telling prefix: Anthropic `sk-ant-…`, OpenAI `sk-…`/`sk-proj-…`,
//!   GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_`, GitLab `glpat-`, npm `npm_`, AWS access key ids
//!   `AKIA…`/`ASIA…`, Slack `xoxb-`/`xoxp-`/`xoxc-`/`xoxd-`/…, Stripe `sk_live_`/`sk_test_`/`rk_live_`, Google
//!   `AIza…` and `ya29.…`, Hugging Face `hf_…`, and Traceline's own session tokens `pst_sess_…`, API keys
//!   `psk_live_…` and candidate keys `PST-XXXX-XXXX`; each only at the start of a word and only with a token's
//!   length after it, so `sk-learn` or `AKIA` in prose stay;
//! - JSON Web Tokens (`eyJ….eyJ….…`);
//! - `Bearer <token>`, and the credentials of `Authorization: <scheme> <credentials>`;
//! - private key blocks, whole: PEM (`-----BEGIN … PRIVATE KEY-----`) and PGP (`… PRIVATE KEY BLOCK-----`);
//! - the password of `scheme://user:password@host`, and a key standing alone as the user (`https://<key>@…`, as in
//!   Sentry DSNs);
//! - the password of `curl -u user:password` (`--user`), and of `mysql -pPASSWORD` (and `mysqldump`, `mariadb`, …);
//! - the value of assignments whose name ends in a secret word ([`assignments`](self)), written `name=value`,
//!   `name: value`, `"name": "value"` or `--name value`; names ending in `key` (`SECRET_KEY`, `OPENAI_KEY`,
//!   `AccountKey`) when the value looks like a key (long, letters and digits); `Cookie:` and `Set-Cookie:` values.
//!   Values that cannot be secrets are left: references (`$TOKEN`, `%TOKEN%`, `<token>`), `true`/`false`/`null`,
//!   version ranges, calls (`token = read_token()`), and values under 4 characters; so is `name == x`.
//!
//! The matching is hand-written: a single pass over the bytes, linear in the text, with no regex engine to ship.

mod assignments;
mod tokens;

use std::borrow::Cow;

use assignments::assignment;
use tokens::{bearer, command_password, private_key, token, url_credentials};

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";
/// What replaces a PEM private key block.
pub const REDACTED_PRIVATE_KEY: &str = "[REDACTED PRIVATE KEY]";

/// A byte range to replace, always between ASCII bytes, so always on char boundaries.
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) with: &'static str,
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
            .or_else(|| url_credentials(bytes, at))
            .or_else(|| word_start.then(|| token(bytes, at)).flatten())
            .or_else(|| word_start.then(|| bearer(bytes, at)).flatten())
            .or_else(|| word_start.then(|| command_password(bytes, at)).flatten());
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
pub(crate) fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Characters of an assignment's name (`db.password`, `--api-key`, `GITHUB_TOKEN`).
pub(crate) fn is_name(byte: u8) -> bool {
    is_word(byte) || byte == b'.'
}

/// Characters of a token: base64url, plus what bearer tokens and keys use.
pub(crate) fn is_token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-')
}

pub(crate) fn is_bearer_token(byte: u8) -> bool {
    is_token(byte) || matches!(byte, b'.' | b'~' | b'+' | b'/' | b'=')
}

/// The end of the run of `class` bytes starting at `start`.
pub(crate) fn run(bytes: &[u8], start: usize, class: impl Fn(u8) -> bool) -> usize {
    bytes[start..]
        .iter()
        .position(|byte| !class(*byte))
        .map_or(bytes.len(), |length| start + length)
}

pub(crate) fn starts_with_ignore_case(bytes: &[u8], at: usize, word: &str) -> bool {
    bytes.get(at..at + word.len()).is_some_and(|slice| slice.eq_ignore_ascii_case(word.as_bytes()))
}
