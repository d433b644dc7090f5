//! Every kind of event capture emits, typed. Where the Promptster CLI records the same action, the kind (and the
//! field names the mappings fill) are Promptster's, so a reviewer's cohort reads the same whichever client the
//! candidates used; the kinds the server gives meaning to are the domain's own constants.

use traceline_domain::event::EventKind;

/// A shell command, the agent's or the person's.
pub const COMMAND: EventKind = EventKind::COMMAND;
/// A test run read from a command's output.
pub const TEST_RUN: EventKind = EventKind::TEST_RUN;
/// A commit made through the shell.
pub const GIT_ACTION: EventKind = EventKind::GIT_ACTION;
/// An edit to an existing file.
pub const FILE_DIFF: EventKind = EventKind::FILE_DIFF;
/// A new file.
pub const FILE_CREATE: EventKind = EventKind::FILE_CREATE;
/// A deleted file.
pub const FILE_DELETE: EventKind = EventKind::from_static("file_delete");
/// A file the agent read.
pub const FILE_READ: EventKind = EventKind::from_static("file_read");
/// A prompt the person sent to the agent.
pub const PROMPT: EventKind = EventKind::PROMPT;
/// A design decision recorded with `traceline explain`.
pub const DECISION_EVENT: EventKind = EventKind::DECISION_EVENT;
/// The Traceline session began (`traceline start`): one per session.
pub const SESSION_START: EventKind = EventKind::SESSION_START;
/// The Traceline session ended (`traceline done`).
pub const SESSION_END: EventKind = EventKind::SESSION_END;
/// The AI tool started (or resumed, or cleared) a session of its own inside the Traceline session.
pub const AGENT_SESSION_START: EventKind = EventKind::from_static("agent_session_start");
/// The AI tool ended a session of its own; the Traceline session goes on.
pub const AGENT_SESSION_END: EventKind = EventKind::from_static("agent_session_end");
/// A content or file-name search (Promptster: `file_search`, with `toolName`, `pattern`, `resultsCount`).
pub const FILE_SEARCH: EventKind = EventKind::from_static("file_search");
/// A directory listing (Promptster: `dir_list`).
pub const DIR_LIST: EventKind = EventKind::from_static("dir_list");
/// The agent's plan or task list changed (Promptster: `planning`).
pub const PLANNING: EventKind = EventKind::from_static("planning");
/// The agent read its task list (Promptster: `planning_read`).
pub const PLANNING_READ: EventKind = EventKind::from_static("planning_read");
/// The person accepted the agent's plan and let it go on (Promptster: `plan_decision`).
pub const PLAN_DECISION: EventKind = EventKind::from_static("plan_decision");
/// The agent handed a task to a subagent (Promptster: `task_dispatch`).
pub const TASK_DISPATCH: EventKind = EventKind::from_static("task_dispatch");
/// A web fetch or search (Promptster: `web_lookup`).
pub const WEB_LOOKUP: EventKind = EventKind::from_static("web_lookup");
/// A call to an MCP server's tool.
pub const MCP_CALL: EventKind = EventKind::from_static("mcp_call");
/// Any other tool call.
pub const TOOL_USE: EventKind = EventKind::from_static("tool_use");
/// A tool call that failed (not a shell command: those are `command`s with their exit code).
pub const TOOL_ERROR: EventKind = EventKind::from_static("tool_error");
/// A subagent started.
pub const SUBAGENT_START: EventKind = EventKind::from_static("subagent_start");
/// A subagent finished.
pub const SUBAGENT_STOP: EventKind = EventKind::from_static("subagent_stop");
/// The agent's final message of a turn.
pub const AI_RESPONSE: EventKind = EventKind::from_static("ai_response");
/// The agent's reasoning, where the tool reports it.
pub const AI_THOUGHT: EventKind = EventKind::from_static("ai_thought");
/// The agent's context was compacted (Promptster: `context_compact`).
pub const CONTEXT_COMPACT: EventKind = EventKind::from_static("context_compact");
/// The agent's turn failed (rate limit, overload, authentication, …).
pub const AGENT_ERROR: EventKind = EventKind::from_static("agent_error");
/// A notice from the tool (waiting for permission, idle, a background task finished).
pub const NOTIFICATION: EventKind = EventKind::from_static("notification");
