//! The strict `data` schemas of spec §4, as one table, and the check that normalises `data` against it.
//!
//! Only the listed fields are checked; other keys in `data` are kept as sent. After a successful check every
//! listed field present in `data` has its documented type, so readers (metrics, storage) can rely on it:
//! integers are stored as JSON integers (`3.0` becomes `3`), an optional field sent as `null` is removed, and a
//! field given under its alias is moved to its own name (`prompt` → `text`).

use serde_json::Value;

use super::kind::EventKind;
use crate::json::{integer_in, join_path, JsonObject};
use crate::validation::ValidationErrors;

/// What a listed field must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A JSON string.
    Text,
    /// A JSON integer in `min..=max`.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
}

/// One listed field of a kind's `data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The field's name.
    pub key: &'static str,
    /// Another name the client may use for this field; read only when `key` itself is absent or `null`.
    pub alias: Option<&'static str>,
    /// Whether the kind requires it.
    pub required: bool,
    /// What it must hold.
    pub field_type: FieldType,
}

const fn text(key: &'static str) -> Rule {
    Rule { key, alias: None, required: false, field_type: FieldType::Text }
}

const fn required_text(key: &'static str) -> Rule {
    Rule { required: true, ..text(key) }
}

const fn integer(key: &'static str, min: i64, max: i64) -> Rule {
    Rule { key, alias: None, required: false, field_type: FieldType::Integer { min, max } }
}

/// A count, size or duration: an integer ≥ 0.
const fn count(key: &'static str) -> Rule {
    integer(key, 0, i64::MAX)
}

/// The listed fields of one strict kind.
pub(crate) struct Schema {
    kind: EventKind,
    rules: &'static [Rule],
}

const SCHEMAS: &[Schema] = &[
    Schema {
        kind: EventKind::COMMAND,
        rules: &[
            required_text("command"),
            integer("exitCode", i64::MIN, i64::MAX),
            count("durationMs"),
            text("stdout"),
            text("stderr"),
            text("cwd"),
        ],
    },
    Schema {
        kind: EventKind::FILE_DIFF,
        rules: &[required_text("path"), text("diff"), count("linesAdded"), count("linesRemoved")],
    },
    Schema {
        kind: EventKind::FILE_CREATE,
        rules: &[required_text("path"), text("content"), count("linesAdded"), count("sizeBytes")],
    },
    Schema {
        kind: EventKind::TEST_RUN,
        rules: &[
            text("suite"),
            count("passed"),
            count("failed"),
            count("skipped"),
            count("durationMs"),
        ],
    },
    Schema {
        kind: EventKind::GIT_ACTION,
        rules: &[required_text("action"), text("ref"), text("message"), text("commit")],
    },
    Schema {
        kind: EventKind::CHECKPOINT,
        rules: &[text("label"), text("trigger"), text("summary")],
    },
    Schema {
        kind: EventKind::PROMPT,
        rules: &[Rule { alias: Some("prompt"), ..required_text("text") }, count("tokenCount")],
    },
    Schema {
        kind: EventKind::DECISION_EVENT,
        rules: &[
            text("title"),
            text("chosenOption"),
            text("context"),
            text("tradeoffs"),
            text("rationale"),
            integer("impactScore", 1, 5),
        ],
    },
];

/// Every strict kind with its listed fields, in the spec's order: what the API description publishes, read from
/// the same table the check uses.
pub fn strict_schemas() -> impl Iterator<Item = (&'static str, &'static [Rule])> {
    SCHEMAS.iter().map(|schema| (schema.kind.as_str(), schema.rules))
}

impl EventKind {
    /// True for the kinds whose `data` is checked against a schema (spec §4): command, file_diff, file_create,
    /// test_run, git_action, checkpoint, prompt and decision_event.
    pub fn has_strict_schema(&self) -> bool {
        schema_for(self).is_some()
    }
}

/// The strict schema of `kind`, if it has one.
pub(crate) fn schema_for(kind: &EventKind) -> Option<&'static Schema> {
    SCHEMAS.iter().find(|schema| schema.kind == *kind)
}

/// Checks `data` (found at `path`) against the schema of `kind`, if any, recording each misfit in `errors` and
/// normalising the listed fields in place (see the module docs).
pub(crate) fn check_data(
    kind: &EventKind,
    data: &mut JsonObject,
    errors: &mut ValidationErrors,
    path: &str,
) {
    let Some(schema) = schema_for(kind) else {
        return;
    };
    for rule in schema.rules {
        check_field(rule, data, errors, path);
    }
}

fn check_field(rule: &Rule, data: &mut JsonObject, errors: &mut ValidationErrors, path: &str) {
    let given = |key: &'static str| {
        data.get(key).filter(|value| !value.is_null()).map(|value| (key, value))
    };
    let Some((sent_as, value)) = given(rule.key).or_else(|| rule.alias.and_then(given)) else {
        if rule.required {
            let message = match rule.alias {
                Some(alias) => format!("is required (or its alias `{alias}`)"),
                None => "is required".to_owned(),
            };
            errors.push(join_path(path, rule.key), message);
        } else {
            // `null` means "not given" for an optional field; dropping it keeps the normalised form unambiguous.
            data.remove(rule.key);
        }
        return;
    };
    let normalised = match rule.field_type {
        FieldType::Text if value.is_string() => Ok(value.clone()),
        FieldType::Text => Err("must be a string".to_owned()),
        FieldType::Integer { min, max } => integer_in(value, min, max).map(Value::from),
    };
    match normalised {
        Ok(value) => {
            if sent_as != rule.key {
                data.remove(sent_as);
            }
            data.insert(rule.key.to_owned(), value);
        }
        Err(message) => errors.push(join_path(path, sent_as), message),
    }
}
