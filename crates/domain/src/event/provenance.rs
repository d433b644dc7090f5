//! The envelope's `provenance`: how sure the client is about who wrote a change, and how much it could see.

use serde_json::Value;

use super::keyword::{keyword_enum, keyword_field};
use crate::json::{join_path, optional_object, other_keys, JsonObject};
use crate::validation::ValidationErrors;

keyword_enum! {
    /// `provenance.attribution`: who the client believes authored the event's content.
    pub enum Attribution {
        /// Written by an AI.
        LikelyAi = "likely_ai",
        /// Written by an AI, then changed by a person.
        AiRevisedByHuman = "ai_revised_by_human",
        /// Written by a person.
        LikelyHuman = "likely_human",
        /// Both, in proportions the client cannot tell.
        Mixed = "mixed",
        /// Produced by a tool (formatters, generators, lock files).
        SystemGenerated = "system_generated",
        /// Not said; the default.
        #[default]
        Unknown = "unknown",
    }
}

keyword_enum! {
    /// `provenance.observability`: how much of the activity the client could observe.
    pub enum Observability {
        /// Everything relevant was observed.
        High = "high",
        /// Most of it.
        Medium = "medium",
        /// Part of it; the default, since hooks see some tools and not others.
        #[default]
        Partial = "partial",
        /// Little of it.
        Low = "low",
        /// Not said.
        Unknown = "unknown",
    }
}

/// `provenance.confidence` when the client gives none.
pub const DEFAULT_CONFIDENCE: f64 = 0.5;

/// Where an event's content came from. An envelope without `provenance` gets every default.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// `provenance.attribution`.
    pub attribution: Attribution,
    /// `provenance.confidence`, in `0..=1`.
    pub confidence: f64,
    /// `provenance.observability`.
    pub observability: Observability,
    /// `provenance.methods`: how the attribution was made (free words such as `hook`, `git_blame`).
    pub methods: Option<Vec<String>>,
    /// Any other keys the client put in `provenance`, kept as sent.
    pub extra: JsonObject,
}

impl Default for Provenance {
    fn default() -> Self {
        Provenance {
            attribution: Attribution::default(),
            confidence: DEFAULT_CONFIDENCE,
            observability: Observability::default(),
            methods: None,
            extra: JsonObject::new(),
        }
    }
}

const KNOWN_KEYS: [&str; 4] = ["attribution", "confidence", "observability", "methods"];

impl Provenance {
    /// Reads a `provenance` value found at `path`, recording each problem in `errors`.
    ///
    /// `null`, here and in each field, is the same as leaving it out: the default applies.
    pub fn parse(value: &Value, path: &str, errors: &mut ValidationErrors) -> Provenance {
        let Some(object) = optional_object(value, errors, path) else {
            return Provenance::default();
        };
        Provenance {
            attribution: keyword_field(object, "attribution", errors, path).unwrap_or_default(),
            confidence: confidence(object, errors, path).unwrap_or(DEFAULT_CONFIDENCE),
            observability: keyword_field(object, "observability", errors, path).unwrap_or_default(),
            methods: methods(object, errors, path),
            extra: other_keys(object, &KNOWN_KEYS),
        }
    }

    /// The provenance as stored and returned on the timeline, with the defaults written out.
    pub fn to_json(&self) -> JsonObject {
        let mut object = self.extra.clone();
        object.insert("attribution".to_owned(), self.attribution.as_str().into());
        object.insert("confidence".to_owned(), self.confidence.into());
        object.insert("observability".to_owned(), self.observability.as_str().into());
        if let Some(methods) = &self.methods {
            object.insert("methods".to_owned(), methods.clone().into());
        }
        object
    }
}

fn confidence(object: &JsonObject, errors: &mut ValidationErrors, parent: &str) -> Option<f64> {
    let value = object.get("confidence").filter(|value| !value.is_null())?;
    let confidence = value.as_f64().filter(|number| (0.0..=1.0).contains(number));
    if confidence.is_none() {
        errors.push(join_path(parent, "confidence"), "must be a number from 0 to 1");
    }
    confidence
}

fn methods(
    object: &JsonObject,
    errors: &mut ValidationErrors,
    parent: &str,
) -> Option<Vec<String>> {
    let path = join_path(parent, "methods");
    let items = match object.get("methods")? {
        Value::Null => return None,
        Value::Array(items) => items,
        _ => {
            errors.push(path, "must be an array of strings");
            return None;
        }
    };
    let mut methods = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match item {
            Value::String(method) => methods.push(method.clone()),
            _ => errors.push(join_path(&path, &index.to_string()), "must be a string"),
        }
    }
    Some(methods)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> (Provenance, Vec<(String, String)>) {
        let mut errors = ValidationErrors::default();
        let provenance = Provenance::parse(&value, "provenance", &mut errors);
        (provenance, errors.0.into_iter().map(|e| (e.path, e.message)).collect())
    }

    fn paths(errors: &[(String, String)]) -> Vec<&str> {
        errors.iter().map(|(path, _)| path.as_str()).collect()
    }

    #[test]
    fn defaults_fill_absent_and_null_fields() {
        let all_null = json!({"attribution": null, "confidence": null, "observability": null, "methods": null});
        for value in [Value::Null, json!({}), all_null] {
            let (provenance, errors) = parse(value);
            assert!(errors.is_empty());
            assert_eq!(provenance, Provenance::default());
            assert_eq!(
                Value::Object(provenance.to_json()),
                json!({"attribution": "unknown", "confidence": 0.5, "observability": "partial"})
            );
        }
    }

    #[test]
    fn every_word_and_the_confidence_bounds_are_accepted() {
        for attribution in Attribution::ALL {
            let (provenance, errors) = parse(json!({"attribution": attribution.as_str()}));
            assert!(errors.is_empty());
            assert_eq!(provenance.attribution, *attribution);
        }
        for observability in Observability::ALL {
            let (provenance, errors) = parse(json!({"observability": observability.as_str()}));
            assert!(errors.is_empty());
            assert_eq!(provenance.observability, *observability);
        }
        for (given, read) in
            [(json!(0), 0.0), (json!(1), 1.0), (json!(0.85), 0.85), (json!(1.0), 1.0)]
        {
            let (provenance, errors) = parse(json!({"confidence": given}));
            assert!(errors.is_empty());
            assert_eq!(provenance.confidence, read);
        }
    }

    #[test]
    fn methods_and_extra_keys_are_kept() {
        let (provenance, errors) =
            parse(json!({"attribution": "mixed", "methods": ["hook", "git_blame"], "tool": "x"}));
        assert!(errors.is_empty());
        assert_eq!(provenance.methods, Some(vec!["hook".to_owned(), "git_blame".to_owned()]));
        assert_eq!(
            Value::Object(provenance.to_json()),
            json!({"attribution": "mixed", "confidence": 0.5, "observability": "partial",
                   "methods": ["hook", "git_blame"], "tool": "x"})
        );
        let (provenance, _) = parse(json!({"methods": []}));
        assert_eq!(provenance.methods, Some(vec![]));
    }

    #[test]
    fn bad_fields_are_all_reported_with_paths() {
        let (_, errors) = parse(json!({
            "attribution": "ai", "confidence": 1.5, "observability": "HIGH", "methods": ["a", 1, null]
        }));
        assert_eq!(
            paths(&errors),
            [
                "provenance.attribution",
                "provenance.confidence",
                "provenance.observability",
                "provenance.methods.1",
                "provenance.methods.2"
            ]
        );
        assert_eq!(errors[1].1, "must be a number from 0 to 1");
        for confidence in [json!(-0.1), json!("0.5"), json!(true), json!({})] {
            let (_, errors) = parse(json!({ "confidence": confidence }));
            assert_eq!(paths(&errors), ["provenance.confidence"]);
        }
        let (_, errors) = parse(json!({"methods": "hook"}));
        assert_eq!(paths(&errors), ["provenance.methods"]);
        let (_, errors) = parse(json!([]));
        assert_eq!(paths(&errors), ["provenance"]);
    }
}
