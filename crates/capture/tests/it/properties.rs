//! `map_hook` never panics and only produces valid envelopes, whatever JSON it is given.

use crate::support::{context, sent};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use traceline_capture::install::{CLAUDE_EVENTS, CODEX_EVENTS, CURSOR_EVENTS};
use traceline_capture::{map_hook, Tool};

/// Tool names the mappings know, so arbitrary payloads reach the deep paths too (the events are those the
/// installer listens to).
const TOOLS: &[&str] = &[
    "Bash",
    "Edit",
    "Write",
    "MultiEdit",
    "Read",
    "Grep",
    "Glob",
    "WebFetch",
    "TodoWrite",
    "TaskCreate",
    "mcp__github__get_issue",
    "Shell",
    "Delete",
    "apply_patch",
    "Agent",
];
const KEYS: &[&str] = &[
    "tool_input",
    "tool_response",
    "tool_output",
    "command",
    "prompt",
    "file_path",
    "edits",
    "structuredPatch",
    "stdout",
    "error",
    "cwd",
    "source",
    "agent_type",
    "agent_id",
    "tool_use_id",
    "text",
    "last_assistant_message",
    "workspace_roots",
    "type",
    "content",
    "old_string",
    "new_string",
    "lines",
    "exitCode",
    "filePath",
];

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::from),
        prop::sample::select(KEYS).prop_map(Value::from),
        Just(json!("Exit code 1\ntest result: ok. 1 passed; 0 failed")),
        Just(json!("*** Begin Patch\n*** Add File: /x/a\n+1\n*** End Patch")),
        Just(json!("{\"exitCode\": 2, \"stdout\": \"5 passed in 1s\"}")),
        Just(json!("/home/dev/work/bookshelf-api/src/a.ts")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|entries| {
                Value::Object(
                    entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A payload shaped like a hook call: a known event and tool, and arbitrary everything else.
fn payload() -> impl Strategy<Value = Value> {
    (
        prop::sample::select([CLAUDE_EVENTS, CURSOR_EVENTS, CODEX_EVENTS].concat()),
        prop::sample::select(TOOLS),
        prop::collection::vec((prop::sample::select(KEYS), arbitrary_json()), 0..8),
    )
        .prop_map(|(event, tool, fields)| {
            let mut object: Map<String, Value> =
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            object.insert("hook_event_name".to_owned(), json!(event));
            object.insert("tool_name".to_owned(), json!(tool));
            Value::Object(object)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn hook_shaped_payloads_give_valid_envelopes(payload in payload()) {
        for tool in Tool::ALL {
            let first = map_hook(tool, &payload, &context());
            for envelope in &first {
                sent(envelope);
            }
            prop_assert_eq!(&first, &map_hook(tool, &payload, &context()));
        }
    }

    #[test]
    fn any_json_is_mapped_without_panicking(value in arbitrary_json()) {
        for tool in Tool::ALL {
            for envelope in map_hook(tool, &value, &context()) {
                sent(&envelope);
            }
        }
    }
}
