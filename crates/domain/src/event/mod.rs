//! Timeline events: the envelope of `POST /v1/hooks/ingest` (spec §4), parsed, validated and normalised.
//!
//! [`Envelope::parse`] is the whole contract in one call: it takes the JSON value of one event, reports every
//! problem at once (each with the dotted path the API puts in `details`), and returns the normalised envelope
//! the server stores. It does no I/O and reads no clock, so other Rust services can validate events before
//! sending them.
//!
//! Real hook traffic is the norm: clients add fields often and leave most out. So the parser is strict exactly
//! where the spec is, and lenient elsewhere. Where the spec is silent it decides as follows:
//!
//! - **`null` is absent.** A required field sent as `null` is "required"; an optional one gets its default. An
//!   optional strict `data` field sent as `null` is removed from the stored `data`.
//! - **Unknown keys are kept.** At the top level they are left to the raw envelope the server stores as sent;
//!   inside `source`, `actor` and `provenance` they are kept in `extra` and written back by `to_json`; inside
//!   `data` they stay where they are, for every kind.
//! - **Integers** are JSON numbers with no fractional part that fit in an `i64`: `3` and `3.0` (stored as `3`),
//!   not `3.5`, `"3"` or `true`. The same rule reads `v`, so `1.0` is version 1.
//! - **Strings** in strict schemas are checked for type only: an empty `command` or `path` is accepted. Only
//!   `source.integration` and `source.emitter` have a length bound (128 characters).
//! - **`source`** fields `channel`, `integration` and `emitter` must be strings; `repo` may be any JSON value
//!   (clients send a URL, a name, or an object), stored as given.
//! - **Closed word sets** (`actor.type`, `provenance.attribution`, `provenance.observability`) are matched
//!   exactly: `"AI"` is a 400, not `ai`.
//! - **`prompt` alias:** `data.prompt` is read only when `data.text` is absent or `null`; it is then moved to
//!   `text`. When both are sent, `text` wins and `prompt` stays as an ordinary extra key.
//! - **Ids:** `id` is any UUID spelling the `uuid` crate reads, stored lower-case and hyphenated, so a retry
//!   that spells it differently is still the same event.

mod actor;
mod envelope;
mod keyword;
mod kind;
mod provenance;
mod schemas;
mod source;
mod timeline;

#[cfg(test)]
mod envelope_tests;
#[cfg(test)]
mod examples;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod strategies;
#[cfg(test)]
mod test_support;

pub use actor::{Actor, ActorType};
pub use envelope::{Envelope, ENVELOPE_VERSION, MAX_TS_AHEAD};
pub use kind::{EventKind, InvalidEventKind, MAX_EVENT_KIND_LEN, TOOL_CALL_ALIAS};
pub use provenance::{Attribution, Observability, Provenance, DEFAULT_CONFIDENCE};
pub use schemas::{strict_schemas, FieldType as DataFieldType, Rule as DataRule};
pub use source::{Source, MAX_SOURCE_NAME_CHARS};
pub use timeline::TimelineEvent;
