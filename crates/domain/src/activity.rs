//! The recent-activity summary of `GET /v1/sessions/:id/recent-activity` (spec §5): what happened in the last
//! minutes of a session's activity, and the response that says so.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use crate::event::{EventKind, TimelineEvent};

/// Longest list of paths or commands a summary carries.
pub const MAX_RECENT_ITEMS: usize = 100;

/// The longest path or command line the summary repeats, in bytes; longer ones are cut at a character boundary
/// and end in `…`, so the response stays small (at most about 2 × [`MAX_RECENT_ITEMS`] × this) whatever the
/// candidate sent.
pub const MAX_RECENT_TEXT_BYTES: usize = 1024;

/// The window summarised: the `minutes` before the session's last activity, both ends included.
pub fn recent_window(
    last_activity_at: DateTime<Utc>,
    minutes: i64,
) -> (DateTime<Utc>, DateTime<Utc>) {
    (last_activity_at - Duration::minutes(minutes), last_activity_at)
}

/// `{summary, recentActivity, periodMinutes, eventCount}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RecentActivityReport {
    /// One sentence for people.
    pub summary: String,
    /// What the window holds.
    pub recent_activity: RecentActivity,
    /// The window actually used, after clamping.
    pub period_minutes: i64,
    /// Events in the window.
    pub event_count: usize,
}

/// `recentActivity`: the files changed, the commands run and the prompts sent in the window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RecentActivity {
    /// Paths changed, distinct and sorted, at most [`MAX_RECENT_ITEMS`].
    pub files_changed: Vec<String>,
    /// The most recent command lines, in timeline order, at most [`MAX_RECENT_ITEMS`].
    pub commands: Vec<String>,
    /// Prompts sent.
    pub prompt_count: usize,
}

/// `text`, or its first [`MAX_RECENT_TEXT_BYTES`] (to a character boundary) followed by `…`.
fn clip(text: &str) -> String {
    if text.len() <= MAX_RECENT_TEXT_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_RECENT_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Summarises the events of a window of `minutes` (given in timeline order).
pub fn summarize(events: &[TimelineEvent], minutes: i64) -> RecentActivityReport {
    let mut files = BTreeSet::new();
    let mut commands = Vec::new();
    let mut prompt_count = 0;
    for event in events {
        if event.kind.is_file_change() {
            files.extend(event.text("path").map(clip));
        } else if event.kind == EventKind::COMMAND {
            commands.extend(event.text("command").map(clip));
        } else if event.kind == EventKind::PROMPT {
            prompt_count += 1;
        }
    }
    let files_changed: Vec<String> = files.into_iter().take(MAX_RECENT_ITEMS).collect();
    // The most recent commands are the ones worth showing when there are many.
    let skip = commands.len().saturating_sub(MAX_RECENT_ITEMS);
    let commands: Vec<String> = commands.into_iter().skip(skip).collect();
    let summary = format!(
        "{} event(s) in the last {minutes} minute(s) of activity: {} file(s) changed, {} command(s), {} prompt(s)",
        events.len(),
        files_changed.len(),
        commands.len(),
        prompt_count
    );
    RecentActivityReport {
        summary,
        recent_activity: RecentActivity { files_changed, commands, prompt_count },
        period_minutes: minutes,
        event_count: events.len(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::json::JsonObject;

    fn event(kind: EventKind, data: serde_json::Value) -> TimelineEvent {
        let at = DateTime::parse_from_rfc3339("2026-04-01T10:00:00Z").unwrap().with_timezone(&Utc);
        let data: JsonObject = data.as_object().unwrap().clone();
        TimelineEvent {
            id: "e".into(),
            session_id: "s".into(),
            kind,
            ts: at,
            source: JsonObject::new(),
            actor: JsonObject::new(),
            provenance: JsonObject::new(),
            data,
            created_at: at,
        }
    }

    #[test]
    fn counts_files_commands_and_prompts_by_kind() {
        let events = [
            event(EventKind::FILE_DIFF, json!({"path": "b.rs"})),
            event(EventKind::FILE_CREATE, json!({"path": "a.rs"})),
            event(EventKind::FILE_DIFF, json!({"path": "b.rs"})),
            event(EventKind::COMMAND, json!({"command": "cargo test"})),
            event(EventKind::PROMPT, json!({"text": "go"})),
            event(EventKind::parse("note").unwrap(), json!({"path": "ignored.rs"})),
        ];
        let report = summarize(&events, 20);
        assert_eq!(report.recent_activity.files_changed, ["a.rs", "b.rs"]);
        assert_eq!(report.recent_activity.commands, ["cargo test"]);
        assert_eq!(report.recent_activity.prompt_count, 1);
        assert_eq!(report.event_count, 6);
        assert_eq!(
            report.summary,
            "6 event(s) in the last 20 minute(s) of activity: 2 file(s) changed, 1 command(s), 1 prompt(s)"
        );
    }

    #[test]
    fn keeps_the_most_recent_commands() {
        let events: Vec<_> = (0..150)
            .map(|i| event(EventKind::COMMAND, json!({"command": format!("run {i}")})))
            .collect();
        let commands = summarize(&events, 5).recent_activity.commands;
        assert_eq!(commands.len(), MAX_RECENT_ITEMS);
        assert_eq!(commands.first().map(String::as_str), Some("run 50"));
        assert_eq!(commands.last().map(String::as_str), Some("run 149"));
    }

    #[test]
    fn long_paths_and_commands_are_cut_at_a_character_boundary() {
        let long = format!("a{}", "é".repeat(MAX_RECENT_TEXT_BYTES));
        let events = [
            event(EventKind::COMMAND, json!({"command": long})),
            event(EventKind::FILE_DIFF, json!({"path": long})),
        ];
        let report = summarize(&events, 5);
        let command = &report.recent_activity.commands[0];
        assert!(command.ends_with('…') && long.starts_with(command.trim_end_matches('…')));
        assert_eq!(command.len(), MAX_RECENT_TEXT_BYTES - 1 + '…'.len_utf8());
        assert_eq!(&report.recent_activity.files_changed[0], command);
    }
}
