//! Canonical JSON (spec §10.2): what JavaScript's `JSON.stringify` prints for a value whose object keys were
//! sorted, so a signature made by the Promptster CLI (JavaScript) and one made here hash the same bytes.
//!
//! Keys are sorted by code point (the byte order of UTF-8), there is no whitespace, strings escape only what
//! JSON requires (`"`, `\`, and control characters; never `<`, `>`, `&` or non-ASCII), and numbers are printed
//! as JavaScript prints them: integers exactly, `12.0` as `12`, `1e21` as `1e+21`, `1e-7` as `1e-7`.

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// The canonical JSON text of `value`.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    push_value(&mut out, value);
    out
}

fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => push_number(out, number),
        Value::String(text) => push_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                push_value(out, item);
            }
            out.push(']');
        }
        Value::Object(object) => {
            // Sorted here rather than trusted to the map: serde_json keeps insertion order when any crate in
            // the build turns on its `preserve_order` feature.
            let mut entries: Vec<(&String, &Value)> = object.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                push_string(out, key);
                out.push(':');
                push_value(out, item);
            }
            out.push('}');
        }
    }
}

/// A JSON string as `JSON.stringify` writes it.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if u32::from(control) < 0x20 => {
                _ = write!(out, "\\u{:04x}", u32::from(control));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

/// A number as JavaScript prints it. Integers that arrived as integers are printed exactly: a JavaScript signer
/// can only have sent what its own `JSON.stringify` printed, which reads back to the same text.
pub(crate) fn push_number(out: &mut String, number: &Number) {
    if let Some(integer) = number.as_i64() {
        _ = write!(out, "{integer}");
    } else if let Some(integer) = number.as_u64() {
        _ = write!(out, "{integer}");
    } else {
        push_double(out, number.as_f64().unwrap_or(f64::NAN));
    }
}

/// ECMAScript's Number::toString(10): the shortest digits that read back to the same double (which Rust's
/// formatting also finds), laid out in plain notation for decimal exponents from -6 to 20 and in exponent
/// notation (`1.5e+21`, `1e-7`) outside.
fn push_double(out: &mut String, value: f64) {
    if !value.is_finite() {
        // JSON.stringify writes NaN and the infinities as null; serde_json cannot hold them anyway.
        out.push_str("null");
        return;
    }
    if value == 0.0 {
        // -0 prints as 0.
        out.push('0');
        return;
    }
    if value < 0.0 {
        out.push('-');
    }
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let count = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    // The decimal point sits after `point` digits: value = 0.digits × 10^point.
    let point = exponent + 1;
    let zeros = |n: i64| "0".repeat(usize::try_from(n).unwrap_or(0));
    if count <= point && point <= 21 {
        out.push_str(&digits);
        out.push_str(&zeros(point - count));
    } else if 0 < point && point <= 21 {
        let (whole, fraction) = digits.split_at(usize::try_from(point).unwrap_or(0));
        _ = write!(out, "{whole}.{fraction}");
    } else if -6 < point && point <= 0 {
        _ = write!(out, "0.{}{digits}", zeros(-point));
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            _ = write!(out, ".{rest}");
        }
        let sign = if point > 0 { '+' } else { '-' };
        _ = write!(out, "e{sign}{}", (point - 1).abs());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn number(value: f64) -> String {
        let mut out = String::new();
        push_double(&mut out, value);
        out
    }

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        let cases: [(f64, &str); 17] = [
            (12.0, "12"),
            (2.5, "2.5"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (-1.5, "-1.5"),
            (100.0, "100"),
            (123_456.789, "123456.789"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e-6, "0.000001"),
            (1.5e-6, "0.0000015"),
            (1e-7, "1e-7"),
            (1.25e-7, "1.25e-7"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.30000000000000004, "0.30000000000000004"),
        ];
        for (value, printed) in cases {
            assert_eq!(number(value), printed, "{value:e}");
        }
        assert_eq!(canonical_json(&json!(u64::MAX)), "18446744073709551615");
        assert_eq!(canonical_json(&json!(i64::MIN)), "-9223372036854775808");
    }

    #[test]
    fn keys_are_sorted_at_every_depth_and_strings_escaped_minimally() {
        let value = json!({"b": [1, {"z": null, "a": true}], "a": "<&> ünï \"q\" \\ \n\t\u{1}\u{7f}\u{2028}"});
        assert_eq!(
            canonical_json(&value),
            "{\"a\":\"<&> ünï \\\"q\\\" \\\\ \\n\\t\\u0001\u{7f}\u{2028}\",\"b\":[1,{\"a\":true,\"z\":null}]}"
        );
        assert_eq!(canonical_json(&json!({"é": 1, "z": 2, "Z": 3})), "{\"Z\":3,\"z\":2,\"é\":1}");
        assert_eq!(canonical_json(&json!("\u{8}\u{c}\r")), "\"\\b\\f\\r\"");
        assert_eq!(canonical_json(&json!([])), "[]");
        assert_eq!(canonical_json(&json!({})), "{}");
    }
}
