//! Proptest strategies for the event tests: arbitrary JSON, and valid envelopes in every spelling the spec allows.

use chrono::{DateTime, FixedOffset};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::test_support::{specs, Spec};

/// The envelope's own top-level keys, which damaged envelopes drop or overwrite.
pub(super) const TOP_LEVEL_KEYS: &[&str] =
    &["id", "sessionId", "ts", "kind", "source", "actor", "provenance", "v", "data", "rawPayload"];

/// Other keys and words the parser reacts to; with [`TOP_LEVEL_KEYS`] they make arbitrary values often reach the
/// interesting branches.
const WORDS: &[&str] = &[
    "sig",
    "prevSig",
    "channel",
    "integration",
    "emitter",
    "repo",
    "type",
    "role",
    "attribution",
    "confidence",
    "observability",
    "methods",
    "command",
    "exitCode",
    "durationMs",
    "path",
    "linesAdded",
    "text",
    "prompt",
    "impactScore",
    "tool_call",
    "file_diff",
    "prompt",
    "ai",
    "likely_ai",
    "high",
    "2026-04-01T10:15:00Z",
    "6f9619ff-8b86-d011-b42d-00c04fc964ff",
];

/// Any JSON value up to a few levels deep, biased towards the words the parser knows.
pub(super) fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (-8_i64..8).prop_map(|n| Value::from(n as f64)),
        prop_oneof![select(TOP_LEVEL_KEYS), select(WORDS)].prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::vec((any_key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![
        select(TOP_LEVEL_KEYS).prop_map(str::to_owned),
        select(WORDS).prop_map(str::to_owned),
        "[a-zA-Z_]{0,8}"
    ]
}

/// Keys no envelope part defines, for the extras clients add.
fn extras() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x_[a-z]{1,6}", any_json(), 0..3)
        .prop_map(|map| map.into_iter().collect())
}

/// An object of extras plus `fields`, each of which may be left out.
fn object_with(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> impl Strategy<Value = Value> {
    let fields: Vec<_> = fields
        .into_iter()
        .map(|(key, value)| {
            prop::option::of(value).prop_map(move |value| value.map(|value| (key, value)))
        })
        .collect();
    (extras(), fields).prop_map(|(mut object, fields)| {
        object.extend(fields.into_iter().flatten().map(|(key, value)| (key.to_owned(), value)));
        Value::Object(object)
    })
}

fn uuid_spelling() -> impl Strategy<Value = String> {
    (any::<u128>(), 0..4_u8).prop_map(|(bits, form)| {
        let uuid = Uuid::from_u128(bits);
        match form {
            0 => uuid.hyphenated().to_string(),
            1 => uuid.hyphenated().to_string().to_uppercase(),
            2 => uuid.simple().to_string(),
            _ => uuid.braced().to_string(),
        }
    })
}

fn timestamp() -> impl Strategy<Value = String> {
    (0_i64..4_102_444_800, 0_u32..1_000_000_000, -720_i32..=840).prop_map(
        |(secs, nanos, minutes)| {
            let offset = FixedOffset::east_opt(minutes * 60).unwrap();
            DateTime::from_timestamp(secs, nanos).unwrap().with_timezone(&offset).to_rfc3339()
        },
    )
}

fn text() -> BoxedStrategy<Value> {
    prop_oneof![Just(Value::Null), ".{0,16}".prop_map(Value::from)].boxed()
}

fn integer(min: i64, max: i64) -> BoxedStrategy<Value> {
    let max = max.min(min.saturating_add(100_000));
    prop_oneof![
        Just(Value::Null),
        (min..=max).prop_map(Value::from),
        (min..=max).prop_map(|n| Value::from(n as f64)),
    ]
    .boxed()
}

/// Valid `data` for a strict kind: required fields always there (`text` sometimes as its alias `prompt`).
fn strict_data(spec: &Spec) -> impl Strategy<Value = Value> {
    let mut fields: Vec<(&'static str, BoxedStrategy<Value>)> = spec
        .strings
        .iter()
        .filter(|key| !spec.required.contains(key))
        .map(|key| (*key, text()))
        .collect();
    fields.extend(spec.integers.iter().map(|(key, min, max)| (*key, integer(*min, *max))));
    let required: Vec<_> =
        spec.required.iter().map(|key| (Just(*key), ".{0,16}", any::<bool>())).collect();
    let aliased = spec.kind == "prompt";
    (object_with(fields), required).prop_map(move |(mut data, required)| {
        for (key, value, use_alias) in required {
            let key = if aliased && use_alias { "prompt" } else { key };
            data[key] = Value::from(value);
        }
        data
    })
}

/// A kind and a `data` valid for it.
fn kind_and_data() -> impl Strategy<Value = (String, Value)> {
    let strict: Vec<_> = specs()
        .into_iter()
        .map(|spec| (Just(spec.kind.to_owned()), strict_data(&spec)).boxed())
        .collect();
    let free = ("[a-z][a-z0-9_]{0,63}", extras().prop_map(Value::Object))
        .prop_filter("strict kinds have their own generator", |(kind, _)| {
            specs().iter().all(|spec| spec.kind != kind)
        })
        .boxed();
    let alias = (Just("tool_call".to_owned()), extras().prop_map(Value::Object)).boxed();
    prop_oneof![prop::strategy::Union::new(strict), free, alias]
}

fn source() -> impl Strategy<Value = Value> {
    let name = || prop_oneof![Just(Value::Null), ".{0,128}".prop_map(Value::from)].boxed();
    prop_oneof![
        ".{0,16}".prop_map(Value::from),
        object_with(vec![
            ("channel", text()),
            ("integration", name()),
            ("emitter", name()),
            ("repo", any_json().boxed()),
        ]),
    ]
}

fn word(words: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![Just(Value::Null), select(words).prop_map(Value::from)].boxed()
}

fn actor() -> impl Strategy<Value = Value> {
    object_with(vec![("type", word(&["ai", "human", "system", "unknown"])), ("role", text())])
}

fn provenance() -> impl Strategy<Value = Value> {
    let attributions = &[
        "likely_ai",
        "ai_revised_by_human",
        "likely_human",
        "mixed",
        "system_generated",
        "unknown",
    ];
    let methods = prop::collection::vec(".{0,8}".prop_map(Value::from), 0..3).prop_map(Value::from);
    object_with(vec![
        ("attribution", word(attributions)),
        (
            "confidence",
            prop_oneof![Just(Value::Null), (0.0..=1.0_f64).prop_map(Value::from)].boxed(),
        ),
        ("observability", word(&["high", "medium", "partial", "low", "unknown"])),
        ("methods", prop_oneof![Just(Value::Null), methods].boxed()),
    ])
}

/// A valid envelope, with optional parts sometimes left out, sometimes `null`, and extras at every level.
pub(super) fn valid_envelope() -> impl Strategy<Value = Value> {
    let session = prop_oneof![uuid_spelling(), "[A-Za-z0-9._:-]{1,128}"];
    let head = (
        uuid_spelling(),
        session,
        timestamp(),
        kind_and_data(),
        source(),
        prop_oneof![Just(json!(1)), Just(json!(1.0))],
    );
    let optional = prop::option::of(prop_oneof![Just(Value::Null), any_json()]);
    let tail = (
        prop::option::of(actor()),
        prop::option::of(provenance()),
        optional.clone(),
        optional.clone(),
        optional,
    );
    (head, tail, extras()).prop_map(
        |(
            (id, session, ts, (kind, data), source, v),
            (actor, provenance, raw, sig, prev_sig),
            mut object,
        )| {
            let fields = [
                ("id", Some(Value::from(id))),
                ("sessionId", Some(Value::from(session))),
                ("ts", Some(Value::from(ts))),
                ("kind", Some(Value::from(kind))),
                ("source", Some(source)),
                ("v", Some(v)),
                ("data", Some(data)),
                ("actor", actor),
                ("provenance", provenance),
                ("rawPayload", raw),
                ("sig", sig),
                ("prevSig", prev_sig),
            ];
            object.extend(
                fields.into_iter().filter_map(|(key, value)| Some((key.to_owned(), value?))),
            );
            without_nul(Value::Object(object))
        },
    )
}

/// `value` with every U+0000 in its strings and keys replaced by a space: a valid envelope holds no NUL (the
/// parser refuses it, since PostgreSQL cannot store it), while the generators above produce any character.
fn without_nul(value: Value) -> Value {
    let clean = |text: String| if text.contains('\0') { text.replace('\0', " ") } else { text };
    match value {
        Value::String(text) => Value::String(clean(text)),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nul).collect()),
        Value::Object(fields) => Value::Object(
            fields.into_iter().map(|(key, item)| (clean(key), without_nul(item))).collect(),
        ),
        other => other,
    }
}
