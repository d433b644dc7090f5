//! Command-line classification (spec §6): is a `command` event a verification action, and does it run tests?
//!
//! The line is split the way a shell would ([`super::shell`]); each simple command is then judged on its
//! program and verb, after leading `NAME=value` assignments and transparent wrappers (`env`, `time`, `sudo`,
//! `timeout 60`, `xargs`, …). A chain is a verification when any of its commands is, so `cd web && pnpm test`
//! counts and `echo cargo test` does not. Runners that start another program (`npx`, `pnpm exec`, `bundle
//! exec`, `uv run`, `python -m`, `bash -c '…'`) are looked through.
//!
//! "Runs tests" means the verb's job is running the test suite: `test` verbs, test runners (`pytest`, `jest`,
//! `vitest`, `mocha`, `rspec`, `phpunit`, `unittest`, `nextest`), package scripts named `test` or `test:*`, and
//! the targets whose definition includes the test phase and which fail when a test fails: `make check` (the
//! GNU name for the self-tests), `mvn verify` and `gradle check`. Builds, type checks and linters verify without
//! running tests.

use super::argv::{
    is_option, operands, program_name, skip_option, skip_options, strip_prefixes, verb,
};
use super::shell::simple_commands;

/// What a command line does, as far as the metrics care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommandClass {
    /// It runs tests, a build, a type check or a linter: a verification action.
    pub is_verification: bool,
    /// It runs tests, so its exit code is test evidence. Implies `is_verification`.
    pub runs_tests: bool,
}

/// Classifies a `command` event's command line (spec §6).
///
/// A chain (`&&`, `||`, `;`, pipes) is judged by its most telling command: it runs tests if any command in it
/// does, and verifies if any command in it does. Quotes are respected, so `git commit -m "cargo test"` is not
/// a verification.
///
/// Recognised, beyond the spec's list: cargo's `t`/`b`/`c` aliases, package scripts `test:*`, `build:*`,
/// `lint:*`, `typecheck`; `mocha`, `pyright`, `flake8`, `pylint`, `golangci-lint`, `deno test|check|lint`,
/// `playwright test`, `rails|rake test`, `php artisan test`, `python manage.py test`, `mvn compile|package|
/// install` and `gradle build` (verify only), gradle `test*`/`*Test` tasks; and runners looked through:
/// `npx`/`pnpx`/`bunx`/`uvx`, `npm|pnpm|yarn exec|dlx|x`, `yarn workspace <name>`, `bundle exec`,
/// `uv|poetry|pipenv|pdm|hatch|pipx run`, `python -m`, `sh|bash|zsh -c`. `cargo test --no-run` and
/// `ruff format` (without `--check`) do not run tests or lint.
pub fn classify_command(command_line: &str) -> CommandClass {
    let action = line_action(command_line, 0);
    CommandClass {
        is_verification: action >= Action::Verifies,
        runs_tests: action == Action::Tests,
    }
}

/// Ordered so that the most telling command of a chain is the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Other,
    Verifies,
    Tests,
}

/// How deep runners may nest (`bash -c "npx …"`); bounds the recursion on hostile input.
const MAX_DEPTH: u8 = 6;

/// Options of package managers that take a value (`pnpm --filter web test`, `npm --prefix web test`).
const PACKAGE_MANAGER_VALUES: &[&str] =
    &["--prefix", "-C", "--dir", "--filter", "-F", "-w", "--workspace", "--cwd"];
/// Options of runners that take a value (`npx -p typescript tsc`, `uv run --with pytest pytest`).
const RUNNER_VALUES: &[&str] =
    &["-p", "--package", "--with", "--python", "--from", "--extra", "--group", "--env", "-e"];

fn line_action(line: &str, depth: u8) -> Action {
    simple_commands(line)
        .iter()
        .map(|words| command_action(words, depth))
        .max()
        .unwrap_or(Action::Other)
}

fn command_action(words: &[String], depth: u8) -> Action {
    if depth > MAX_DEPTH {
        return Action::Other;
    }
    let words = strip_prefixes(words);
    let Some((first, args)) = words.split_first() else {
        return Action::Other;
    };
    let nested = |words: &[String]| command_action(words, depth + 1);
    let program = program_name(first);
    match program {
        "pytest" | "py.test" | "jest" | "vitest" | "mocha" | "rspec" | "phpunit" | "unittest" => {
            Action::Tests
        }
        "tsc" | "vue-tsc" | "eslint" | "mypy" | "pyright" | "flake8" | "pylint"
        | "golangci-lint" => Action::Verifies,
        "ruff" => ruff(args),
        "cargo" => cargo(args),
        "go" => by_verb(args, &["-C"], &["test"], &["build", "vet"]),
        "dotnet" | "swift" => by_verb(args, &[], &["test"], &["build"]),
        "deno" => by_verb(args, &[], &["test"], &["check", "lint"]),
        "playwright" => by_verb(args, &[], &["test"], &[]),
        "rails" | "rake" => by_verb(args, &[], &["test", "spec"], &[]),
        "make" | "gmake" => make(args),
        "mvn" | "mvnw" => maven(args),
        "gradle" | "gradlew" => gradle(args),
        "npm" | "pnpm" | "yarn" | "bun" => package_manager(program, args, depth),
        "npx" | "pnpx" | "bunx" | "uvx" => nested(skip_options(args, RUNNER_VALUES)),
        "bundle" | "uv" | "poetry" | "pipenv" | "pdm" | "hatch" | "pipx" => {
            match verb(args, RUNNER_VALUES) {
                Some(("exec" | "run", rest)) => nested(skip_options(rest, RUNNER_VALUES)),
                _ => Action::Other,
            }
        }
        "php" => {
            let script = skip_options(args, &["-c", "-d"]);
            match script.split_first() {
                Some((artisan, rest)) if program_name(artisan) == "artisan" => {
                    by_verb(rest, &[], &["test"], &[])
                }
                _ => nested(script),
            }
        }
        "sh" | "bash" | "zsh" | "dash" | "ksh" => {
            shell_script(args).map_or(Action::Other, |script| line_action(script, depth + 1))
        }
        _ if is_python(program) => python(args, depth),
        _ => Action::Other,
    }
}

fn cargo(args: &[String]) -> Action {
    let args = match args.split_first() {
        Some((toolchain, rest)) if toolchain.starts_with('+') => rest,
        _ => args,
    };
    let action = by_verb(
        args,
        &["--color", "--config", "-Z", "-C"],
        &["test", "t", "nextest"],
        &["build", "b", "check", "c", "clippy"],
    );
    // `cargo test --no-run` builds the tests without running them: its exit code says nothing about them.
    if action == Action::Tests && args.iter().any(|arg| arg == "--no-run") {
        Action::Verifies
    } else {
        action
    }
}

fn package_manager(program: &str, args: &[String], depth: u8) -> Action {
    if depth > MAX_DEPTH {
        return Action::Other;
    }
    let from_verb = skip_options(args, PACKAGE_MANAGER_VALUES);
    let Some((verb_word, rest)) = from_verb.split_first() else {
        return Action::Other;
    };
    match verb_word.as_str() {
        "test" | "t" | "tst" => Action::Tests,
        "run" | "run-script" => {
            verb(rest, &[]).map_or(Action::Other, |(script, _)| script_action(script))
        }
        "exec" | "x" | "dlx" => command_action(skip_options(rest, RUNNER_VALUES), depth + 1),
        "workspace" if program == "yarn" => rest
            .split_first()
            .map_or(Action::Other, |(_name, rest)| package_manager(program, rest, depth + 1)),
        // npm runs scripts only through `run`; pnpm, yarn and bun also run them, and local binaries, bare.
        _ if program == "npm" => Action::Other,
        script => script_action(script).max(command_action(from_verb, depth + 1)),
    }
}

/// A package script by its name: `test` and `test:*` run tests; `build`, `lint` and type checks verify.
fn script_action(script: &str) -> Action {
    match script.split(':').next().unwrap_or(script) {
        "test" | "tests" => Action::Tests,
        "build" | "lint" | "typecheck" | "type-check" | "tsc" => Action::Verifies,
        _ => Action::Other,
    }
}

fn make(args: &[String]) -> Action {
    let takes_value = &["-C", "--directory", "-f", "--file", "--makefile", "-I", "-o", "-W"];
    operands(args, takes_value)
        .filter(|target| !target.contains('='))
        .map(|target| lookup(target, &["test", "check"], &["build"]))
        .max()
        .unwrap_or(Action::Other)
}

fn maven(args: &[String]) -> Action {
    let takes_value =
        &["-pl", "--projects", "-f", "--file", "-P", "-s", "--settings", "-T", "-rf", "-l"];
    operands(args, takes_value)
        // `surefire:test` is the `test` goal of a plugin.
        .map(|goal| goal.rsplit(':').next().unwrap_or(goal))
        .map(|goal| lookup(goal, &["test", "verify"], &["compile", "package", "install"]))
        .max()
        .unwrap_or(Action::Other)
}

fn gradle(args: &[String]) -> Action {
    let takes_value =
        &["-p", "--project-dir", "-b", "--build-file", "-x", "--exclude-task", "-I", "-c"];
    operands(args, takes_value)
        // `:app:test` is the `test` task of the `app` project.
        .map(|task| task.rsplit(':').next().unwrap_or(task))
        .map(|task| {
            // Test tasks of the Android and JVM test-suite plugins: `testDebugUnitTest`, `integrationTest`.
            let test_task =
                task.strip_prefix("test").is_some_and(|rest| rest.starts_with(char::is_uppercase))
                    || task.ends_with("Test");
            if test_task {
                Action::Tests
            } else {
                lookup(task, &["test", "check"], &["build"])
            }
        })
        .max()
        .unwrap_or(Action::Other)
}

fn ruff(args: &[String]) -> Action {
    match verb(args, &[]) {
        // `ruff format` rewrites files; only its `--check` / `--diff` modes are a lint.
        Some(("format", rest)) if !rest.iter().any(|arg| arg == "--check" || arg == "--diff") => {
            Action::Other
        }
        _ => Action::Verifies,
    }
}

fn python(mut args: &[String], depth: u8) -> Action {
    while let Some((word, rest)) = args.split_first() {
        let module = match word.as_str() {
            "-m" => rest.split_first(),
            "-c" => return Action::Other,
            option if option.starts_with("-m") => {
                return command_action(&prepend(&option[2..], rest), depth + 1);
            }
            option if is_option(option) => {
                args = skip_option(option, rest, &["-W", "-X"]);
                continue;
            }
            script => {
                let django_test = program_name(script) == "manage.py"
                    && rest.first().is_some_and(|verb| verb == "test");
                return if django_test { Action::Tests } else { Action::Other };
            }
        };
        // `python -m pytest …` runs the module as if it were the program `pytest …`.
        return module.map_or(Action::Other, |(module, rest)| {
            command_action(&prepend(module, rest), depth + 1)
        });
    }
    Action::Other
}

fn prepend(first: &str, rest: &[String]) -> Vec<String> {
    std::iter::once(first.to_owned()).chain(rest.iter().cloned()).collect()
}

/// The script of `sh -c '…'` (also `bash -lc`, `bash -e -c`); `None` for a script file or an interactive shell.
fn shell_script(mut args: &[String]) -> Option<&str> {
    while let Some((word, rest)) = args.split_first() {
        if !is_option(word) {
            return None;
        }
        if !word.starts_with("--") && word.contains('c') {
            return rest.first().map(String::as_str);
        }
        args = skip_option(word, rest, &["-o", "-O", "--rcfile", "--init-file"]);
    }
    None
}

fn by_verb(args: &[String], takes_value: &[&str], tests: &[&str], verifies: &[&str]) -> Action {
    verb(args, takes_value).map_or(Action::Other, |(verb, _)| lookup(verb, tests, verifies))
}

fn lookup(word: &str, tests: &[&str], verifies: &[&str]) -> Action {
    if tests.contains(&word) {
        Action::Tests
    } else if verifies.contains(&word) {
        Action::Verifies
    } else {
        Action::Other
    }
}

/// `python`, `python3`, `python3.12`, and the Windows launcher `py`.
fn is_python(program: &str) -> bool {
    program == "py"
        || program
            .strip_prefix("python")
            .is_some_and(|version| version.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}
