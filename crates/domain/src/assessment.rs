//! Assessments: the task a hiring team sets, and the validated body that creates one.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::ids::OrgId;
use crate::json::{as_integer, expect_object, join_path, string_field, Field, JsonObject};
use crate::validation::ValidationErrors;

/// The tools an assessment may allow.
pub const KNOWN_TOOLS: [&str; 3] = ["claude", "codex", "cursor"];
/// Days a candidate key stays valid when the assessment does not say.
pub const DEFAULT_EXPIRES_IN_DAYS: i64 = 7;
/// Longest `expiresInDays`: ten years.
pub const MAX_EXPIRES_IN_DAYS: i64 = 3650;
/// Longest `title` and `role`, in characters.
pub const MAX_TITLE_CHARS: usize = 255;
/// Longest `taskBrief`, in characters.
pub const MAX_TASK_BRIEF_CHARS: usize = 100_000;
/// Longest `repoUrl`, in characters.
pub const MAX_REPO_URL_CHARS: usize = 2048;

/// A hiring team's task for candidates, serialised as the API shows it (spec §8).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Assessment {
    /// Server-generated UUID.
    pub id: String,
    /// The owning org.
    pub org_id: OrgId,
    /// The assessment itself.
    #[serde(flatten)]
    pub spec: AssessmentSpec,
    /// When it was created.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub created_at: DateTime<Utc>,
}

/// What a reviewer chooses when creating an assessment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AssessmentSpec {
    /// 1–255 characters.
    pub title: String,
    /// The role hired for, 1–255 characters.
    pub role: String,
    /// What the candidate is asked to do.
    pub task_brief: String,
    /// Repository to start from.
    pub repo_url: Option<String>,
    /// Suggested time limit, in minutes (> 0).
    pub time_limit_minutes: Option<i64>,
    /// Lifetime of its candidate keys, in days (> 0).
    pub expires_in_days: i64,
    /// Tools the candidate may use; `None` when unrestricted.
    pub allowed_tools: Option<Vec<String>>,
}

impl AssessmentSpec {
    /// Validates a `POST /v1/assessments` body, reporting every bad field.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = expect_object(body, &mut errors, "") else {
            return Err(errors);
        };
        let title = required_text(object, "title", MAX_TITLE_CHARS, &mut errors);
        let role = required_text(object, "role", MAX_TITLE_CHARS, &mut errors);
        let task_brief = required_text(object, "taskBrief", MAX_TASK_BRIEF_CHARS, &mut errors);
        let repo_url = string_field(object, "repoUrl", MAX_REPO_URL_CHARS, &mut errors, "").value();
        if let Some(url) = &repo_url {
            if !looks_like_url(url) {
                errors.push("repoUrl", "must be a URL such as https://github.com/acme/task");
            }
        }
        let time_limit_minutes = positive_integer(object, "timeLimitMinutes", &mut errors);
        let expires_in_days = positive_integer(object, "expiresInDays", &mut errors)
            .unwrap_or(DEFAULT_EXPIRES_IN_DAYS);
        if expires_in_days > MAX_EXPIRES_IN_DAYS {
            errors.push("expiresInDays", format!("must be at most {MAX_EXPIRES_IN_DAYS}"));
        }
        let allowed_tools = allowed_tools(object, &mut errors);
        errors.into_result(AssessmentSpec {
            title,
            role,
            task_brief,
            repo_url,
            time_limit_minutes,
            expires_in_days,
            allowed_tools,
        })
    }
}

fn required_text(
    object: &JsonObject,
    key: &str,
    max_chars: usize,
    errors: &mut ValidationErrors,
) -> String {
    match string_field(object, key, max_chars, errors, "") {
        Field::Value(text) if !text.trim().is_empty() => text,
        Field::Value(_) => {
            errors.push(key, "must not be blank");
            String::new()
        }
        Field::Absent | Field::Null => {
            if !errors.0.iter().any(|e| e.path == key) {
                errors.push(key, "is required");
            }
            String::new()
        }
    }
}

fn positive_integer(object: &JsonObject, key: &str, errors: &mut ValidationErrors) -> Option<i64> {
    match object.get(key) {
        None | Some(Value::Null) => None,
        // `as_integer`, not `as_i64`: JSON has no integer type, and `3.0` is the integer 3 (as the envelope and the
        // document's `"type": "integer"` read it).
        Some(number @ Value::Number(_)) => match as_integer(number) {
            Some(value) if value > 0 => Some(value),
            _ => {
                errors.push(key, "must be a whole number greater than 0");
                None
            }
        },
        Some(_) => {
            errors.push(key, "must be a whole number greater than 0");
            None
        }
    }
}

fn allowed_tools(object: &JsonObject, errors: &mut ValidationErrors) -> Option<Vec<String>> {
    let items = match object.get("allowedTools") {
        None | Some(Value::Null) => return None,
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.push("allowedTools", "must be an array of tool names");
            return None;
        }
    };
    let mut tools: Vec<String> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(tool) if KNOWN_TOOLS.contains(&tool) => {
                if !tools.iter().any(|known| known == tool) {
                    tools.push(tool.to_owned());
                }
            }
            _ => errors.push(
                join_path("allowedTools", &index.to_string()),
                format!("must be one of {}", KNOWN_TOOLS.join(", ")),
            ),
        }
    }
    Some(tools)
}

/// A scheme, `://`, and a non-empty host; enough to catch a pasted title or a missing scheme.
fn looks_like_url(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    let scheme_ok = !scheme.is_empty()
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    scheme_ok && !host.is_empty() && !text.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(body: Value) -> Vec<String> {
        AssessmentSpec::parse(&body).unwrap_err().0.into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn minimal_body_gets_defaults() {
        let spec = AssessmentSpec::parse(
            &json!({"title": "API", "role": "Backend", "taskBrief": "Build it"}),
        )
        .unwrap();
        assert_eq!(spec.expires_in_days, 7);
        assert_eq!(spec.allowed_tools, None);
        assert_eq!(spec.repo_url, None);
        assert_eq!(spec.time_limit_minutes, None);
    }

    #[test]
    fn whole_numbers_written_with_a_point_are_integers() {
        let spec = AssessmentSpec::parse(&json!({
            "title": "API", "role": "Backend", "taskBrief": "Build it",
            "timeLimitMinutes": 90.0, "expiresInDays": 3.0
        }))
        .unwrap();
        assert_eq!((spec.time_limit_minutes, spec.expires_in_days), (Some(90), 3));
        assert_eq!(
            paths(json!({"title": "A", "role": "B", "taskBrief": "C", "timeLimitMinutes": 1.5})),
            ["timeLimitMinutes"]
        );
    }

    #[test]
    fn full_body_is_kept() {
        let spec = AssessmentSpec::parse(&json!({
            "title": "API", "role": "Backend", "taskBrief": "Build it",
            "repoUrl": "https://github.com/acme/task", "timeLimitMinutes": 90, "expiresInDays": 3,
            "allowedTools": ["cursor", "claude", "cursor"]
        }))
        .unwrap();
        assert_eq!(spec.time_limit_minutes, Some(90));
        assert_eq!(spec.expires_in_days, 3);
        assert_eq!(spec.allowed_tools, Some(vec!["cursor".to_owned(), "claude".to_owned()]));
    }

    #[test]
    fn every_bad_field_is_reported() {
        assert_eq!(paths(json!({})), ["title", "role", "taskBrief"]);
        assert_eq!(
            paths(json!({
                "title": " ", "role": "x".repeat(256), "taskBrief": 3, "repoUrl": "not a url",
                "timeLimitMinutes": 0, "expiresInDays": 1.5, "allowedTools": ["vim", "codex"]
            })),
            [
                "title",
                "role",
                "taskBrief",
                "repoUrl",
                "timeLimitMinutes",
                "expiresInDays",
                "allowedTools.0"
            ]
        );
        assert_eq!(
            paths(json!({"title": "t", "role": "r", "taskBrief": "b", "allowedTools": "claude"})),
            ["allowedTools"]
        );
        assert_eq!(paths(json!(["x"])), [""]);
    }
}
