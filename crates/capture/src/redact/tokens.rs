//! Secrets recognised by their shape: provider tokens by prefix, AWS key ids, JWTs, bearer tokens, private key blocks,
//! and credentials inside URLs and command lines.

use super::{
    is_bearer_token, is_token, is_word, run, starts_with_ignore_case, Span, REDACTED,
    REDACTED_PRIVATE_KEY,
};

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
    ("xoxc-", 10),
    ("xoxd-", 10),
    ("sk_live_", 16),
    ("sk_test_", 16),
    ("rk_live_", 16),
    ("rk_test_", 16),
    ("AIza", 30),
    ("ya29.", 20),
    ("hf_", 30),
    ("pst_sess_", 20),
    ("psk_live_", 20),
];

/// Candidate keys' alphabet: no `0`, `1`, `I` or `O` (`traceline_domain::candidate_key::KEY_ALPHABET`).
const CANDIDATE_KEY_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A PEM (`-----BEGIN RSA PRIVATE KEY-----`) or PGP (`-----BEGIN PGP PRIVATE KEY BLOCK-----`) private key, whole.
pub(crate) fn private_key(bytes: &[u8], at: usize) -> Option<Span> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    if !bytes[at..].starts_with(BEGIN) {
        return None;
    }
    let header_end = at + BEGIN.len() + find(&bytes[at + BEGIN.len()..], b"-----")? + 5;
    // Public keys and certificates have the same armour and are not secrets.
    find(&bytes[at..header_end], b"PRIVATE KEY")?;
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

/// `://user:password@` → `://user:[REDACTED]@`; and `://<key>@host` (a Sentry DSN, a token as the user) →
/// `://[REDACTED]@host` when the user looks like a key: 16 characters or more, letters and digits.
pub(crate) fn url_credentials(bytes: &[u8], at: usize) -> Option<Span> {
    if !bytes[at..].starts_with(b"://") {
        return None;
    }
    let is_userinfo =
        |byte: u8| -> bool { !matches!(byte, b'/' | b'@' | b':' | b'?' | b'#') && byte > b' ' };
    let user_start = at + 3;
    let user_end = run(bytes, user_start, is_userinfo);
    match bytes.get(user_end) {
        Some(b':') if user_end > user_start => {
            let start = user_end + 1;
            let end = run(bytes, start, |byte| is_userinfo(byte) || byte == b':');
            (end > start && bytes.get(end) == Some(&b'@')).then_some(Span {
                start,
                end,
                with: REDACTED,
            })
        }
        Some(b'@') if looks_like_key(&bytes[user_start..user_end]) => {
            Some(Span { start: user_start, end: user_end, with: REDACTED })
        }
        _ => None,
    }
}

/// Long enough, and mixing letters and digits, as generated keys do and words and names do not.
pub(crate) fn looks_like_key(value: &[u8]) -> bool {
    value.len() >= 16
        && value.iter().any(u8::is_ascii_digit)
        && value.iter().any(u8::is_ascii_alphabetic)
        && value.iter().all(|byte| is_bearer_token(*byte))
}

/// How far back a flag looks for the program it belongs to: a command line, not a whole output.
const LINE_LOOKBACK_BYTES: usize = 4096;

/// The password of `curl -u user:password` (`--user`, `--user=`), and of `mysql -pPASSWORD` on a line that runs a
/// MySQL client (`mysql`, `mysqldump`, `mysqladmin`, `mariadb`, …), where `-p` takes its value without a space.
/// Other programs give these flags other meanings (`docker run -u 1000:1000`, `mkdir -p`), so the line must run
/// the program.
pub(crate) fn command_password(bytes: &[u8], at: usize) -> Option<Span> {
    let rest = &bytes[at..];
    if !(rest.starts_with(b"-u ") || rest.starts_with(b"--user") || rest.starts_with(b"-p")) {
        return None;
    }
    let line = &bytes[line_start(bytes, at)..at];
    let flag =
        [&b"-u "[..], b"--user ", b"--user="].into_iter().find(|flag| rest.starts_with(flag));
    if let Some(flag) = flag.filter(|_| runs(line, &[b"curl"])) {
        let value_start = run(bytes, at + flag.len(), |byte| byte == b' ');
        let quoted = matches!(bytes.get(value_start), Some(b'"' | b'\''));
        let user_start = value_start + usize::from(quoted);
        let user_end =
            run(bytes, user_start, |byte| byte > b' ' && !matches!(byte, b':' | b'"' | b'\''));
        if bytes.get(user_end) != Some(&b':') || user_end == user_start || bytes[user_start] == b'$'
        {
            return None;
        }
        let start = user_end + 1;
        let end = run(bytes, start, |byte| byte > b' ' && !matches!(byte, b'"' | b'\''));
        let reference = bytes.get(start) == Some(&b'$');
        return (end > start && !reference).then_some(Span { start, end, with: REDACTED });
    }
    let mysql: &[&[u8]] =
        &[b"mysql", b"mysqldump", b"mysqladmin", b"mysqlimport", b"mariadb", b"mariadb-dump"];
    if rest.starts_with(b"-p") && runs(line, mysql) {
        let start = at + 2;
        let end = run(bytes, start, |byte| byte > b' ' && !matches!(byte, b'"' | b'\'' | b';'));
        let value = &bytes[start..end];
        let placeholder = matches!(value.first(), None | Some(b'$' | b'-' | b'<'));
        return (!placeholder).then_some(Span { start, end, with: REDACTED });
    }
    None
}

fn line_start(bytes: &[u8], at: usize) -> usize {
    let from = at.saturating_sub(LINE_LOOKBACK_BYTES);
    bytes[from..at]
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(from, |newline| from + newline + 1)
}

/// Whether one of `programs` is a word of `line`.
fn runs(line: &[u8], programs: &[&[u8]]) -> bool {
    line.split(|byte| !is_word(*byte)).any(|word| programs.contains(&word))
}

/// A provider token by its prefix, an AWS access key id, a candidate key, or a JWT. The prefix is kept.
pub(crate) fn token(bytes: &[u8], at: usize) -> Option<Span> {
    if let Some(span) =
        jwt(bytes, at).or_else(|| aws_key_id(bytes, at)).or_else(|| candidate_key(bytes, at))
    {
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

/// `PST-XXXX-XXXX` in the candidate keys' alphabet, in either case, as a whole word: `PST-` stays.
fn candidate_key(bytes: &[u8], at: usize) -> Option<Span> {
    let key = bytes.get(at..at + 13)?;
    let in_alphabet = |part: &[u8]| {
        part.iter().all(|byte| CANDIDATE_KEY_ALPHABET.contains(&byte.to_ascii_uppercase()))
    };
    let shaped = key[..4].eq_ignore_ascii_case(b"PST-")
        && key[8] == b'-'
        && in_alphabet(&key[4..8])
        && in_alphabet(&key[9..13]);
    let whole_word = bytes.get(at + 13).is_none_or(|byte| !is_word(*byte));
    (shaped && whole_word).then_some(Span { start: at + 4, end: at + 13, with: REDACTED })
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
pub(crate) fn bearer(bytes: &[u8], at: usize) -> Option<Span> {
    if !starts_with_ignore_case(bytes, at, "bearer ") {
        return None;
    }
    let start = run(bytes, at + 6, |byte| byte == b' ');
    let end = run(bytes, start, is_bearer_token);
    (end - start >= 16).then_some(Span { start, end, with: REDACTED })
}
