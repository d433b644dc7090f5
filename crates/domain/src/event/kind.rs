//! Event kinds: any short snake_case word; a few have strict `data` schemas and feed the metrics.

use std::borrow::Cow;
use std::fmt;

/// Why a string is not an event kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must match ^[a-z][a-z0-9_]{{0,63}}$ (a lower-case letter, then up to 63 lower-case letters, digits or '_')")]
pub struct InvalidEventKind;

/// Longest kind, in bytes (the alphabet is ASCII).
pub const MAX_EVENT_KIND_LEN: usize = 64;

/// The kind clients may send for a tool result; it is stored as [`EventKind::TOOL_RESULT`].
pub const TOOL_CALL_ALIAS: &str = "tool_call";

/// An event's `kind`: any string matching `^[a-z][a-z0-9_]{0,63}$`.
///
/// The set is open so that new client event types are recorded before the server knows them; the associated
/// constants name the kinds the server gives meaning to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(transparent))]
pub struct EventKind(Cow<'static, str>);

impl EventKind {
    /// A shell command and, when known, its exit code (strict schema; metrics).
    pub const COMMAND: EventKind = EventKind::known("command");
    /// An edit to an existing file (strict schema; a file change for the metrics).
    pub const FILE_DIFF: EventKind = EventKind::known("file_diff");
    /// A new file (strict schema; a file change for the metrics).
    pub const FILE_CREATE: EventKind = EventKind::known("file_create");
    /// A test run with its counts (strict schema; test evidence and a verification action).
    pub const TEST_RUN: EventKind = EventKind::known("test_run");
    /// A build (a verification action for the metrics; no strict schema).
    pub const BUILD_RUN: EventKind = EventKind::known("build_run");
    /// A git operation (strict schema).
    pub const GIT_ACTION: EventKind = EventKind::known("git_action");
    /// A named point in the session (strict schema).
    pub const CHECKPOINT: EventKind = EventKind::known("checkpoint");
    /// A prompt sent to the AI (strict schema; counted by the metrics).
    pub const PROMPT: EventKind = EventKind::known("prompt");
    /// A recorded design decision (strict schema; listed by `GET /v1/sessions/:id/decisions`).
    pub const DECISION_EVENT: EventKind = EventKind::known("decision_event");
    /// The session began; its `data.cwd` and `data.assessmentId` seed the session's metadata.
    pub const SESSION_START: EventKind = EventKind::known("session_start");
    /// The session ended; its `ts` becomes the session's `endedAt`.
    pub const SESSION_END: EventKind = EventKind::known("session_end");
    /// A tool's result; what the alias `tool_call` is stored as.
    pub const TOOL_RESULT: EventKind = EventKind::known("tool_result");

    const fn known(kind: &'static str) -> EventKind {
        EventKind(Cow::Borrowed(kind))
    }

    /// A kind named in code, such as the kinds a client emits. The name is checked against
    /// `^[a-z][a-z0-9_]{0,63}$` when the constant is evaluated, so a misspelt kind fails the build, not a request;
    /// the alias `tool_call` is refused the same way, since it is never stored under that name.
    pub const fn from_static(kind: &'static str) -> EventKind {
        assert!(
            is_well_formed(kind.as_bytes()),
            "an event kind must match ^[a-z][a-z0-9_]{{0,63}}$"
        );
        assert!(
            !equal(kind.as_bytes(), TOOL_CALL_ALIAS.as_bytes()),
            "tool_call is stored as tool_result"
        );
        EventKind(Cow::Borrowed(kind))
    }

    /// Checks `text` against `^[a-z][a-z0-9_]{0,63}$` and maps the alias `tool_call` to `tool_result`.
    pub fn parse(text: &str) -> Result<EventKind, InvalidEventKind> {
        if !is_well_formed(text.as_bytes()) {
            Err(InvalidEventKind)
        } else if text == TOOL_CALL_ALIAS {
            Ok(EventKind::TOOL_RESULT)
        } else {
            Ok(EventKind(Cow::Owned(text.to_owned())))
        }
    }

    /// Wraps a kind read back from storage, where it was validated on the way in.
    pub fn from_stored(kind: String) -> EventKind {
        EventKind(Cow::Owned(kind))
    }

    /// The kind as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for `file_diff` and `file_create`, the events the metrics call file changes.
    pub fn is_file_change(&self) -> bool {
        *self == EventKind::FILE_DIFF || *self == EventKind::FILE_CREATE
    }
}

/// `^[a-z][a-z0-9_]{0,63}$`, written to run in constants too.
const fn is_well_formed(bytes: &[u8]) -> bool {
    if bytes.is_empty() || bytes.len() > MAX_EVENT_KIND_LEN || !bytes[0].is_ascii_lowercase() {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if !(byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_') {
            return false;
        }
        index += 1;
    }
    true
}

const fn equal(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let mut index = 0;
    while index < left.len() {
        if left[index] != right[index] {
            return false;
        }
        index += 1;
    }
    true
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regex_is_enforced_at_its_edges() {
        for kind in ["a", "command", "x9", "a_", "z_0_9", &"a".repeat(64)] {
            assert_eq!(EventKind::parse(kind).unwrap().as_str(), kind);
        }
        for kind in [
            "",
            "_a",
            "9a",
            "Command",
            "cOmmand",
            "a-b",
            "a.b",
            "a b",
            "é",
            " a",
            "a\n",
            &"a".repeat(65),
        ] {
            assert_eq!(EventKind::parse(kind), Err(InvalidEventKind), "{kind:?}");
        }
    }

    #[test]
    fn kinds_named_in_code_are_the_parsed_kinds() {
        const FILE_SEARCH: EventKind = EventKind::from_static("file_search");
        assert_eq!(EventKind::parse("file_search"), Ok(FILE_SEARCH));
    }

    #[test]
    fn tool_call_is_stored_as_tool_result() {
        assert_eq!(EventKind::parse("tool_call"), Ok(EventKind::TOOL_RESULT));
        assert_eq!(EventKind::parse("tool_result"), Ok(EventKind::TOOL_RESULT));
        assert_eq!(EventKind::parse("tool_calls").unwrap().as_str(), "tool_calls");
    }

    #[test]
    fn constants_equal_parsed_kinds() {
        let named = [
            EventKind::COMMAND,
            EventKind::FILE_DIFF,
            EventKind::FILE_CREATE,
            EventKind::TEST_RUN,
            EventKind::BUILD_RUN,
            EventKind::GIT_ACTION,
            EventKind::CHECKPOINT,
            EventKind::PROMPT,
            EventKind::DECISION_EVENT,
            EventKind::SESSION_START,
            EventKind::SESSION_END,
            EventKind::TOOL_RESULT,
        ];
        for kind in &named {
            assert_eq!(&EventKind::parse(kind.as_str()).unwrap(), kind);
            assert_eq!(&EventKind::from_stored(kind.as_str().to_owned()), kind);
        }
        let strict: Vec<_> =
            named.iter().filter(|kind| kind.has_strict_schema()).map(EventKind::as_str).collect();
        assert_eq!(
            strict,
            [
                "command",
                "file_diff",
                "file_create",
                "test_run",
                "git_action",
                "checkpoint",
                "prompt",
                "decision_event"
            ]
        );
        let changes: Vec<_> =
            named.iter().filter(|kind| kind.is_file_change()).map(EventKind::as_str).collect();
        assert_eq!(changes, ["file_diff", "file_create"]);
    }
}
