//! Secrets recognised by the name they are assigned to: `DB_PASSWORD=…`, `"apiToken": "…"`, `--password …`,
//! `SECRET_KEY=…`, `Authorization: Basic …`, `Cookie: …`.

use super::tokens::looks_like_key;
use super::{run, Span, REDACTED};

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

/// What a name says about the value assigned to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    /// A secret whatever it looks like (`password`, `token`, …).
    Secret,
    /// A key, secret when the value looks like one (`SECRET_KEY`, `OPENAI_KEY`, `AccountKey`): `SORT_KEY=created_at`
    /// and `primary_key: id` are not.
    Key,
    /// A cookie header, whose whole value to the end of the line is credentials.
    Cookie,
}

fn named(name: &str) -> Option<Named> {
    if SECRET_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
        || name.trim_start_matches('-') == "pass"
        || name.ends_with("_pass")
    {
        Some(Named::Secret)
    } else if name.ends_with("cookie") {
        Some(Named::Cookie)
    } else if name.ends_with("key") {
        Some(Named::Key)
    } else {
        None
    }
}

/// `name = value` (or `:`; or `--name value`) where the name ends in a secret word: the value is redacted.
pub(crate) fn assignment(bytes: &[u8], name_start: usize, name_end: usize) -> Option<Span> {
    let name = std::str::from_utf8(&bytes[name_start..name_end]).ok()?.to_ascii_lowercase();
    let is_flag = name.starts_with("--");
    let named = named(&name)?;
    let mut at = name_end;
    // `"password": "…"`, `config['SECRET_KEY'] = …`: the name's closing quote and bracket.
    if matches!(bytes.get(at), Some(b'"' | b'\'')) {
        at += 1;
    }
    if bytes.get(at) == Some(&b']') {
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
        // `Cookie: a=1; b=2`: every pair, to the end of the header.
        _ if named == Named::Cookie => (at, run(bytes, at, |byte| byte != b'\n' && byte != b'\r')),
        _ => (at, run(bytes, at, |byte| byte > b' ' && !b"\"',;&)]}>".contains(&byte))),
    };
    let value = &bytes[start..end];
    let placeholder =
        matches!(value.first(), Some(b'$' | b'%' | b'<' | b'{' | b'[' | b'*' | b'^' | b'~'))
            || NOT_SECRETS.iter().any(|word| value.eq_ignore_ascii_case(word.as_bytes()))
            || is_call(bytes, start)
            || is_version(value);
    let secret = match named {
        Named::Secret => true,
        Named::Key => looks_like_key(value),
        Named::Cookie => value.contains(&b'='),
    };
    (secret && value.len() >= MIN_VALUE_LEN && !placeholder).then_some(Span {
        start,
        end,
        with: REDACTED,
    })
}

/// `token = read_token()`, `password = getpass.getpass()`: the value is a call in code, not a literal.
fn is_call(bytes: &[u8], value_start: usize) -> bool {
    let name_end = run(bytes, value_start, |byte| {
        byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b':')
    });
    name_end > value_start && bytes.get(name_end) == Some(&b'(')
}

/// `1.4.2`, `0.5`: a version, as package manifests assign to names like `cookie` or `jsonwebtoken`.
fn is_version(value: &[u8]) -> bool {
    value.first().is_some_and(u8::is_ascii_digit)
        && value.contains(&b'.')
        && value.iter().all(|byte| byte.is_ascii_digit() || matches!(byte, b'.' | b'x' | b'*'))
}
