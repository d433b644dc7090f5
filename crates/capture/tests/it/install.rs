//! Merging Traceline's hook command into each tool's configuration.

use serde_json::{json, Value};
use traceline_capture::install::{
    merge_claude_settings, merge_codex_hooks, merge_cursor_hooks, InstallError, CLAUDE_EVENTS,
    CODEX_EVENTS, CURSOR_EVENTS,
};

const COMMAND: &str = "/usr/local/bin/traceline hook claude-code";

fn handlers_of(groups: &Value) -> Vec<String> {
    groups
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|group| group["hooks"].as_array().unwrap().iter())
        .map(|handler| handler["command"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn claude_from_nothing() {
    let document = merge_claude_settings(None, COMMAND).unwrap();
    let hooks = document["hooks"].as_object().unwrap();
    assert_eq!(hooks.len(), CLAUDE_EVENTS.len());
    assert_eq!(
        hooks["PostToolUse"],
        json!([{"matcher": "*", "hooks": [{"type": "command", "command": COMMAND, "timeout": 10}]}])
    );
    assert_eq!(
        hooks["Stop"],
        json!([{"hooks": [{"type": "command", "command": COMMAND, "timeout": 10}]}])
    );
}

fn user_settings() -> Value {
    json!({
        "permissions": {"allow": ["Bash(npm test)"]},
        "hooks": {
            "PostToolUse": [{"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "npx prettier --write"}]}],
            "PreToolUse": [
                {"matcher": "Bash", "hooks": [
                    {"type": "command", "command": "./guard.sh"},
                    {"type": "command", "command": "/old/path/traceline hook claude-code"}
                ]},
                {"matcher": "*", "hooks": [{"type": "command", "command": "traceline hook claude-code --old"}]}
            ],
            "Notification": []
        }
    })
}

#[test]
fn claude_keeps_the_users_hooks_and_replaces_old_traceline_entries() {
    let document = merge_claude_settings(Some(user_settings()), COMMAND).unwrap();
    assert_eq!(document["permissions"], json!({"allow": ["Bash(npm test)"]}));
    let hooks = &document["hooks"];
    assert_eq!(handlers_of(&hooks["PostToolUse"]), ["npx prettier --write", COMMAND]);
    assert_eq!(hooks["PostToolUse"][0]["matcher"], "Edit|Write");
    // The old install's PreToolUse handlers are gone; the user's guard and its group stay, and ours brackets
    // shell commands only.
    assert_eq!(
        hooks["PreToolUse"],
        json!([
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]},
            {"matcher": "Bash|PowerShell", "hooks": [{"type": "command", "command": COMMAND, "timeout": 10}]}
        ])
    );
    assert_eq!(handlers_of(&hooks["Notification"]), [COMMAND]);
    let all = serde_json::to_string(&document).unwrap();
    assert_eq!(all.matches("hook claude-code").count(), CLAUDE_EVENTS.len());
}

#[test]
fn every_merge_is_idempotent() {
    type Merge = fn(Option<Value>, &str) -> Result<Value, InstallError>;
    let merges: [(Merge, &str); 3] = [
        (merge_claude_settings, "traceline hook claude-code"),
        (merge_cursor_hooks, "traceline hook cursor"),
        (merge_codex_hooks, "traceline hook codex"),
    ];
    for (merge, command) in merges {
        for start in [None, Some(user_settings()), Some(json!({"hooks": null}))] {
            let once = merge(start, command).unwrap();
            let twice = merge(Some(once.clone()), command).unwrap();
            assert_eq!(once, twice, "{command}");
        }
    }
}

#[test]
fn codex_and_cursor_layouts() {
    let codex = merge_codex_hooks(None, "traceline hook codex").unwrap();
    assert_eq!(codex["hooks"].as_object().unwrap().len(), CODEX_EVENTS.len());
    assert_eq!(codex["hooks"]["PostToolUse"][0]["matcher"], "*");
    assert_eq!(codex["hooks"]["PreToolUse"][0]["matcher"], "Bash");

    let existing = json!({"version": 1, "hooks": {
        "afterFileEdit": [{"command": "./format.sh"}, {"command": "/old/traceline hook cursor"}],
        "afterShellExecution": [{"command": "traceline hook cursor"}]
    }});
    let cursor = merge_cursor_hooks(Some(existing), "/new/traceline hook cursor").unwrap();
    assert_eq!(cursor["version"], 1);
    let hooks = cursor["hooks"].as_object().unwrap();
    assert_eq!(hooks.len(), CURSOR_EVENTS.len(), "the old afterShellExecution entry is gone");
    assert_eq!(
        hooks["afterFileEdit"],
        json!([{"command": "./format.sh"}, {"command": "/new/traceline hook cursor", "timeout": 10}])
    );
    assert_eq!(
        hooks["preToolUse"],
        json!([{"command": "/new/traceline hook cursor", "timeout": 10, "matcher": "Shell"}])
    );
}

#[test]
fn wrong_shapes_are_refused() {
    let shape = |at: &str| InstallError::UnexpectedShape { at: at.to_owned(), expected: "" };
    let at = |error: InstallError| match error {
        InstallError::UnexpectedShape { at, .. } => shape(&at),
        other => other,
    };
    assert_eq!(
        at(merge_claude_settings(Some(json!([])), COMMAND).unwrap_err()),
        shape("the document")
    );
    assert_eq!(
        at(merge_claude_settings(Some(json!({"hooks": []})), COMMAND).unwrap_err()),
        shape("hooks")
    );
    assert_eq!(
        at(merge_claude_settings(Some(json!({"hooks": {"Stop": {}}})), COMMAND).unwrap_err()),
        shape("hooks.Stop")
    );
    assert_eq!(
        at(merge_codex_hooks(Some(json!({"hooks": {"Stop": ["x"]}})), COMMAND).unwrap_err()),
        shape("hooks.Stop[]")
    );
    assert!(merge_cursor_hooks(Some(json!({"hooks": {"stop": "x"}})), COMMAND).is_err());
    assert_eq!(
        merge_cursor_hooks(Some(json!({"version": 2, "hooks": {}})), COMMAND).unwrap_err(),
        InstallError::UnsupportedVersion("2".to_owned())
    );
}
