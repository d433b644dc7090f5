//! Small text helpers of the views: clipping long candidate text for display, and percent-encoding a value for
//! a URL. Escaping for HTML is the templates' job (askama escapes every value it prints).

/// Text cut for display: its start and its end, with how many characters were left out between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clipped {
    pub(crate) head: String,
    /// Characters not shown; 0 when the text is whole.
    pub(crate) omitted: usize,
    pub(crate) tail: String,
}

impl Clipped {
    /// Whether anything was left out.
    pub(crate) fn is_clipped(&self) -> bool {
        self.omitted > 0
    }
}

/// `text` whole if it has at most `max_chars` characters, else its first and last `max_chars / 2` (the end of
/// a command's output is where the error usually is).
pub(crate) fn clip(text: &str, max_chars: usize) -> Clipped {
    let total = text.chars().count();
    if total <= max_chars {
        return Clipped { head: text.to_owned(), omitted: 0, tail: String::new() };
    }
    let keep = max_chars / 2;
    let head: String = text.chars().take(keep).collect();
    let tail: String = text.chars().skip(total - keep).collect();
    Clipped { head, omitted: total - 2 * keep, tail }
}

/// `text` cut to `max_chars` characters, with an ellipsis when it was longer.
pub(crate) fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// Bytes `text` takes once escaped for HTML: askama writes each of `<`, `>`, `&`, `"` and `'` as a five-byte
/// numeric reference.
pub(crate) fn escaped_len(text: &str) -> usize {
    text.len()
        + 4 * text.bytes().filter(|byte| matches!(byte, b'<' | b'>' | b'&' | b'"' | b'\'')).count()
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for a value inside a query string.
pub(crate) fn percent_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_keeps_its_start_and_end() {
        assert_eq!(
            clip("short", 10),
            Clipped { head: "short".into(), omitted: 0, tail: String::new() }
        );
        let clipped = clip("abcdefghij", 4);
        assert_eq!(
            (clipped.head.as_str(), clipped.omitted, clipped.tail.as_str()),
            ("ab", 6, "ij")
        );
        assert!(clipped.is_clipped());
        assert_eq!(clip("ééééé", 2).head, "é", "cut on characters, not bytes");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
        assert_eq!(escaped_len("a<b"), 7);
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(percent_encode("/sessions?q=a b&x=<"), "/sessions%3Fq%3Da%20b%26x%3D%3C");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }
}
