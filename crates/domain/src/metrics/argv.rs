//! Reading the words of one simple command: options and their values, operands, assignments, program names.
//!
//! Options are recognised by shape (`-x`, `--long`, `--long=value`); which ones take a separate value is
//! passed in by the caller, since only the program knows (`pnpm --filter web test`, `make -C dir test`).

/// Drops what runs before the real program: assignments, shell keywords and transparent wrappers.
pub(super) fn strip_prefixes(mut words: &[String]) -> &[String] {
    const KEYWORDS: &[&str] = &["!", "{", "if", "then", "else", "elif", "do", "while", "until"];
    while let Some((first, rest)) = words.split_first() {
        if is_assignment(first) || KEYWORDS.contains(&first.as_str()) {
            words = rest;
            continue;
        }
        let takes_value: &[&str] = match program_name(first) {
            "env" => &["-u", "--unset", "-C", "--chdir"],
            "sudo" => &["-u", "-g"],
            "nice" => &["-n"],
            "time" => &["-f", "-o"],
            "exec" => &["-a"],
            "timeout" => &["-s", "--signal", "-k", "--kill-after"],
            "xargs" => &["-n", "-I", "-L", "-P", "-d", "-E", "-s"],
            "command" | "nohup" => &[],
            _ => break,
        };
        let mut rest = rest;
        while let Some((word, tail)) = rest.split_first() {
            if is_assignment(word) {
                rest = tail;
            } else if is_option(word) {
                rest = skip_option(word, tail, takes_value);
            } else {
                break;
            }
        }
        // `timeout` takes its duration before the command.
        words =
            if program_name(first) == "timeout" { rest.get(1..).unwrap_or_default() } else { rest };
    }
    words
}

/// The first operand (a word that is not an option) and the words after it.
pub(super) fn verb<'a>(
    args: &'a [String],
    takes_value: &[&str],
) -> Option<(&'a str, &'a [String])> {
    skip_options(args, takes_value).split_first().map(|(verb, rest)| (verb.as_str(), rest))
}

/// Every operand, each option skipped with its value when it is one of `takes_value`.
pub(super) fn operands<'a>(
    args: &'a [String],
    takes_value: &'a [&str],
) -> impl Iterator<Item = &'a str> {
    std::iter::successors(verb(args, takes_value), |(_, rest)| verb(rest, takes_value))
        .map(|(operand, _)| operand)
}

/// `args` from its first operand on; `--` ends the options.
pub(super) fn skip_options<'a>(mut args: &'a [String], takes_value: &[&str]) -> &'a [String] {
    while let Some((word, rest)) = args.split_first() {
        if word == "--" {
            return rest;
        }
        if !is_option(word) {
            break;
        }
        args = skip_option(word, rest, takes_value);
    }
    args
}

/// The words after `option`, past its value when it takes one (`--dir web`, but not `--dir=web`).
pub(super) fn skip_option<'a>(
    option: &str,
    rest: &'a [String],
    takes_value: &[&str],
) -> &'a [String] {
    if takes_value.contains(&option) {
        rest.get(1..).unwrap_or_default()
    } else {
        rest
    }
}

pub(super) fn is_option(word: &str) -> bool {
    word.len() > 1 && word.starts_with('-')
}

/// `NAME=value`, as the shell reads a leading assignment.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The program's file name: `./gradlew` is `gradlew`, `C:\bin\npm.cmd` is `npm`.
pub(super) fn program_name(word: &str) -> &str {
    let name = word.rsplit(['/', '\\']).next().unwrap_or(word);
    [".exe", ".cmd", ".bat"].iter().find_map(|suffix| name.strip_suffix(suffix)).unwrap_or(name)
}
