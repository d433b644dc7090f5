//! The ingest envelope (spec §4): parsed from JSON in one pass that reports every problem, and written back out.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::actor::Actor;
use super::kind::EventKind;
use super::provenance::Provenance;
use super::schemas::check_data;
use super::source::Source;
use crate::ids::{EventId, SessionId};
use crate::json::{as_integer, expect_object, nul_path, required_str, JsonObject, NUL_MESSAGE};
use crate::time::{format_timestamp_micros, parse_timestamp};
use crate::validation::ValidationErrors;

/// The only envelope version there is: `v` must be this.
pub const ENVELOPE_VERSION: i64 = 1;

/// How far ahead of the server's clock an event's `ts` may lie (spec §10.1). Clocks drift by seconds; an event
/// a day in the future is a wrong clock or a forged timeline, and it would skew every duration it touches.
pub const MAX_TS_AHEAD: TimeDelta = TimeDelta::hours(24);

/// One event as posted to `POST /v1/hooks/ingest`, validated and normalised.
///
/// Keys the envelope does not define are not kept here: the server stores the raw envelope as sent, so nothing
/// is lost, and this type holds only what Traceline interprets.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// `id`: the idempotency key.
    pub id: EventId,
    /// `sessionId`: the session to append to (created on first sight).
    pub session_id: SessionId,
    /// `ts`: when it happened, in UTC, truncated to microseconds.
    pub ts: DateTime<Utc>,
    /// `kind`, with the alias `tool_call` already mapped to `tool_result`.
    pub kind: EventKind,
    /// `source`, with a bare string read as its channel.
    pub source: Source,
    /// `actor`, defaulted when absent.
    pub actor: Actor,
    /// `provenance`, defaulted when absent.
    pub provenance: Provenance,
    /// `data`, normalised against the kind's strict schema when it has one.
    pub data: JsonObject,
    /// `rawPayload`: the client's original payload, as given.
    pub raw_payload: Option<Value>,
    /// `sig`: the client's signature of the event, as given.
    pub sig: Option<Value>,
    /// `prevSig`: the signature of the client's previous event, as given.
    pub prev_sig: Option<Value>,
}

impl Envelope {
    /// Validates an envelope, reporting every problem found, each with the path of its field.
    ///
    /// Required: `id` (UUID), `sessionId`, `ts` (with an offset), `kind`, `source`, `v` (= 1) and `data` (an
    /// object, checked against the kind's schema when it has one). `null` is the same as absent everywhere.
    /// Keys the spec does not define are allowed, at the top level and inside every object.
    pub fn parse(body: &Value) -> Result<Envelope, ValidationErrors> {
        Self::parse_with_clock(body, None)
    }

    /// [`Envelope::parse`] for an event the server receives at `now`: a `ts` more than [`MAX_TS_AHEAD`] after
    /// `now` is refused too, with the other problems.
    pub fn parse_received(body: &Value, now: DateTime<Utc>) -> Result<Envelope, ValidationErrors> {
        Self::parse_with_clock(body, Some(now))
    }

    fn parse_with_clock(
        body: &Value,
        now: Option<DateTime<Utc>>,
    ) -> Result<Envelope, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = expect_object(body, &mut errors, "") else {
            return Err(errors);
        };
        if let Some(path) = nul_path(body, "") {
            errors.push(path, NUL_MESSAGE);
        }
        let null = Value::Null;
        let field = |key: &str| object.get(key).unwrap_or(&null);

        let id = required_str(object, "id", &mut errors, "").and_then(|text| {
            EventId::parse(text).map_err(|error| errors.push("id", error.to_string())).ok()
        });
        let session_id = required_str(object, "sessionId", &mut errors, "").and_then(|text| {
            SessionId::parse(text).map_err(|error| errors.push("sessionId", error.to_string())).ok()
        });
        let ts = required_str(object, "ts", &mut errors, "").and_then(|text| {
            let ts =
                parse_timestamp(text).map_err(|error| errors.push("ts", error.to_string())).ok()?;
            match now {
                Some(now) if ts > now + MAX_TS_AHEAD => {
                    errors.push("ts", "must not be more than 24 hours ahead of the server's clock");
                    None
                }
                _ => Some(ts),
            }
        });
        let kind = required_str(object, "kind", &mut errors, "").and_then(|text| {
            EventKind::parse(text).map_err(|error| errors.push("kind", error.to_string())).ok()
        });
        let source = Source::parse(field("source"), "source", &mut errors);
        let actor = Actor::parse(field("actor"), "actor", &mut errors);
        let provenance = Provenance::parse(field("provenance"), "provenance", &mut errors);
        check_version(field("v"), &mut errors);
        let mut data = match field("data") {
            Value::Object(data) => Some(data.clone()),
            Value::Null => {
                errors.push("data", "is required");
                None
            }
            _ => {
                errors.push("data", "must be a JSON object");
                None
            }
        };
        if let (Some(kind), Some(data)) = (&kind, &mut data) {
            check_data(kind, data, &mut errors, "data");
        }

        let (Some(id), Some(session_id), Some(ts), Some(kind), Some(source), Some(data)) =
            (id, session_id, ts, kind, source, data)
        else {
            // Every `None` above recorded why.
            return Err(errors);
        };
        errors.into_result(Envelope {
            id,
            session_id,
            ts,
            kind,
            source,
            actor,
            provenance,
            data,
            raw_payload: optional_value(field("rawPayload")),
            sig: optional_value(field("sig")),
            prev_sig: optional_value(field("prevSig")),
        })
    }

    /// The normalised envelope as JSON: defaults written out, `ts` in UTC with microseconds, `v` = 1.
    ///
    /// [`Envelope::parse`] reads it back to an equal envelope.
    pub fn to_json(&self) -> JsonObject {
        let mut object = JsonObject::new();
        object.insert("id".to_owned(), self.id.as_str().into());
        object.insert("sessionId".to_owned(), self.session_id.as_str().into());
        object.insert("ts".to_owned(), format_timestamp_micros(&self.ts).into());
        object.insert("kind".to_owned(), self.kind.as_str().into());
        object.insert("source".to_owned(), self.source.to_json().into());
        object.insert("actor".to_owned(), self.actor.to_json().into());
        object.insert("provenance".to_owned(), self.provenance.to_json().into());
        object.insert("v".to_owned(), ENVELOPE_VERSION.into());
        object.insert("data".to_owned(), self.data.clone().into());
        let optional =
            [("rawPayload", &self.raw_payload), ("sig", &self.sig), ("prevSig", &self.prev_sig)];
        for (key, value) in optional {
            if let Some(value) = value {
                object.insert(key.to_owned(), value.clone());
            }
        }
        object
    }
}

/// `v` must be the number 1 (`1.0` too: JSON does not tell them apart).
fn check_version(value: &Value, errors: &mut ValidationErrors) {
    if value.is_null() {
        errors.push("v", "is required");
    } else if as_integer(value) != Some(ENVELOPE_VERSION) {
        errors.push("v", format!("must be {ENVELOPE_VERSION}"));
    }
}

fn optional_value(value: &Value) -> Option<Value> {
    (!value.is_null()).then(|| value.clone())
}
