//! What the shell hook sends `traceline hook shell` on stdin: `exit`, `start`, `end`, `cwd` and the command line,
//! separated by NUL characters. NUL is the one byte a command line cannot hold, so nothing needs escaping in shell
//! code, and stdin (unlike arguments) keeps the command out of other users' `ps`. `start` and `end` are
//! microseconds: of the epoch (`$EPOCHREALTIME` with its separator taken out), or of the shell's life where that is
//! missing (`$SECONDS` × 10⁶).

use chrono::{DateTime, Duration, Utc};
use traceline_capture::ShellCommand;

/// A clock reading below this many microseconds is bash's `$SECONDS` (time since the shell started), not
/// `$EPOCHREALTIME`: 2001-09-09 in epoch microseconds.
const EPOCH_MICROS_FLOOR: i64 = 1_000_000_000_000_000;

/// One finished command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShellPayload {
    exit_code: Option<i64>,
    /// Microseconds on the shell's clock.
    started: Option<i64>,
    ended: Option<i64>,
    /// The directory it was typed in.
    pub(crate) cwd: String,
    line: String,
}

impl ShellPayload {
    /// Reads a payload; `None` when it is not one (too few fields, not UTF-8, a blank command).
    pub(crate) fn parse(bytes: &[u8]) -> Option<ShellPayload> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut fields = text.splitn(5, '\0');
        let exit_code = fields.next()?.trim().parse().ok();
        let started = clock_micros(fields.next()?);
        let ended = clock_micros(fields.next()?);
        let cwd = fields.next()?.to_owned();
        let line = fields.next()?.trim_end_matches(['\0', '\n']).to_owned();
        (!line.trim().is_empty() && !cwd.is_empty()).then_some(ShellPayload {
            exit_code,
            started,
            ended,
            cwd,
            line,
        })
    }

    /// Whether the command runs Traceline itself, which records its own events.
    pub(crate) fn runs_traceline(&self) -> bool {
        let program = self.line.split_whitespace().next().unwrap_or_default();
        program.rsplit('/').next() == Some("traceline")
    }

    /// The command as capture takes it; `now` places a command timed by `$SECONDS` (it ended just now).
    pub(crate) fn command(&self, now: DateTime<Utc>) -> ShellCommand<'_> {
        let elapsed = match (self.started, self.ended) {
            (Some(started), Some(ended)) if ended >= started => Some(ended - started),
            _ => None,
        };
        let started_at = match self.started {
            Some(micros) if micros >= EPOCH_MICROS_FLOOR => DateTime::from_timestamp_micros(micros),
            _ => None,
        }
        .unwrap_or_else(|| now - Duration::microseconds(elapsed.unwrap_or(0)));
        ShellCommand {
            command: &self.line,
            exit_code: self.exit_code,
            duration_ms: elapsed.and_then(|micros| u64::try_from(micros / 1000).ok()),
            cwd: &self.cwd,
            started_at,
        }
    }
}

fn clock_micros(text: &str) -> Option<i64> {
    text.trim().parse().ok().filter(|micros| *micros >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_clocks_give_the_start_and_the_duration() {
        let payload = ShellPayload::parse(
            b"1\x001700000000250000\x001700000002500000\x00/w/src\x00cargo test\n",
        )
        .unwrap();
        let command = payload.command(Utc::now());
        assert_eq!(command.command, "cargo test");
        assert_eq!(
            (command.exit_code, command.duration_ms, command.cwd),
            (Some(1), Some(2250), "/w/src")
        );
        assert_eq!(command.started_at.timestamp_micros(), 1_700_000_000_250_000);
    }

    #[test]
    fn seconds_since_the_shell_started_give_a_duration_ending_now() {
        let payload = ShellPayload::parse(b"0\x0040000000\x0043000000\x00/w\x00make").unwrap();
        let now = Utc::now();
        let command = payload.command(now);
        assert_eq!(command.duration_ms, Some(3000));
        assert_eq!(command.started_at, now - Duration::seconds(3));
    }

    #[test]
    fn blanks_and_traceline_itself_are_recognised() {
        assert_eq!(ShellPayload::parse(b"0\x001\x002\x00/w\x00   "), None);
        assert_eq!(ShellPayload::parse(b"0\x001\x002"), None);
        let own = ShellPayload::parse(b"0\x001\x002\x00/w\x00/usr/bin/traceline status").unwrap();
        assert!(own.runs_traceline());
        let other = ShellPayload::parse(b"x\x00\x00\x00/w\x00tracelines").unwrap();
        assert!(!other.runs_traceline());
        assert_eq!(other.command(Utc::now()).exit_code, None);
    }
}
