//! The message a signed event's `sig` covers (spec §10.2), built from the envelope exactly as it was sent, and
//! the event's hash.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::canonical::{canonical_json, push_number};
use crate::hex;

/// The first line of every signed message: the format and its version.
pub const MESSAGE_TAG: &str = "PST-EVT-V1";

/// The signature fields of an envelope, and the message its `sig` must verify over.
///
/// Built from the envelope as sent, never from its normalised form: the client signed `ts`, `kind` and `data`
/// as it wrote them (before the `tool_call` alias, the UTC conversion, or any default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSignature {
    /// `sig` in lower case, when it is a string. An event without one is unsigned.
    pub sig: Option<String>,
    /// `prevSig` in lower case; `""` when absent or `null` (the first event of a chain), `None` when it is not
    /// a string (then nothing can link through it).
    pub prev_sig: Option<String>,
    /// The signed message, when the envelope has every field it is built from.
    pub message: Option<String>,
}

impl EventSignature {
    /// Reads the signature fields of an envelope as sent and builds its message.
    pub fn of(envelope: &Value) -> Self {
        Self::read(envelope, true)
    }

    /// [`EventSignature::of`] for an event about to be verified: the message, which costs a canonical rendering
    /// and a hash of `data`, is built only when there is a `sig` to check it against.
    pub fn to_verify(envelope: &Value) -> Self {
        Self::read(envelope, envelope.get("sig").is_some_and(Value::is_string))
    }

    fn read(envelope: &Value, with_message: bool) -> Self {
        let field = |key: &str| envelope.get(key).filter(|value| !value.is_null());
        let prev_sig = match field("prevSig") {
            None => Some(String::new()),
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => None,
        };
        let message = match &prev_sig {
            Some(prev_sig) if with_message => signed_message(envelope, prev_sig),
            _ => None,
        };
        EventSignature {
            sig: field("sig").and_then(Value::as_str).map(str::to_ascii_lowercase),
            prev_sig: prev_sig.map(|text| text.to_ascii_lowercase()),
            message,
        }
    }

    /// Whether the envelope carries a signature at all.
    pub fn is_signed(&self) -> bool {
        self.sig.is_some()
    }

    /// The `eventHash` of the envelope: hex SHA-256 of its signed message.
    pub fn event_hash(&self) -> Option<String> {
        self.message.as_deref().map(sha256_hex)
    }
}

/// The message of spec §10.2, each field followed by `\n`: the tag, `id`, `sessionId`, `ts` and `kind` as sent,
/// the source's name, `v` in decimal, the hex SHA-256 of `data`'s canonical JSON, and `prev_sig` as sent. `None`
/// when a field is missing or of the wrong type (an envelope that passed validation always has them).
pub fn signed_message(envelope: &Value, prev_sig: &str) -> Option<String> {
    let text = |key: &str| envelope.get(key).and_then(Value::as_str);
    let mut version = String::new();
    push_number(&mut version, envelope.get("v")?.as_number()?);
    let data = envelope.get("data").filter(|data| data.is_object())?;
    let fields = [
        MESSAGE_TAG,
        text("id")?,
        text("sessionId")?,
        text("ts")?,
        text("kind")?,
        source_name(envelope.get("source")?)?,
        &version,
        &sha256_hex(&canonical_json(data)),
        prev_sig,
    ];
    let mut message = String::with_capacity(fields.iter().map(|field| field.len() + 1).sum());
    for field in fields {
        message.push_str(field);
        message.push('\n');
    }
    Some(message)
}

/// A string source as it is; for an object, its `integration`, else `emitter`, else `channel` (the first that is
/// a non-empty string, as JavaScript's `||` picks it), else the empty string.
fn source_name(source: &Value) -> Option<&str> {
    match source {
        Value::String(name) => Some(name),
        Value::Object(object) => Some(
            ["integration", "emitter", "channel"]
                .iter()
                .find_map(|key| object.get(*key).and_then(Value::as_str).filter(|s| !s.is_empty()))
                .unwrap_or(""),
        ),
        _ => None,
    }
}

/// Lower-case hex SHA-256 of a text's UTF-8 bytes.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn envelope() -> Value {
        json!({
            "id": "e1", "sessionId": "s1", "ts": "2026-04-01T10:00:00+02:00", "kind": "tool_call",
            "source": {"channel": "hook", "emitter": "x/1"}, "v": 1.0, "data": {"b": 1, "a": [2.0]},
        })
    }

    #[test]
    fn fields_are_taken_as_sent() {
        let signature = EventSignature::of(&envelope());
        let hash = sha256_hex("{\"a\":[2],\"b\":1}");
        assert_eq!(
            signature.message.as_deref(),
            Some(
                format!(
                    "PST-EVT-V1\ne1\ns1\n2026-04-01T10:00:00+02:00\ntool_call\nx/1\n1\n{hash}\n\n"
                )
                .as_str()
            )
        );
        assert_eq!((signature.sig, signature.prev_sig.as_deref()), (None, Some("")));
    }

    #[test]
    fn the_source_name_falls_back_in_order() {
        let name = |source: Value| source_name(&source).map(str::to_owned);
        assert_eq!(name(json!("terminal")).as_deref(), Some("terminal"));
        assert_eq!(
            name(json!({"channel": "c", "emitter": "e", "integration": "i"})).as_deref(),
            Some("i")
        );
        assert_eq!(name(json!({"channel": "c", "integration": ""})).as_deref(), Some("c"));
        assert_eq!(name(json!({"repo": "r"})).as_deref(), Some(""));
        assert_eq!(name(json!(3)), None);
    }

    #[test]
    fn signature_fields_are_read_leniently_and_in_lower_case() {
        let mut body = envelope();
        body["sig"] = json!("ABCD");
        body["prevSig"] = json!("EF");
        let signature = EventSignature::of(&body);
        assert_eq!(
            (signature.sig.as_deref(), signature.prev_sig.as_deref()),
            (Some("abcd"), Some("ef"))
        );
        assert!(
            signature.message.unwrap().ends_with("\nEF\n"),
            "the message keeps prevSig as sent"
        );
        body["prevSig"] = json!(7);
        let signature = EventSignature::of(&body);
        assert_eq!((signature.prev_sig, signature.message), (None, None));
        body["prevSig"] = Value::Null;
        body["sig"] = json!(1);
        let signature = EventSignature::of(&body);
        assert!(!signature.is_signed());
        assert_eq!(signature.prev_sig.as_deref(), Some(""));
        let to_verify = EventSignature::to_verify(&body);
        assert_eq!(
            (to_verify.sig, to_verify.prev_sig.as_deref(), to_verify.message),
            (None, Some(""), None)
        );
        body["sig"] = json!("AB");
        assert_eq!(EventSignature::to_verify(&body), EventSignature::of(&body));
        body["data"] = json!([]);
        assert_eq!(EventSignature::of(&body).event_hash(), None);
    }
}
