//! The envelope's `actor`: who performed the event (an AI, a person, the system), as the client saw it.

use serde_json::Value;

use super::keyword::{keyword_enum, keyword_field};
use crate::json::{optional_object, other_keys, string_field, JsonObject};
use crate::validation::ValidationErrors;

keyword_enum! {
    /// `actor.type`: what kind of party performed the event.
    pub enum ActorType {
        /// An AI agent or model.
        Ai = "ai",
        /// A person typing or editing.
        Human = "human",
        /// The tool or the machine itself.
        System = "system",
        /// Not said; the default.
        #[default]
        Unknown = "unknown",
    }
}

/// Who performed an event. An envelope without `actor` gets the default: type `unknown`, no role.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Actor {
    /// `actor.type`.
    pub kind: ActorType,
    /// `actor.role`: free text such as `subagent` or `reviewer`.
    pub role: Option<String>,
    /// Any other keys the client put in `actor`, kept as sent.
    pub extra: JsonObject,
}

const KNOWN_KEYS: [&str; 2] = ["type", "role"];

impl Actor {
    /// Reads an `actor` value found at `path`, recording each problem in `errors`.
    ///
    /// `null` is the same as no actor at all. A value that is not an object, or a `type` that is not one of the
    /// four words, is recorded and read as the default.
    pub fn parse(value: &Value, path: &str, errors: &mut ValidationErrors) -> Actor {
        let Some(object) = optional_object(value, errors, path) else {
            return Actor::default();
        };
        Actor {
            kind: keyword_field(object, "type", errors, path).unwrap_or_default(),
            role: string_field(object, "role", usize::MAX, errors, path).value(),
            extra: other_keys(object, &KNOWN_KEYS),
        }
    }

    /// The actor as stored and returned on the timeline: `type` always present, then `role`, then the extra keys.
    pub fn to_json(&self) -> JsonObject {
        let mut object = self.extra.clone();
        object.insert("type".to_owned(), self.kind.as_str().into());
        if let Some(role) = &self.role {
            object.insert("role".to_owned(), role.as_str().into());
        }
        object
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> (Actor, Vec<(String, String)>) {
        let mut errors = ValidationErrors::default();
        let actor = Actor::parse(&value, "actor", &mut errors);
        (actor, errors.0.into_iter().map(|e| (e.path, e.message)).collect())
    }

    #[test]
    fn absent_null_and_empty_actors_are_unknown() {
        for value in [Value::Null, json!({}), json!({"type": null, "role": null})] {
            let (actor, errors) = parse(value);
            assert_eq!(actor, Actor::default());
            assert!(errors.is_empty());
            assert_eq!(Value::Object(actor.to_json()), json!({"type": "unknown"}));
        }
    }

    #[test]
    fn every_type_is_read_and_extra_keys_kept() {
        for kind in ActorType::ALL {
            let (actor, errors) =
                parse(json!({"type": kind.as_str(), "role": "lead", "model": "m"}));
            assert!(errors.is_empty());
            assert_eq!(actor.kind, *kind);
            assert_eq!(actor.role.as_deref(), Some("lead"));
            assert_eq!(Value::Object(actor.extra.clone()), json!({"model": "m"}));
            assert_eq!(
                Value::Object(actor.to_json()),
                json!({"type": kind.as_str(), "role": "lead", "model": "m"})
            );
        }
    }

    #[test]
    fn bad_actors_are_reported_with_paths() {
        let (_, errors) = parse(json!("ai"));
        assert_eq!(errors, [("actor".to_owned(), "must be a JSON object".to_owned())]);
        let (_, errors) = parse(json!({"type": "AI", "role": 3}));
        assert_eq!(
            errors,
            [
                ("actor.type".to_owned(), "must be one of ai, human, system, unknown".to_owned()),
                ("actor.role".to_owned(), "must be a string".to_owned()),
            ]
        );
        let (_, errors) = parse(json!({"type": 1}));
        assert_eq!(errors[0].0, "actor.type");
    }
}
