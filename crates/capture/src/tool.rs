//! The AI coding tools whose hooks Traceline captures, by the names the CLI and `source.integration` use.

use std::fmt;
use std::str::FromStr;

/// A tool whose hook payloads [`crate::map_hook`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// Anthropic's Claude Code (`.claude/settings.local.json`).
    ClaudeCode,
    /// Cursor, the IDE and its CLI (`.cursor/hooks.json`).
    Cursor,
    /// OpenAI's Codex CLI with `codex_hooks` enabled (`.codex/hooks.json`).
    Codex,
}

impl Tool {
    /// Every tool, in the order the CLI lists them.
    pub const ALL: [Tool; 3] = [Tool::ClaudeCode, Tool::Cursor, Tool::Codex];

    /// The tool's name: `claude-code`, `cursor` or `codex`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::ClaudeCode => "claude-code",
            Tool::Cursor => "cursor",
            Tool::Codex => "codex",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A tool name that is not one of [`Tool::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tool {0:?}: expected claude-code, cursor or codex")]
pub struct UnknownTool(pub String);

impl FromStr for Tool {
    type Err = UnknownTool;

    fn from_str(text: &str) -> Result<Tool, UnknownTool> {
        Tool::ALL
            .into_iter()
            .find(|tool| tool.as_str() == text)
            .ok_or_else(|| UnknownTool(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for tool in Tool::ALL {
            assert_eq!(tool.to_string().parse::<Tool>(), Ok(tool));
        }
        assert_eq!("Cursor".parse::<Tool>(), Err(UnknownTool("Cursor".to_owned())));
    }
}
