//! A timeline event as the session view draws it, kind by kind (UI.md, "The session view"): a prompt as the
//! candidate's words, a command with its exit code, duration and output, a file change as a diff, a test run as
//! its counts, a decision with its reasoning, AI text folded away, and every other kind as key/value rows.
//! Everything here is the candidate's text, still unescaped: the templates escape it.

use chrono::{DateTime, Utc};
use serde_json::Value;
use traceline_domain::metrics::{EventFacts, EventSet};
use traceline_domain::{EventKind, TimelineEvent};

use super::ansi::{segments, Segment};
use super::diff::{created, unified, DiffView};
use super::format;
use super::text::{clip, escaped_len, shorten, Clipped};

/// Characters of a prompt, a rationale or an AI message shown at most.
const MAX_PROSE_CHARS: usize = 8_000;
/// Characters of each output stream of a command shown at most (its start and its end).
const MAX_OUTPUT_CHARS: usize = 6_000;
/// Characters of one value of a loose kind's row.
const MAX_FIELD_CHARS: usize = 300;
/// Rows of a loose kind shown at most.
const MAX_FIELDS: usize = 12;

/// One event of the timeline.
pub(crate) struct EventView {
    pub(crate) id: String,
    pub(crate) kind: String,
    /// What the kind is called on the page (`Command`, `File change`, `tool result`).
    pub(crate) label: String,
    /// `actor.type`: `ai`, `human`, `system` or `unknown`.
    pub(crate) actor: String,
    /// `10:15:03`.
    pub(crate) time: String,
    /// The `datetime` of its `<time>`.
    pub(crate) at: String,
    /// Time since the session started: `+04:05`.
    pub(crate) offset: String,
    /// A command that exited non-zero, or a test run with failures (the set `failures`).
    pub(crate) failed: bool,
    pub(crate) body: Body,
    /// Roughly how many bytes of escaped candidate text it draws, for the page's budget.
    pub(crate) weight: usize,
}

/// What an event shows, by kind.
pub(crate) enum Body {
    Prompt {
        text: Clipped,
    },
    Command {
        command: String,
        exit_code: Option<i64>,
        duration: Option<String>,
        cwd: Option<String>,
        stdout: Output,
        stderr: Output,
    },
    FileChange {
        path: String,
        created: bool,
        added: Option<i64>,
        removed: Option<i64>,
        diff: DiffView,
    },
    TestRun {
        suite: Option<String>,
        passed: Option<i64>,
        failed: Option<i64>,
        skipped: Option<i64>,
        duration: Option<String>,
    },
    Decision {
        title: String,
        chosen: Option<String>,
        context: Option<String>,
        tradeoffs: Option<String>,
        rationale: Option<String>,
        impact: Option<i64>,
    },
    AiText {
        label: &'static str,
        text: Clipped,
    },
    Fields {
        rows: Vec<(String, String)>,
        more: usize,
    },
}

/// Terminal output, styled, with the middle left out when it is long.
pub(crate) struct Output {
    pub(crate) head: Vec<Segment>,
    pub(crate) omitted: usize,
    pub(crate) tail: Vec<Segment>,
}

impl Output {
    fn of(text: Option<&str>) -> Output {
        let clipped = clip(text.unwrap_or_default(), MAX_OUTPUT_CHARS);
        Output {
            head: segments(&clipped.head),
            omitted: clipped.omitted,
            tail: segments(&clipped.tail),
        }
    }

    /// Whether there is anything to show.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_empty() && self.tail.is_empty()
    }
}

impl EventView {
    /// The view of `event` in a session that started at `started_at`.
    pub(crate) fn of(event: &TimelineEvent, started_at: DateTime<Utc>) -> EventView {
        let integer = |key: &str| event.data.get(key).and_then(Value::as_i64);
        let text = |key: &str| event.text(key).map(str::to_owned);
        // The same classification as the `failures` filter and `f`'s search on the server.
        let failed = EventFacts::of_stored(event).marks().contains(EventSet::Failures);
        let body = match event.kind.as_str() {
            kind if kind == EventKind::PROMPT.as_str() => Body::Prompt {
                text: clip(
                    event.text("text").or(event.text("prompt")).unwrap_or_default(),
                    MAX_PROSE_CHARS,
                ),
            },
            kind if kind == EventKind::COMMAND.as_str() => Body::Command {
                command: text("command").unwrap_or_default(),
                exit_code: integer("exitCode"),
                duration: integer("durationMs").map(format::duration),
                cwd: text("cwd"),
                stdout: Output::of(event.text("stdout")),
                stderr: Output::of(event.text("stderr")),
            },
            kind if kind == EventKind::FILE_DIFF.as_str()
                || kind == EventKind::FILE_CREATE.as_str() =>
            {
                let is_new = kind == EventKind::FILE_CREATE.as_str();
                let diff = match (event.text("diff"), event.text("content")) {
                    (Some(diff), _) => unified(diff),
                    (None, Some(content)) if is_new => created(content),
                    _ => DiffView::default(),
                };
                Body::FileChange {
                    path: text("path").unwrap_or_default(),
                    created: is_new,
                    added: integer("linesAdded"),
                    removed: integer("linesRemoved"),
                    diff,
                }
            }
            kind if kind == EventKind::TEST_RUN.as_str() => Body::TestRun {
                suite: text("suite"),
                passed: integer("passed"),
                failed: integer("failed"),
                skipped: integer("skipped"),
                duration: integer("durationMs").map(format::duration),
            },
            kind if kind == EventKind::DECISION_EVENT.as_str() => Body::Decision {
                title: text("title").unwrap_or_else(|| "Decision".to_owned()),
                chosen: text("chosenOption"),
                context: text("context"),
                tradeoffs: text("tradeoffs"),
                rationale: text("rationale"),
                impact: integer("impactScore"),
            },
            // Traceline's client and Promptster's CLI name an AI response's words `lastAssistantMessage`.
            "ai_response" | "ai_thought"
                if event.text("text").or(event.text("lastAssistantMessage")).is_some() =>
            {
                Body::AiText {
                    label: if event.kind.as_str() == "ai_thought" {
                        "AI reasoning"
                    } else {
                        "AI response"
                    },
                    text: clip(
                        event
                            .text("text")
                            .or(event.text("lastAssistantMessage"))
                            .unwrap_or_default(),
                        MAX_PROSE_CHARS,
                    ),
                }
            }
            _ => {
                let rows: Vec<(String, String)> = event
                    .data
                    .iter()
                    .take(MAX_FIELDS)
                    .map(|(key, value)| (key.clone(), shorten(&compact(value), MAX_FIELD_CHARS)))
                    .collect();
                Body::Fields { more: event.data.len().saturating_sub(rows.len()), rows }
            }
        };
        EventView {
            id: event.id.clone(),
            kind: event.kind.as_str().to_owned(),
            label: label(event.kind.as_str()),
            actor: event.actor.get("type").and_then(Value::as_str).unwrap_or("unknown").to_owned(),
            time: format::time_of_day(event.ts),
            at: format::machine(event.ts),
            offset: format::offset((event.ts - started_at).num_milliseconds()),
            failed,
            weight: body.weight(),
            body,
        }
    }
}

impl Body {
    /// Bytes of escaped candidate text it draws, roughly.
    fn weight(&self) -> usize {
        // Markup around each run of output or line of a diff, roughly.
        const PER_RUN: usize = 24;
        const PER_LINE: usize = 40;
        let clipped = |text: &Clipped| escaped_len(&text.head) + escaped_len(&text.tail);
        let output = |output: &Output| {
            let runs = output.head.iter().chain(&output.tail);
            runs.map(|segment| escaped_len(&segment.text) + PER_RUN).sum::<usize>()
        };
        let optional = |text: &Option<String>| text.as_deref().map_or(0, escaped_len);
        match self {
            Body::Prompt { text } | Body::AiText { text, .. } => clipped(text),
            Body::Command { command, stdout, stderr, .. } => {
                escaped_len(command) + output(stdout) + output(stderr)
            }
            Body::FileChange { path, diff, .. } => {
                let lines = diff.lines.iter().map(|line| escaped_len(&line.text) + PER_LINE);
                escaped_len(path) + lines.sum::<usize>()
            }
            Body::TestRun { suite, .. } => optional(suite),
            Body::Decision { title, chosen, context, tradeoffs, rationale, .. } => {
                escaped_len(title)
                    + optional(chosen)
                    + optional(context)
                    + optional(tradeoffs)
                    + optional(rationale)
            }
            Body::Fields { rows, .. } => {
                rows.iter().map(|(key, value)| escaped_len(key) + escaped_len(value)).sum()
            }
        }
    }
}

/// What a kind is called: a word for the kinds the view draws, the kind itself (`tool_result` → `Tool result`)
/// for the others.
fn label(kind: &str) -> String {
    match kind {
        "prompt" => "Prompt".to_owned(),
        "command" => "Command".to_owned(),
        "file_diff" => "File change".to_owned(),
        "file_create" => "New file".to_owned(),
        "test_run" => "Test run".to_owned(),
        "decision_event" => "Decision".to_owned(),
        "ai_response" => "AI response".to_owned(),
        "ai_thought" => "AI reasoning".to_owned(),
        other => {
            let words = other.replace('_', " ");
            let mut chars = words.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or(words)
        }
    }
}

/// A JSON value on one line: strings as they are, anything else as compact JSON.
fn compact(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
