//! The shell code `traceline install shell` puts in `~/.bashrc` and `~/.zshrc`: after each command typed in a
//! directory inside a Traceline workspace, it hands the command line, its exit code, its duration and its directory
//! to `traceline hook shell`, in a detached background process, and prints nothing.
//!
//! What it costs the prompt: a walk up from `$PWD` looking for `.traceline/session.json` (a few `stat`s), and inside
//! a workspace one fork to read the command from history (bash) and one to start the background process, which
//! ignores the hang-up of a terminal closed right after the command.
//!
//! bash (4.4 or later) learns that a command starts from `PS0`, expanded just before a typed command runs (never for
//! an empty line): an arithmetic expansion there stamps the start time and the history number without forking.
//! The command line comes from the history; a line bash did not save (a repeat under `ignoredups`, a line starting
//! with a space under `ignorespace`) is recorded as the previous entry only when it can only be a repeat, that is
//! when `HISTCONTROL` does not hide space-prefixed lines. zsh hands the line to `preexec` directly.

/// The first and last lines of the block: everything between them is Traceline's, and nothing outside is touched.
pub(crate) const BLOCK_START: &str = "# >>> traceline shell hook >>>";
/// See [`BLOCK_START`].
pub(crate) const BLOCK_END: &str = "# <<< traceline shell hook <<<";

/// The shells the hook supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shell {
    Bash,
    Zsh,
}

impl Shell {
    pub(crate) const ALL: [Shell; 2] = [Shell::Bash, Shell::Zsh];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
        }
    }
}

/// The marked block for `shell`, calling `binary` (already quoted for the shell).
pub(crate) fn block(shell: Shell, binary: &str) -> String {
    let body = match shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
    };
    format!(
        "{BLOCK_START}\n\
         # Added by `traceline install shell`; `traceline uninstall shell` removes this block.\n\
         # Records the commands you type inside a Traceline workspace (where `traceline start` ran), silently.\n\
         __traceline_bin={binary}\n{body}{BLOCK_END}\n"
    )
}

/// The binary a block calls, as written in it.
pub(crate) fn binary_of(block: &str) -> Option<&str> {
    block.lines().find_map(|line| line.strip_prefix("__traceline_bin="))
}

const BASH: &str = r#"if [ -n "${BASH_VERSION-}" ] && [ -z "${__traceline_hooked-}" ]; then case $- in *i*)
__traceline_hooked=1
__traceline_x=x
__traceline_in_workspace() {
  local dir=$PWD
  while [ -n "$dir" ]; do
    [ -f "$dir/.traceline/session.json" ] && return 0
    dir=${dir%/*}
  done
  [ -f /.traceline/session.json ]
}
__traceline_clock() {
  if [ -n "${EPOCHREALTIME-}" ]; then __traceline_now=${EPOCHREALTIME//[^0-9]/}; else __traceline_now=$((SECONDS * 1000000)); fi
}
__traceline_precmd() {
  local status=$? line=
  if [ -n "${__traceline_started-}" ] && [ -n "${__traceline_cwd-}" ]; then
    if [ "${__traceline_histcmd-}" != "${__traceline_seen-}" ] || [[ ${HISTCONTROL-} != *ignore[sb]* ]]; then
      line=$(HISTTIMEFORMAT= builtin history 1)
      line=${line#"${line%%[![:space:]]*}"}
      line=${line#*[[:space:]]}
      line=${line#"${line%%[![:space:]]*}"}
    fi
    if [ -n "$line" ]; then
      __traceline_clock
      ( trap '' HUP; builtin printf '%s\0%s\0%s\0%s\0%s' "$status" "$__traceline_started" "$__traceline_now" "$__traceline_cwd" "$line" | "$__traceline_bin" hook shell >/dev/null 2>&1 & ) 2>/dev/null
    fi
  fi
  __traceline_started=
  __traceline_seen=$HISTCMD
  __traceline_cwd=
  __traceline_in_workspace && __traceline_cwd=$PWD
  return $status
}
if [ -n "${EPOCHREALTIME-}" ]; then
  PS0='${__traceline_x:0:0*(__traceline_started=${EPOCHREALTIME//[^0-9]/},__traceline_histcmd=HISTCMD)}'"${PS0-}"
else
  PS0='${__traceline_x:0:0*(__traceline_started=SECONDS*1000000,__traceline_histcmd=HISTCMD)}'"${PS0-}"
fi
PROMPT_COMMAND="__traceline_precmd${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
;; esac; fi
"#;

const ZSH: &str = r#"if [ -n "${ZSH_VERSION-}" ] && [ -z "${__traceline_hooked-}" ] && [[ -o interactive ]]; then
__traceline_hooked=1
zmodload zsh/datetime 2>/dev/null
__traceline_in_workspace() {
  local dir=$PWD
  while [[ -n $dir ]]; do
    [[ -f $dir/.traceline/session.json ]] && return 0
    dir=${dir%/*}
  done
  [[ -f /.traceline/session.json ]]
}
__traceline_clock() {
  if (( ${+EPOCHREALTIME} )); then
    __traceline_now=${EPOCHREALTIME%%[.,]*}${(r:6::0:)${${EPOCHREALTIME#*[.,]}[1,6]}}
  else
    __traceline_now=$(( SECONDS * 1000000 ))
  fi
}
__traceline_preexec() {
  __traceline_started=
  __traceline_in_workspace || return 0
  __traceline_line=$1
  __traceline_cwd=$PWD
  __traceline_clock
  __traceline_started=$__traceline_now
}
__traceline_precmd() {
  local exit_status=$?
  if [[ -n ${__traceline_started-} ]]; then
    __traceline_clock
    ( trap '' HUP; print -rn -- "$exit_status"$'\0'"$__traceline_started"$'\0'"$__traceline_now"$'\0'"$__traceline_cwd"$'\0'"$__traceline_line" | "$__traceline_bin" hook shell >/dev/null 2>&1 & ) 2>/dev/null
  fi
  __traceline_started=
  return $exit_status
}
autoload -Uz add-zsh-hook
add-zsh-hook preexec __traceline_preexec
add-zsh-hook precmd __traceline_precmd
fi
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_marked_and_names_its_binary() {
        let block = block(Shell::Bash, "'/opt/my tools/traceline'");
        assert!(block.starts_with(BLOCK_START) && block.ends_with(&format!("{BLOCK_END}\n")));
        assert_eq!(binary_of(&block), Some("'/opt/my tools/traceline'"));
        assert!(!block.contains("{body}"));
    }
}
