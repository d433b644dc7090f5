//! Typed reads of fields from a JSON object, recording a [`FieldError`](crate::FieldError) for each misfit.
//!
//! Request bodies are parsed by hand rather than with serde derives so that every rejected field gets its own
//! `details` entry with its path, and so that "absent" and "null" stay distinguishable (PATCH needs both).

use serde_json::{Map, Value};

use crate::validation::ValidationErrors;

/// A JSON object, as used for metadata and event data.
pub type JsonObject = Map<String, Value>;

/// What a request said about one optional field.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    /// The key was not in the object.
    Absent,
    /// The key was present with the value `null`.
    Null,
    /// The key was present with a well-typed value.
    Value(T),
}

impl<T> Field<T> {
    /// `Some` only for a present, non-null value.
    pub fn value(self) -> Option<T> {
        match self {
            Field::Value(value) => Some(value),
            Field::Absent | Field::Null => None,
        }
    }
}

/// Treats `body` as an object, or records why it is not one.
pub fn expect_object<'a>(
    body: &'a Value,
    errors: &mut ValidationErrors,
    path: &str,
) -> Option<&'a JsonObject> {
    match body {
        Value::Object(object) => Some(object),
        _ => {
            errors.push(path, "must be a JSON object");
            None
        }
    }
}

/// Treats `value` as an optional object: `null` is `None`, an object is itself, anything else is recorded.
pub fn optional_object<'a>(
    value: &'a Value,
    errors: &mut ValidationErrors,
    path: &str,
) -> Option<&'a JsonObject> {
    match value {
        Value::Null => None,
        _ => expect_object(value, errors, path),
    }
}

/// Joins a parent path and a key into a dotted path.
pub fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Reads a required string field without copying it: absent and `null` are both "is required".
pub fn required_str<'a>(
    object: &'a JsonObject,
    key: &str,
    errors: &mut ValidationErrors,
    parent: &str,
) -> Option<&'a str> {
    match object.get(key) {
        None | Some(Value::Null) => {
            errors.push(join_path(parent, key), "is required");
            None
        }
        Some(Value::String(text)) => Some(text),
        Some(_) => {
            errors.push(join_path(parent, key), "must be a string");
            None
        }
    }
}

/// Reads an optional string field, checking its length in characters.
pub fn string_field(
    object: &JsonObject,
    key: &str,
    max_chars: usize,
    errors: &mut ValidationErrors,
    parent: &str,
) -> Field<String> {
    match object.get(key) {
        None => Field::Absent,
        Some(Value::Null) => Field::Null,
        Some(Value::String(text)) if text.chars().count() > max_chars => {
            errors.push(join_path(parent, key), format!("must be at most {max_chars} characters"));
            Field::Absent
        }
        Some(Value::String(text)) => Field::Value(text.clone()),
        Some(_) => {
            errors.push(join_path(parent, key), "must be a string");
            Field::Absent
        }
    }
}

/// The value of a JSON number with no fractional part that fits in an `i64`, else `None`.
///
/// JSON has one number type, so `3.0` is the integer 3 (as in JSON Schema) while `3.5`, `"3"` and `true` are not
/// integers at all.
pub fn as_integer(value: &Value) -> Option<i64> {
    let number = value.as_number()?;
    if let Some(integer) = number.as_i64() {
        return Some(integer);
    }
    if !number.is_f64() {
        // A u64 above i64::MAX: an integer, but not one an i64 can hold.
        return None;
    }
    let float = number.as_f64()?;
    // 2^63 is exact as an f64, so the bounds are too; the cast below then never saturates.
    let in_range = (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&float);
    (float.fract() == 0.0 && in_range).then_some(float as i64)
}

/// Reads `value` as an integer within `min..=max`, or returns the message that says what was expected.
pub fn integer_in(value: &Value, min: i64, max: i64) -> Result<i64, String> {
    match as_integer(value) {
        Some(integer) if (min..=max).contains(&integer) => Ok(integer),
        _ => Err(match (min, max) {
            (i64::MIN, i64::MAX) => "must be an integer".to_owned(),
            (min, i64::MAX) => format!("must be an integer of at least {min}"),
            (i64::MIN, max) => format!("must be an integer of at most {max}"),
            (min, max) => format!("must be an integer from {min} to {max}"),
        }),
    }
}

/// The path of the first string or key in `value` that contains U+0000, if any. PostgreSQL can store NUL in
/// neither `text` nor `jsonb`, and no client text needs it, so every JSON input refuses it the same way on both
/// backends instead of failing in the database.
pub fn nul_path(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(|| path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_path(item, &format!("{path}[{index}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let item_path = join_path(path, key);
            if key.contains('\0') {
                Some(item_path)
            } else {
                nul_path(item, &item_path)
            }
        }),
        _ => None,
    }
}

/// The message for a string that contains U+0000.
pub const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// A copy of `object` without the `known` keys: what a typed reader keeps aside so nothing sent is lost.
pub fn other_keys(object: &JsonObject, known: &[&str]) -> JsonObject {
    object
        .iter()
        .filter(|(key, _)| !known.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Reads an optional object field.
pub fn object_field(
    object: &JsonObject,
    key: &str,
    errors: &mut ValidationErrors,
    parent: &str,
) -> Field<JsonObject> {
    match object.get(key) {
        None => Field::Absent,
        Some(Value::Null) => Field::Null,
        Some(Value::Object(inner)) => Field::Value(inner.clone()),
        Some(_) => {
            errors.push(join_path(parent, key), "must be a JSON object");
            Field::Absent
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nul_is_found_in_values_and_keys_with_its_path() {
        assert_eq!(nul_path(&json!({"a": {"b": ["x", "y\u{0}"]}}), ""), Some("a.b[1]".to_owned()));
        assert_eq!(
            nul_path(&json!({"a": {"k\u{0}": 1}}), "data"),
            Some("data.a.k\u{0}".to_owned())
        );
        assert_eq!(nul_path(&json!({"a": ["\\u0000 is fine escaped", 0, null]}), ""), None);
    }

    #[test]
    fn integers_are_whole_numbers_that_fit_in_i64() {
        assert_eq!(as_integer(&json!(3)), Some(3));
        assert_eq!(as_integer(&json!(-3)), Some(-3));
        assert_eq!(as_integer(&json!(3.0)), Some(3));
        assert_eq!(as_integer(&json!(-0.0)), Some(0));
        assert_eq!(as_integer(&json!(i64::MAX)), Some(i64::MAX));
        assert_eq!(as_integer(&json!(i64::MIN)), Some(i64::MIN));
        assert_eq!(as_integer(&json!(-9_223_372_036_854_775_808.0)), Some(i64::MIN));
        assert_eq!(as_integer(&json!(3.5)), None);
        assert_eq!(as_integer(&json!(u64::MAX)), None);
        assert_eq!(as_integer(&json!(9_223_372_036_854_775_808.0)), None);
        assert_eq!(as_integer(&json!(1e300)), None);
        assert_eq!(as_integer(&json!("3")), None);
        assert_eq!(as_integer(&json!(true)), None);
        assert_eq!(as_integer(&Value::Null), None);
    }

    #[test]
    fn integer_bounds_are_inclusive_and_described() {
        assert_eq!(integer_in(&json!(5), 1, 5), Ok(5));
        assert_eq!(integer_in(&json!(0), 1, 5), Err("must be an integer from 1 to 5".to_owned()));
        assert_eq!(
            integer_in(&json!(-1), 0, i64::MAX).unwrap_err(),
            "must be an integer of at least 0"
        );
        assert_eq!(
            integer_in(&json!(9), i64::MIN, 8).unwrap_err(),
            "must be an integer of at most 8"
        );
        assert_eq!(integer_in(&json!(0.5), i64::MIN, i64::MAX).unwrap_err(), "must be an integer");
    }

    #[test]
    fn required_strings_treat_null_as_missing() {
        let object = json!({"a": "x", "b": null, "c": 1}).as_object().unwrap().clone();
        let mut errors = ValidationErrors::default();
        assert_eq!(required_str(&object, "a", &mut errors, "p"), Some("x"));
        assert_eq!(required_str(&object, "b", &mut errors, "p"), None);
        assert_eq!(required_str(&object, "c", &mut errors, "p"), None);
        assert_eq!(required_str(&object, "d", &mut errors, ""), None);
        let found: Vec<_> =
            errors.0.iter().map(|e| (e.path.as_str(), e.message.as_str())).collect();
        assert_eq!(
            found,
            [("p.b", "is required"), ("p.c", "must be a string"), ("d", "is required")]
        );
    }

    #[test]
    fn other_keys_keeps_everything_but_the_known_ones() {
        let object = json!({"a": 1, "b": 2, "c": {"d": 3}}).as_object().unwrap().clone();
        assert_eq!(Value::Object(other_keys(&object, &["a", "z"])), json!({"b": 2, "c": {"d": 3}}));
    }
}
