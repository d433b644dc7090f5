//! Reading a test runner's summary from its output: how many tests passed, failed and were skipped.
//!
//! Recognised: cargo test (`test result: ok. 6 passed; 0 failed; 1 ignored`, summed over the test binaries),
//! cargo nextest (`Summary [ 0.2s] 10 tests run: 9 passed, 1 failed, 2 skipped`), jest (`Tests: 1 failed,
//! 3 passed, 4 total`), vitest (`Tests  1 failed | 3 passed (4)`), pytest (`=== 2 failed, 5 passed, 1 skipped
//! in 0.12s ===`), rspec (`5 examples, 1 failure, 2 pending`), mocha (`5 passing`, `1 failing`, `2 pending`) and
//! go test (`--- PASS:`/`--- FAIL:`/`--- SKIP:` lines with `-v`; without it, the `ok`/`FAIL`/`[no test files]`
//! package lines, so the counts are packages). Output that matches none gives `None`: a count is never
//! guessed. ANSI colour codes are ignored.

use std::borrow::Cow;

/// The counts of one test run, as its runner reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestSummary {
    /// Which runner's summary format was read: `cargo`, `nextest`, `jest`, `vitest`, `pytest`, `rspec`,
    /// `mocha` or `go`.
    pub runner: &'static str,
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed, errored or timed out.
    pub failed: u64,
    /// Tests skipped, ignored, pending or expected to fail.
    pub skipped: u64,
}

type Parser = fn(&str) -> Option<TestSummary>;

/// The summary of a test run's output, when a known runner's summary is in it.
pub fn parse(output: &str) -> Option<TestSummary> {
    let output = strip_ansi(output);
    const PARSERS: &[Parser] = &[cargo, nextest, jest, vitest, pytest, rspec, mocha, go];
    PARSERS.iter().find_map(|parser| parser(&output))
}

#[derive(Default)]
struct Counts {
    passed: u64,
    failed: u64,
    skipped: u64,
    seen: bool,
}

impl Counts {
    /// Adds `number word` pairs read from `text` (`3 passed`, `1 failed`); unknown words are ignored.
    fn add_pairs(&mut self, text: &str) {
        let words: Vec<&str> = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|word| !word.is_empty())
            .collect();
        for pair in words.windows(2) {
            if let Ok(number) = pair[0].parse::<u64>() {
                self.add(number, pair[1]);
            }
        }
    }

    fn add(&mut self, number: u64, word: &str) {
        let slot = match word.to_ascii_lowercase().as_str() {
            "passed" | "passing" | "pass" | "xpassed" | "ok" => &mut self.passed,
            "failed" | "failing" | "failure" | "failures" | "fail" | "error" | "errors"
            | "timed" => &mut self.failed,
            "skipped" | "ignored" | "pending" | "skip" | "todo" | "xfailed" => &mut self.skipped,
            _ => return,
        };
        *slot = slot.saturating_add(number);
        self.seen = true;
    }

    fn summary(self, runner: &'static str) -> Option<TestSummary> {
        self.seen.then_some(TestSummary {
            runner,
            passed: self.passed,
            failed: self.failed,
            skipped: self.skipped,
        })
    }
}

fn strip_ansi(text: &str) -> Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return Cow::Borrowed(text);
    }
    let mut clean = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI sequences end with a letter: `ESC [ 1 ; 32 m`.
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            clean.push(c);
        }
    }
    Cow::Owned(clean)
}

/// The summaries of every line that `select` picks (returning the part holding the counts), added together.
fn sum_lines(
    output: &str,
    runner: &'static str,
    select: impl Fn(&str) -> Option<&str>,
) -> Option<TestSummary> {
    let mut counts = Counts::default();
    output.lines().filter_map(|line| select(line.trim())).for_each(|part| counts.add_pairs(part));
    counts.summary(runner)
}

/// The summary of the last line `select` picks: runners in watch mode print one per run.
fn last_line(
    output: &str,
    runner: &'static str,
    select: impl Fn(&str) -> Option<&str>,
) -> Option<TestSummary> {
    let part = output.lines().rev().find_map(|line| select(line.trim()))?;
    let mut counts = Counts::default();
    counts.add_pairs(part);
    counts.summary(runner)
}

fn cargo(output: &str) -> Option<TestSummary> {
    sum_lines(output, "cargo", |line| line.strip_prefix("test result: "))
}

fn nextest(output: &str) -> Option<TestSummary> {
    last_line(output, "nextest", |line| {
        let rest = line.strip_prefix("Summary [")?;
        rest.split_once(" run: ").map(|(_, counts)| counts)
    })
}

fn jest(output: &str) -> Option<TestSummary> {
    last_line(output, "jest", |line| {
        line.strip_prefix("Tests:").filter(|rest| rest.contains("total"))
    })
}

fn vitest(output: &str) -> Option<TestSummary> {
    last_line(output, "vitest", |line| {
        let rest = line.strip_prefix("Tests ")?;
        // `Tests  1 failed | 3 passed (4)`: the total in brackets is not a count of its own.
        rest.ends_with(')').then(|| rest.rsplit_once('(').map_or(rest, |(counts, _)| counts))
    })
}

fn pytest(output: &str) -> Option<TestSummary> {
    last_line(output, "pytest", |line| {
        let line = line.trim_matches(|c| c == '=' || c == ' ');
        let (counts, duration) = line.rsplit_once(" in ")?;
        let is_duration =
            duration.ends_with('s') && duration.starts_with(|c: char| c.is_ascii_digit());
        let is_pytest =
            ["passed", "failed", "error", "skipped"].iter().any(|word| counts.contains(word));
        (is_duration && is_pytest).then_some(counts)
    })
}

fn rspec(output: &str) -> Option<TestSummary> {
    let line = output.lines().rev().map(str::trim).find(|line| {
        line.split_once(' ').is_some_and(|(number, rest)| {
            number.parse::<u64>().is_ok()
                && (rest.starts_with("example, ") || rest.starts_with("examples, "))
        })
    })?;
    let mut parts = line.split(", ");
    let examples = parts.next()?.split(' ').next()?.parse::<u64>().ok()?;
    let mut counts = Counts::default();
    parts.for_each(|part| counts.add_pairs(part));
    // rspec counts examples, failures and pending; the rest passed.
    counts.passed = examples.saturating_sub(counts.failed).saturating_sub(counts.skipped);
    counts.summary("rspec")
}

fn mocha(output: &str) -> Option<TestSummary> {
    sum_lines(output, "mocha", |line| {
        let (number, rest) = line.split_once(' ')?;
        let word = rest.split(' ').next()?;
        (number.parse::<u64>().is_ok() && matches!(word, "passing" | "failing" | "pending"))
            .then_some(line)
    })
}

fn go(output: &str) -> Option<TestSummary> {
    // Only `-v` prints a line per passing test (after its `=== RUN`); without it the `--- FAIL:` lines alone
    // would make a failing run look like it had no passes, so the package lines are read instead.
    if !output.lines().any(|line| line.trim_start().starts_with("=== RUN")) {
        return go_packages(output);
    }
    let mut counts = Counts::default();
    for line in output.lines() {
        let verdict = line.trim_start().strip_prefix("--- ").and_then(|rest| rest.split_once(':'));
        if let Some((verdict @ ("PASS" | "FAIL" | "SKIP"), _)) = verdict {
            counts.add(1, verdict);
        }
    }
    counts.summary("go")
}

/// Without `-v`, go test prints one line per package.
fn go_packages(output: &str) -> Option<TestSummary> {
    let mut counts = Counts::default();
    for line in output.lines() {
        if line.starts_with("ok  \t") || line.starts_with("ok \t") || line.starts_with("ok\t") {
            counts.add(1, "passed");
        } else if line.starts_with("FAIL\t") {
            counts.add(1, "failed");
        } else if line.starts_with("?   \t") && line.ends_with("[no test files]") {
            counts.add(1, "skipped");
        }
    }
    counts.summary("go")
}
