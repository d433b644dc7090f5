//! Lenient reads of hook payloads: a missing field, or one of the wrong type, is `None`, never an error, since
//! the tools add, rename and drop fields between versions.

use serde_json::Value;

/// The value at a path of object keys.
pub(crate) fn at<'a>(payload: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(payload, |value, key| value.get(key))
}

/// The string at a path, when it is a string.
pub(crate) fn str_at<'a>(payload: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(payload, path).and_then(Value::as_str)
}

/// The non-negative integer at a path (`3` and `3.0`; not `3.5`, `-1` or `"3"`).
pub(crate) fn count_at(payload: &Value, path: &[&str]) -> Option<u64> {
    let value = at(payload, path)?;
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|number| number.fract() == 0.0 && *number >= 0.0 && *number < 9e15)
            .map(
                // Checked above: whole, non-negative and well inside u64 and f64's exact range.
                |number| number as u64,
            )
    })
}

/// The boolean at a path.
pub(crate) fn bool_at(payload: &Value, path: &[&str]) -> Option<bool> {
    at(payload, path).and_then(Value::as_bool)
}

/// The hook event's name (`hook_event_name`), or `""`.
pub(crate) fn event_name(payload: &Value) -> &str {
    str_at(payload, &["hook_event_name"]).unwrap_or_default()
}
