//! The capture crate's tests through its public API: every fixture payload, the CLI events, hook installation,
//! redaction, test summaries, and properties over arbitrary JSON.

#![expect(clippy::unwrap_used, reason = "tests fail loudly on a broken fixture")]

mod claude_code;
mod cli;
mod codex;
mod cursor;
mod install;
mod properties;
mod redaction;
mod redaction_corpus;
mod support;
mod test_summaries;
