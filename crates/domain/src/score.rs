//! Reviewer scores: one 1–5 score per dimension of a session and reviewer, with optional notes.
//!
//! Each reviewer (a signed-in user, or an org API key) keeps their own score of each dimension: scoring again
//! replaces one's own score, never a colleague's.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::actor_ref::ActorRef;
use crate::json::{as_integer, expect_object, join_path, string_field};
use crate::validation::ValidationErrors;

/// The dimensions a session is scored on.
pub const DIMENSIONS: [&str; 5] = [
    "problem_decomposition",
    "ai_orchestration",
    "code_quality",
    "debugging_process",
    "communication",
];
/// Most scores one request may carry (one per dimension).
pub const MAX_SCORES_PER_REQUEST: usize = 5;
/// Longest `notes`, in characters.
pub const MAX_NOTES_CHARS: usize = 10_000;

/// A stored score, as the API shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Score {
    /// Server-generated id.
    pub id: String,
    /// The scored session.
    pub session_id: String,
    /// One of [`DIMENSIONS`].
    pub dimension: String,
    /// 1–5.
    pub score: i64,
    /// The reviewer's notes.
    pub notes: Option<String>,
    /// Who gave it; `None` for scores recorded before scores were attributed.
    pub scored_by: Option<ActorRef>,
    /// When the dimension was first scored.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub updated_at: DateTime<Utc>,
}

/// One score to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreInput {
    /// One of [`DIMENSIONS`].
    pub dimension: String,
    /// 1–5.
    pub score: i64,
    /// The reviewer's notes.
    pub notes: Option<String>,
}

/// Validates `POST /v1/sessions/:id/scores`: an array of 1–5 `{dimension, score, notes?}`, each dimension once.
pub fn parse_scores(body: &Value) -> Result<Vec<ScoreInput>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Some(items) = body.as_array() else {
        return Err(ValidationErrors::one("", "must be an array of {dimension, score, notes?}"));
    };
    if items.is_empty() || items.len() > MAX_SCORES_PER_REQUEST {
        return Err(ValidationErrors::one(
            "",
            format!("must hold 1 to {MAX_SCORES_PER_REQUEST} scores"),
        ));
    }
    let mut scores: Vec<ScoreInput> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let path = index.to_string();
        let Some(object) = expect_object(item, &mut errors, &path) else {
            continue;
        };
        let dimension = match object.get("dimension").and_then(Value::as_str) {
            Some(dimension) if DIMENSIONS.contains(&dimension) => dimension.to_owned(),
            _ => {
                errors.push(
                    join_path(&path, "dimension"),
                    format!("must be one of {}", DIMENSIONS.join(", ")),
                );
                continue;
            }
        };
        if scores.iter().any(|earlier| earlier.dimension == dimension) {
            errors.push(join_path(&path, "dimension"), "appears more than once");
        }
        let score = match object.get("score").and_then(as_integer) {
            Some(score) if (1..=5).contains(&score) => score,
            _ => {
                errors.push(join_path(&path, "score"), "must be a whole number from 1 to 5");
                continue;
            }
        };
        let notes = string_field(object, "notes", MAX_NOTES_CHARS, &mut errors, &path).value();
        scores.push(ScoreInput { dimension, score, notes });
    }
    errors.into_result(scores)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(body: Value) -> Vec<String> {
        parse_scores(&body).unwrap_err().0.into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn valid_scores_parse() {
        let scores = parse_scores(&json!([
            {"dimension": "code_quality", "score": 4, "notes": "tidy"},
            {"dimension": "communication", "score": 5}
        ]))
        .unwrap();
        assert_eq!(
            scores[0],
            ScoreInput { dimension: "code_quality".into(), score: 4, notes: Some("tidy".into()) }
        );
        assert_eq!(scores[1].notes, None);
    }

    #[test]
    fn invalid_scores_name_their_index() {
        assert_eq!(paths(json!([])), [""]);
        assert_eq!(paths(json!({"dimension": "code_quality"})), [""]);
        assert_eq!(paths(json!([{"dimension": "speed", "score": 3}])), ["0.dimension"]);
        assert_eq!(paths(json!([{"dimension": "code_quality", "score": 6}])), ["0.score"]);
        assert_eq!(paths(json!([{"dimension": "code_quality", "score": 2.5}])), ["0.score"]);
        assert_eq!(
            paths(
                json!([{"dimension": "code_quality", "score": 3}, {"dimension": "code_quality", "score": 4}])
            ),
            ["1.dimension"]
        );
        assert_eq!(
            paths(json!([{"dimension": "code_quality", "score": 3, "notes": 1}])),
            ["0.notes"]
        );
        let six: Vec<Value> =
            (0..6).map(|_| json!({"dimension": "code_quality", "score": 1})).collect();
        assert_eq!(paths(Value::Array(six)), [""]);
    }
}
