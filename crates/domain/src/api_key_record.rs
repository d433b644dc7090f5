//! An org API key as reviewers manage it (spec §10.3): what `GET /v1/api-keys` lists, the body that creates one,
//! and the name a key acts under when scores and decisions record who made them.

use chrono::{DateTime, Utc};
use serde::Serializer;
use serde_json::Value;

use crate::api_key::{Scope, Scopes};
use crate::ids::OrgId;
use crate::json::{expect_object, string_field};
use crate::sign_in::TOUCH_AFTER;
use crate::validation::ValidationErrors;

/// How much of a key's secret is kept and shown, so people can tell their keys apart (`psk_live_AbC`).
pub const KEY_PREFIX_CHARS: usize = 12;
/// Longest key name, in characters.
pub const MAX_API_KEY_NAME_CHARS: usize = 255;

/// An org API key without its secret: the ApiKeyObject of `GET /v1/api-keys`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApiKeyRecord {
    /// Server-generated id.
    pub id: String,
    /// The org the key acts for.
    #[serde(skip)]
    pub org_id: OrgId,
    /// What people call it; `None` when it was created without a name.
    pub name: Option<String>,
    /// What it may do: `read`, `write` or both.
    #[serde(serialize_with = "scope_names")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub scopes: Scopes,
    /// The first 12 characters of the secret; `None` for keys created before prefixes were kept.
    pub prefix: Option<String>,
    /// When it was created.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request (kept to the minute).
    #[serde(with = "crate::time::api_format_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::ApiTimestamp>"))]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; revoked keys never authenticate again.
    #[serde(with = "crate::time::api_format_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::ApiTimestamp>"))]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyRecord {
    /// The name the key acts under.
    pub fn display_name(&self) -> String {
        api_key_name(self.name.as_deref(), self.prefix.as_deref(), &self.id)
    }
}

fn scope_names<S: Serializer>(scopes: &Scopes, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(scopes.names())
}

/// Whether a key last used at `last_used_at` should record a use at `now`. Uses are kept to the minute, as
/// sign-ins are, so a busy key costs one write a minute rather than one a request.
pub fn last_use_is_stale(last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|last| now - last >= TOUCH_AFTER)
}

/// The part of a secret that is kept in the clear.
pub fn secret_prefix(secret: &str) -> String {
    secret.chars().take(KEY_PREFIX_CHARS).collect()
}

/// What a key is called where a person must recognise it: its name, else its prefix, else the start of its id.
pub fn api_key_name(name: Option<&str>, prefix: Option<&str>, id: &str) -> String {
    match (name, prefix) {
        (Some(name), _) if !name.trim().is_empty() => name.to_owned(),
        (_, Some(prefix)) => format!("API key {prefix}…"),
        _ => format!("API key {}", id.chars().take(8).collect::<String>()),
    }
}

/// A validated `POST /v1/api-keys` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKeyRequest {
    /// Its name, if given (blank counts as none).
    pub name: Option<String>,
    /// What it may do.
    pub scopes: Scopes,
}

/// Validates `{name?, scopes}`, where `scopes` is an array of `read` / `write` (or the comma-separated form the
/// command line takes).
pub fn parse_api_key_request(body: &Value) -> Result<NewApiKeyRequest, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Some(object) = expect_object(body, &mut errors, "") else {
        return Err(errors);
    };
    let name = string_field(object, "name", MAX_API_KEY_NAME_CHARS, &mut errors, "")
        .value()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty());
    let listed = match object.get("scopes") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()
            .map(|names| names.join(",")),
        Some(Value::String(text)) => Some(text.clone()),
        _ => None,
    };
    let scopes = match listed.as_deref().map(Scopes::parse) {
        Some(Ok(scopes)) => Some(scopes),
        Some(Err(error)) => {
            errors.push("scopes", error.to_string());
            None
        }
        None => {
            errors.push("scopes", "is required: an array of \"read\" and/or \"write\"");
            None
        }
    };
    match scopes {
        Some(scopes) if errors.is_empty() => Ok(NewApiKeyRequest { name, scopes }),
        _ => Err(errors),
    }
}

impl Scopes {
    /// The scopes held, by name, in the order `read`, `write`.
    pub fn names(self) -> Vec<&'static str> {
        [Scope::Read, Scope::Write]
            .into_iter()
            .filter(|scope| self.allows(*scope))
            .map(Scope::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn requests_take_scopes_as_an_array_or_a_list() {
        assert_eq!(
            parse_api_key_request(&json!({"name": " CI ", "scopes": ["read"]})).unwrap(),
            NewApiKeyRequest { name: Some("CI".into()), scopes: Scopes::READ }
        );
        assert_eq!(
            parse_api_key_request(&json!({"scopes": "read,write"})).unwrap().scopes,
            Scopes::READ_WRITE
        );
        let paths = |body: Value| -> Vec<String> {
            parse_api_key_request(&body).unwrap_err().0.into_iter().map(|e| e.path).collect()
        };
        assert_eq!(paths(json!({})), ["scopes"]);
        assert_eq!(paths(json!({"scopes": []})), ["scopes"]);
        assert_eq!(paths(json!({"scopes": ["admin"]})), ["scopes"]);
        assert_eq!(paths(json!({"scopes": [1]})), ["scopes"]);
        assert_eq!(paths(json!({"name": 3, "scopes": ["read"]})), ["name"]);
    }

    #[test]
    fn keys_are_named_by_name_then_prefix_then_id() {
        assert_eq!(api_key_name(Some("CI"), Some("psk_live_AbC"), "id"), "CI");
        assert_eq!(api_key_name(Some(" "), Some("psk_live_AbC"), "id"), "API key psk_live_AbC…");
        assert_eq!(api_key_name(None, None, "0123456789"), "API key 01234567");
        assert_eq!(secret_prefix("psk_live_AbCdEf"), "psk_live_AbC");
        assert_eq!(Scopes::READ_WRITE.names(), ["read", "write"]);
    }
}
