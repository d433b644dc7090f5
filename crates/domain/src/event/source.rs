//! The envelope's `source`: which channel, integration and emitter sent an event, and for which repository.

use serde_json::Value;

use crate::json::{other_keys, string_field, JsonObject};
use crate::validation::ValidationErrors;

/// Longest `source.integration` and `source.emitter`, in characters (the spec's bound).
pub const MAX_SOURCE_NAME_CHARS: usize = 128;

/// Where an event came from. Every field is optional; a bare string `"s"` means `{"channel": "s"}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Source {
    /// `source.channel`: the transport, e.g. `hook`, `mcp`, `cli`.
    pub channel: Option<String>,
    /// `source.integration`: the tool, e.g. `claude-code`, `cursor`; it becomes a new session's `sourceService`.
    pub integration: Option<String>,
    /// `source.emitter`: the program that built the envelope, e.g. `traceline-hook/0.3`.
    pub emitter: Option<String>,
    /// `source.repo`, stored as given: clients send a URL, a name, or an object such as `{url, branch}`.
    pub repo: Option<Value>,
    /// Any other keys the client put in `source`, kept as sent.
    pub extra: JsonObject,
}

const KNOWN_KEYS: [&str; 4] = ["channel", "integration", "emitter", "repo"];

impl Source {
    /// Reads a `source` value found at `path`, recording each problem in `errors`.
    ///
    /// `None` only when the value is neither an object nor a string (`null` included: `source` is required). A
    /// misfit inside an object is recorded and that field read as absent. `null` fields count as absent.
    pub fn parse(value: &Value, path: &str, errors: &mut ValidationErrors) -> Option<Source> {
        let object = match value {
            Value::String(channel) => {
                return Some(Source { channel: Some(channel.clone()), ..Source::default() })
            }
            Value::Object(object) => object,
            Value::Null => {
                errors.push(path, "is required");
                return None;
            }
            _ => {
                errors.push(path, "must be a JSON object or a string");
                return None;
            }
        };
        Some(Source {
            channel: string_field(object, "channel", usize::MAX, errors, path).value(),
            integration: string_field(object, "integration", MAX_SOURCE_NAME_CHARS, errors, path)
                .value(),
            emitter: string_field(object, "emitter", MAX_SOURCE_NAME_CHARS, errors, path).value(),
            repo: object.get("repo").filter(|repo| !repo.is_null()).cloned(),
            extra: other_keys(object, &KNOWN_KEYS),
        })
    }

    /// The source as stored and returned on the timeline: always an object, the fields that are set plus extras.
    pub fn to_json(&self) -> JsonObject {
        let mut object = self.extra.clone();
        let fields = [
            ("channel", &self.channel),
            ("integration", &self.integration),
            ("emitter", &self.emitter),
        ];
        for (key, field) in fields {
            if let Some(text) = field {
                object.insert(key.to_owned(), text.as_str().into());
            }
        }
        if let Some(repo) = &self.repo {
            object.insert("repo".to_owned(), repo.clone());
        }
        object
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> (Option<Source>, Vec<(String, String)>) {
        let mut errors = ValidationErrors::default();
        let source = Source::parse(&value, "source", &mut errors);
        (source, errors.0.into_iter().map(|e| (e.path, e.message)).collect())
    }

    #[test]
    fn a_bare_string_is_the_channel() {
        let (source, errors) = parse(json!("hook"));
        assert!(errors.is_empty());
        let source = source.unwrap();
        assert_eq!(source, Source { channel: Some("hook".to_owned()), ..Source::default() });
        assert_eq!(Value::Object(source.to_json()), json!({"channel": "hook"}));
    }

    #[test]
    fn known_fields_are_read_and_others_kept() {
        let given = json!({
            "channel": "hook", "integration": "claude-code", "emitter": "traceline-hook/0.3",
            "repo": {"url": "https://github.com/acme/app", "branch": "main"}, "hookEvent": "PostToolUse"
        });
        let (source, errors) = parse(given.clone());
        assert!(errors.is_empty());
        let source = source.unwrap();
        assert_eq!(source.integration.as_deref(), Some("claude-code"));
        assert_eq!(
            source.repo,
            Some(json!({"url": "https://github.com/acme/app", "branch": "main"}))
        );
        assert_eq!(Value::Object(source.extra.clone()), json!({"hookEvent": "PostToolUse"}));
        assert_eq!(Value::Object(source.to_json()), given);
        let (source, _) = parse(json!({"repo": "acme/app"}));
        assert_eq!(source.unwrap().repo, Some(json!("acme/app")));
    }

    #[test]
    fn empty_and_null_fields_are_absent() {
        let (source, errors) =
            parse(json!({"channel": null, "integration": null, "emitter": null, "repo": null}));
        assert!(errors.is_empty());
        assert_eq!(source, Some(Source::default()));
        assert_eq!(parse(json!({})).0, Some(Source::default()));
        assert_eq!(Value::Object(Source::default().to_json()), json!({}));
    }

    #[test]
    fn names_are_bounded_to_128_characters() {
        let longest = "é".repeat(MAX_SOURCE_NAME_CHARS);
        let (source, errors) = parse(json!({"integration": longest, "emitter": longest}));
        assert!(errors.is_empty());
        assert_eq!(source.unwrap().emitter, Some(longest));
        let (_, errors) =
            parse(json!({"integration": "x".repeat(129), "emitter": "y".repeat(129)}));
        assert_eq!(
            errors,
            [
                ("source.integration".to_owned(), "must be at most 128 characters".to_owned()),
                ("source.emitter".to_owned(), "must be at most 128 characters".to_owned()),
            ]
        );
        let (source, errors) = parse(json!({"channel": "c".repeat(1000)}));
        assert!(errors.is_empty() && source.is_some());
    }

    #[test]
    fn misfits_are_reported_with_paths() {
        let (_, errors) = parse(json!({"channel": 1, "integration": ["x"], "emitter": false}));
        let paths: Vec<_> = errors.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["source.channel", "source.integration", "source.emitter"]);
        for value in [json!(3), json!(["hook"]), json!(true)] {
            let (source, errors) = parse(value);
            assert_eq!(source, None);
            assert_eq!(
                errors,
                [("source".to_owned(), "must be a JSON object or a string".to_owned())]
            );
        }
        assert_eq!(parse(Value::Null).1, [("source".to_owned(), "is required".to_owned())]);
    }
}
