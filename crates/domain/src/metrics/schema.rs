//! The JSON Schemas of `SessionMetrics` and `cohortStats`, generated from the metric table, so the published API
//! description lists exactly the metrics the server computes.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::cohort::CohortStats;
use super::session_metrics::SessionMetrics;
use super::table::{Better, CohortSummary, METRICS};

/// The JSON Schema `format` schemars gives Rust's `i64` and `f64`, so the document reads as before.
fn format_of(json_type: &str) -> Option<&'static str> {
    match json_type {
        "integer" => Some("int64"),
        "number" => Some("double"),
        _ => None,
    }
}

fn typed(json_type: &str, is_nullable: bool, description: String) -> Value {
    let mut schema = json!({"type": nullable(json_type, is_nullable), "description": description});
    if let Some(format) = format_of(json_type) {
        schema["format"] = json!(format);
    }
    schema
}

fn nullable(json_type: &str, nullable: bool) -> Value {
    if nullable {
        json!([json_type, "null"])
    } else {
        json!(json_type)
    }
}

impl JsonSchema for SessionMetrics {
    fn schema_name() -> Cow<'static, str> {
        "SessionMetrics".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut properties = Map::new();
        for metric in &METRICS {
            let mut description = format!("{}: {}", metric.label, metric.definition);
            if let Some(when) = metric.null_when {
                description.push_str(&format!(" Null when {when}."));
            }
            properties.insert(
                metric.name.to_owned(),
                typed(metric.unit.json_type(), metric.null_when.is_some(), description),
            );
        }
        let required: Vec<&str> = METRICS.iter().map(|metric| metric.name).collect();
        json_schema!({
            "type": "object",
            "description": "SessionMetrics (spec §6).",
            "properties": properties,
            "required": required,
        })
    }
}

impl JsonSchema for CohortStats {
    fn schema_name() -> Cow<'static, str> {
        "CohortStats".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut summaries = Map::new();
        let mut ranks = Map::new();
        for metric in &METRICS {
            if let Some(summary) = metric.cohort {
                let (json_type, is_nullable, description) = match summary {
                    CohortSummary::IntegerMean(_) => {
                        ("integer", true, "the mean over the sessions that have it, rounded")
                    }
                    CohortSummary::Mean(_) => {
                        ("number", true, "the mean over the sessions that have it, to 3 decimals")
                    }
                    CohortSummary::PercentTrue(_) => {
                        ("integer", false, "percent of all sessions where it is true, rounded")
                    }
                };
                summaries.insert(
                    summary.name().to_owned(),
                    typed(json_type, is_nullable, format!("{}: {description}.", metric.label)),
                );
            }
            if let Some(better) = metric.better {
                let direction = match better {
                    Better::Smaller => "smaller is better",
                    Better::Larger => "larger is better",
                };
                ranks.insert(
                    metric.name.to_owned(),
                    typed("number", true, format!("{} ({direction}).", metric.label)),
                );
            }
        }
        let summary_names: Vec<&String> = summaries.keys().collect();
        let rank_names: Vec<&String> = ranks.keys().collect();
        json_schema!({
            "type": "object",
            "description": "cohortStats (spec §7).",
            "required": ["sessionCount", "metrics"],
            "properties": {
                "sessionCount": {"type": "integer", "format": "int64"},
                "metrics": {"type": "object", "properties": summaries, "required": summary_names},
                "percentiles": {
                    "type": "object",
                    "description": "Share of the other sessions this one does better than, ties counting half; \
                        present with a ranked session and at least two in the cohort.",
                    "properties": ranks,
                    "required": rank_names,
                },
            },
        })
    }
}
