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

/// Joins a parent path and a key into a dotted path.
pub fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
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
