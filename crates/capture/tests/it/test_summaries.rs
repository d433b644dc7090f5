//! Reading each runner's summary, and refusing to guess.

use traceline_capture::test_summary::{parse, TestSummary};

/// Runner, passed, failed, skipped.
type Counts = (&'static str, u64, u64, u64);

fn counts(output: &str) -> Option<Counts> {
    parse(output)
        .map(|TestSummary { runner, passed, failed, skipped }| (runner, passed, failed, skipped))
}

#[test]
fn each_runner() {
    let cases: &[(&str, Counts)] = &[
        (
            "running 3 tests\ntest result: FAILED. 2 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out\n\
             running 1 test\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out",
            ("cargo", 3, 1, 1),
        ),
        (
            "        PASS [   0.004s] crate::a\n------------\n     Summary [   0.210s] 10 tests run: 9 passed, \
             1 failed, 2 skipped",
            ("nextest", 9, 1, 2),
        ),
        ("Test Suites: 1 failed, 1 total\nTests:       1 failed, 1 skipped, 3 passed, 5 total", ("jest", 3, 1, 1)),
        (" Test Files  1 failed | 1 passed (2)\n      Tests  1 failed | 3 passed | 2 skipped (6)", ("vitest", 3, 1, 2)),
        ("collected 8 items\n\n==== 2 failed, 5 passed, 1 skipped, 1 error in 0.12s ====", ("pytest", 5, 3, 1)),
        ("5 passed in 0.10s", ("pytest", 5, 0, 0)),
        ("Finished in 0.1 seconds\n5 examples, 1 failure, 2 pending", ("rspec", 2, 1, 2)),
        ("  5 passing (20ms)\n  2 pending\n  1 failing\n\n  1) thing:", ("mocha", 5, 1, 2)),
        (
            "=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n--- FAIL: TestB (0.00s)\n\
             === RUN   TestC\n--- SKIP: TestC (0.00s)\nFAIL\nFAIL\texample.com/x\t0.01s",
            ("go", 1, 1, 1),
        ),
        (
            "ok  \texample.com/a\t0.01s\nFAIL\texample.com/b\t0.02s\n?   \texample.com/c\t[no test files]",
            ("go", 1, 1, 1),
        ),
        ("\u{1b}[32mtest result: ok.\u{1b}[0m 4 passed; 0 failed; 0 ignored", ("cargo", 4, 0, 0)),
    ];
    for (output, expected) in cases {
        assert_eq!(counts(output), Some(*expected), "{output}");
    }
}

#[test]
fn no_summary_no_counts() {
    for output in [
        "",
        "error[E0425]: cannot find value `x` in this scope\nerror: could not compile `app`",
        "npm ERR! missing script: test",
        "Tests ran fine",
        "it says 3 passed somewhere in prose",
    ] {
        assert_eq!(parse(output), None, "{output}");
    }
}
