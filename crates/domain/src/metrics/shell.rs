//! A small POSIX-shell lexer: splits a command line into simple commands and their words, as a shell would.
//!
//! It only has to be good enough to find the program each simple command runs, so it knows quoting, escapes,
//! comments, the chain and pipe operators, subshell parentheses and redirections, and nothing else (no
//! expansion, no here-documents). Whatever it does not understand becomes an ordinary word, so it never fails.

use std::iter::Peekable;
use std::str::Chars;

/// The simple commands of `line`, each a list of words with quotes removed and redirections dropped.
///
/// Commands are separated by `&&`, `||`, `;`, `|`, `|&`, `&`, newlines and parentheses; commands without
/// words (an empty line, `( … )` on its own) are left out.
pub(super) fn simple_commands(line: &str) -> Vec<Vec<String>> {
    let mut lexer = Lexer::default();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' => lexer.end_word(),
            '\n' | ';' | '(' | ')' => lexer.end_command(),
            '|' => {
                // `||` and `|&` separate commands exactly as `|` does.
                chars.next_if(|&next| next == '|' || next == '&');
                lexer.end_command();
            }
            '&' if chars.peek() == Some(&'>') => {
                // `&>` and `&>>` redirect both streams; the next word is their target.
                chars.next();
                chars.next_if_eq(&'>');
                lexer.start_redirection();
            }
            '&' => {
                chars.next_if_eq(&'&');
                lexer.end_command();
            }
            '<' | '>' => {
                lexer.drop_fd_number();
                let follows: &[char] = if c == '>' { &['>', '&', '|'] } else { &['<', '&', '>'] };
                if chars.next_if(|next| follows.contains(next)) == Some('<') {
                    chars.next_if_eq(&'<');
                }
                lexer.start_redirection();
            }
            '#' if lexer.word.is_none() => while chars.next_if(|&next| next != '\n').is_some() {},
            '\'' => {
                let word = lexer.quoted_word();
                word.extend(chars.by_ref().take_while(|&next| next != '\''));
            }
            '"' => double_quoted(&mut chars, lexer.quoted_word()),
            '\\' => match chars.next() {
                // A backslash before a newline continues the line.
                Some('\n') | None => {}
                Some(escaped) => lexer.quoted_word().push(escaped),
            },
            _ => lexer.word_mut().push(c),
        }
    }
    lexer.end_command();
    lexer.commands
}

/// Reads the rest of a `"…"` string into `word`: a backslash escapes only `"`, `\`, `$` and a backquote there.
fn double_quoted(chars: &mut Peekable<Chars<'_>>, word: &mut String) {
    while let Some(c) = chars.next() {
        match c {
            '"' => return,
            '\\' => match chars.next_if(|next| matches!(next, '"' | '\\' | '$' | '`' | '\n')) {
                Some('\n') => {}
                Some(escaped) => word.push(escaped),
                None => word.push('\\'),
            },
            _ => word.push(c),
        }
    }
}

#[derive(Default)]
struct Lexer {
    commands: Vec<Vec<String>>,
    words: Vec<String>,
    /// The word being read; `Some("")` after `""`, which is a word although it is empty.
    word: Option<String>,
    /// Whether the current word used quotes or escapes (then `2` in `"2">x` is a word, not a descriptor).
    quoted: bool,
    /// The next word is a redirection's target, not an argument.
    redirecting: bool,
}

impl Lexer {
    fn word_mut(&mut self) -> &mut String {
        self.word.get_or_insert_with(String::new)
    }

    fn quoted_word(&mut self) -> &mut String {
        self.quoted = true;
        self.word_mut()
    }

    fn end_word(&mut self) {
        if let Some(word) = self.word.take() {
            if self.redirecting {
                self.redirecting = false;
            } else {
                self.words.push(word);
            }
        }
        self.quoted = false;
    }

    fn end_command(&mut self) {
        self.end_word();
        // A redirection with no target before the separator has nothing left to drop.
        self.redirecting = false;
        if !self.words.is_empty() {
            self.commands.push(std::mem::take(&mut self.words));
        }
    }

    /// Drops the `2` of `2>`: unquoted digits right before a redirection name a file descriptor.
    fn drop_fd_number(&mut self) {
        let is_fd = !self.quoted
            && self
                .word
                .as_deref()
                .is_some_and(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()));
        if is_fd {
            self.word = None;
        }
        self.end_word();
    }

    fn start_redirection(&mut self) {
        self.end_word();
        self.redirecting = true;
    }
}

#[cfg(test)]
mod tests {
    use super::simple_commands as split;

    #[test]
    fn chains_pipes_and_subshells_separate_commands() {
        assert_eq!(
            split("cd web && pnpm test -- --run"),
            [vec!["cd", "web"], vec!["pnpm", "test", "--", "--run"]]
        );
        assert_eq!(
            split("a; b || c | d |& e & f\ng"),
            [["a"], ["b"], ["c"], ["d"], ["e"], ["f"], ["g"]]
        );
        assert_eq!(split("(cd api && cargo test)"), [vec!["cd", "api"], vec!["cargo", "test"]]);
        assert!(split("  ;; && \n").is_empty());
    }

    #[test]
    fn quotes_and_escapes_keep_words_together() {
        assert_eq!(
            split(r#"git commit -m "fix && test""#),
            [["git", "commit", "-m", "fix && test"]]
        );
        assert_eq!(split("echo 'a; b' c\\ d"), [["echo", "a; b", "c d"]]);
        assert_eq!(split(r#"echo "a \"b\" \$c \n""#), [["echo", r#"a "b" $c \n"#]]);
        assert_eq!(split(r#"echo "" x"#), [["echo", "", "x"]]);
        assert_eq!(
            split("echo 'unterminated && cargo test"),
            [["echo", "unterminated && cargo test"]]
        );
        assert_eq!(split("cargo \\\n  test"), [["cargo", "test"]]);
    }

    #[test]
    fn redirections_and_their_targets_are_dropped() {
        assert_eq!(
            split("cargo test 2>&1 | tail -20"),
            [vec!["cargo", "test"], vec!["tail", "-20"]]
        );
        assert_eq!(split("make >build.log test"), [["make", "test"]]);
        assert_eq!(split("pytest &> out.txt; echo done"), [vec!["pytest"], vec!["echo", "done"]]);
        assert_eq!(split("cat < in >> out"), [["cat"]]);
        assert_eq!(split("echo \"2\">x"), [["echo", "2"]]);
        assert_eq!(split("echo a>"), [["echo", "a"]]);
    }

    #[test]
    fn comments_run_to_the_end_of_the_line() {
        assert_eq!(split("cargo test # && rm -rf /\nls"), [vec!["cargo", "test"], vec!["ls"]]);
        assert_eq!(split("echo a#b"), [["echo", "a#b"]]);
    }
}
