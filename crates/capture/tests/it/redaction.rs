//! Secrets are redacted, near misses are not, and long text is cut on char boundaries with a marker.

use std::borrow::Cow;

use serde_json::json;
use traceline_capture::redact::{redact, truncate};
use traceline_capture::{Tool, OUTPUT_LIMIT_BYTES};

use crate::support::{context, fixture, map_checked};

#[test]
fn provider_tokens_keep_only_their_prefix() {
    let cases = [
        ("key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx-yz done", "key sk-ant-[REDACTED] done"),
        ("OPENAI sk-proj-AbCdEfGhIjKlMnOpQrStUvWx", "OPENAI sk-proj-[REDACTED]"),
        ("sk-AbCdEfGhIjKlMnOpQrStUvWxYz012345", "sk-[REDACTED]"),
        ("ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "ghp_[REDACTED]"),
        ("gho_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "gho_[REDACTED]"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijk", "github_pat_[REDACTED]"),
        ("aws AKIAIOSFODNN7EXAMPLE.", "aws AKIA[REDACTED]."),
        ("slack xoxb-123456789012-abcdefghij", "slack xoxb-[REDACTED]"),
        ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe sk_live_[REDACTED]"),
        ("google AIzaSyA-1234567890abcdefghijklmnopqrstu", "google AIza[REDACTED]"),
    ];
    for (text, expected) in cases {
        assert_eq!(redact(text), expected, "{text}");
    }
}

#[test]
fn headers_jwts_private_keys_and_url_passwords() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    let cases = [
        (
            "curl -H 'Authorization: Bearer abcdefghijklmnop1234' x".to_owned(),
            "curl -H 'Authorization: Bearer [REDACTED]' x".to_owned(),
        ),
        (
            "Authorization: Basic dXNlcjpwYXNzd29yZA==".to_owned(),
            "Authorization: Basic [REDACTED]".to_owned(),
        ),
        ("bearer abcdefghijklmnop1234".to_owned(), "bearer [REDACTED]".to_owned()),
        (format!("token {jwt} end"), "token [REDACTED] end".to_owned()),
        (
            "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----\nb"
                .to_owned(),
            "a\n[REDACTED PRIVATE KEY]\nb".to_owned(),
        ),
        (
            "cut -----BEGIN PRIVATE KEY-----\nMIIEow".to_owned(),
            "cut [REDACTED PRIVATE KEY]".to_owned(),
        ),
        (
            "postgres://app:s3cr3t-pw@db:5432/app".to_owned(),
            "postgres://app:[REDACTED]@db:5432/app".to_owned(),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(redact(&text), expected, "{text}");
    }
}

#[test]
fn secret_assignments() {
    let cases = [
        ("DB_PASSWORD=hunter22 npm start", "DB_PASSWORD=[REDACTED] npm start"),
        ("export GITHUB_TOKEN=abc123def456", "export GITHUB_TOKEN=[REDACTED]"),
        ("{\"password\": \"correct horse\"}", "{\"password\": \"[REDACTED]\"}"),
        ("client_secret: 'xyz-123-abc'", "client_secret: '[REDACTED]'"),
        ("mysql --password s3cr3tpw -u root", "mysql --password [REDACTED] -u root"),
        ("https://x.test/?api_key=abcd1234&q=1", "https://x.test/?api_key=[REDACTED]&q=1"),
        ("apiToken = \"q1w2e3r4\"", "apiToken = \"[REDACTED]\""),
    ];
    for (text, expected) in cases {
        assert_eq!(redact(text), expected, "{text}");
    }
}

#[test]
fn near_misses_are_left_alone() {
    let untouched = [
        "pip install sk-learn-utils",
        "the password is wrong",
        "if password == stored_hash:",
        "PASSWORD=$DB_PASSWORD ./run",
        "token: ${{ secrets.GITHUB_TOKEN }}",
        "max_tokens=4096 token_count=12",
        "secret: true",
        "pwd=abc",
        "Bearer of bad news",
        "AKIA is a prefix, AKIAIOSFODNN7EXAMPLEXX is too long",
        "task-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx",
        "ghp_short",
        "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
        "https://example.com/path:with@sign",
        "héllo wörld ✓ sk-",
        "",
    ];
    for text in untouched {
        assert!(matches!(redact(text), Cow::Borrowed(_)), "{text} became {}", redact(text));
    }
}

#[test]
fn redaction_is_idempotent() {
    let text = "TOKEN=abcdefgh sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx postgres://u:pw12@h";
    let once = redact(text).into_owned();
    assert_eq!(redact(&once), once);
}

#[test]
fn truncation_keeps_both_ends_on_char_boundaries() {
    assert!(matches!(truncate("short", 10), Cow::Borrowed("short")));
    let text = "é".repeat(1000); // 2000 bytes
    let cut = truncate(&text, 100);
    assert!(cut.len() <= 100, "{}", cut.len());
    assert!(cut.starts_with('é') && cut.ends_with('é'));
    let marker_at = cut.find("…[truncated ").unwrap();
    let marker_end = marker_at + cut[marker_at..].find(']').unwrap() + 1;
    let marker = &cut[marker_at..marker_end];
    let removed: usize =
        marker["…[truncated ".len()..marker.len() - " bytes]".len()].parse().unwrap();
    // What is kept and what is said to be removed add up to the whole.
    assert_eq!(cut.len() - marker.len() + removed, text.len());
    // A budget smaller than the marker gives the marker alone.
    assert_eq!(truncate("abcdefghijklmnopqrstuvwxyz0123456789", 3), "…[truncated 36 bytes]");
}

#[test]
fn mapped_events_are_redacted_and_bounded() {
    let mut payload = fixture(Tool::ClaudeCode, "PostToolUse-Bash-cargo-test.json");
    payload["tool_input"]["command"] =
        json!("ANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx cargo test");
    let summary = "\ntest result: ok. 6 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out";
    let huge = format!("{}{summary}", "x".repeat(100_000));
    payload["tool_response"]["stdout"] = json!(huge);
    let envelopes = map_checked(Tool::ClaudeCode, &payload, &context());
    let command = &envelopes[0]["data"];
    assert_eq!(command["command"], "ANTHROPIC_API_KEY=[REDACTED] cargo test");
    let stdout = command["stdout"].as_str().unwrap();
    assert!(stdout.len() <= OUTPUT_LIMIT_BYTES && stdout.contains("…[truncated "));
    assert!(stdout.ends_with(summary));
    // The summary is read from the whole output, before the cut.
    assert_eq!(envelopes[1]["data"]["passed"], 6);
    assert_eq!(envelopes[1]["data"]["command"], "ANTHROPIC_API_KEY=[REDACTED] cargo test");
}
