//! Tests of command-line classification: every family of spec §6, realistic agent lines, and look-alikes.

use super::{classify_command, CommandClass};

const TESTS: CommandClass = CommandClass { is_verification: true, runs_tests: true };
const VERIFIES: CommandClass = CommandClass { is_verification: true, runs_tests: false };
const OTHER: CommandClass = CommandClass { is_verification: false, runs_tests: false };

fn check(expected: CommandClass, lines: &[&str]) {
    for line in lines {
        assert_eq!(classify_command(line), expected, "{line:?}");
    }
}

#[test]
fn the_spec_families_that_run_tests() {
    check(
        TESTS,
        &[
            "cargo test",
            "cargo nextest run",
            "cargo t",
            "npm test",
            "npm run test",
            "pnpm test",
            "pnpm run test",
            "yarn test",
            "yarn run test",
            "bun test",
            "bun run test",
            "npx jest",
            "npx vitest run",
            "pytest",
            "python -m pytest",
            "python3 -m unittest discover",
            "go test ./...",
            "make test",
            "make check",
            "mvn test",
            "mvn verify",
            "gradle test",
            "gradle check",
            "jest --watchAll=false",
            "vitest",
            "rspec spec/models",
            "phpunit",
            "dotnet test",
            "swift test",
        ],
    );
}

#[test]
fn the_spec_families_that_verify_without_running_tests() {
    check(
        VERIFIES,
        &[
            "cargo build --release",
            "cargo check",
            "cargo clippy --all-targets -- -D warnings",
            "npm run build",
            "npm run lint",
            "pnpm run build",
            "yarn run lint",
            "bun run build",
            "npx tsc --noEmit",
            "npx eslint .",
            "go build ./...",
            "go vet ./...",
            "make build",
            "ruff check .",
            "ruff .",
            "mypy src",
            "tsc -p .",
            "eslint src --ext .ts",
            "dotnet build",
            "swift build",
        ],
    );
}

#[test]
fn realistic_agent_lines() {
    check(
        TESTS,
        &[
            "cd web && pnpm test -- --run",
            "RUST_LOG=debug cargo test -p api",
            "python -m pytest -q",
            "go test ./...",
            "./gradlew test",
            "./gradlew :app:test --info",
            "./gradlew testDebugUnitTest",
            "cargo test 2>&1 | tail -20",
            "cd /repo/api && RUST_BACKTRACE=1 cargo test --workspace -- --nocapture",
            "bash -lc 'cd api && cargo test'",
            "sh -c \"npm test\"",
            "(cd web && npm test)",
            "timeout 300 cargo test",
            "env CI=1 npm test",
            "time go test -race ./...",
            "pnpm --filter web test",
            "pnpm -C web test",
            "npm --prefix web run test:unit",
            "yarn workspace web test",
            "uv run pytest tests/",
            "poetry run pytest",
            "bundle exec rspec",
            "python3.12 -m pytest -x",
            "/usr/bin/python3 -mpytest",
            ".venv/bin/pytest -k login",
            "./node_modules/.bin/jest",
            "pnpm exec vitest run",
            "pnpm vitest",
            "php vendor/bin/phpunit",
            "php artisan test",
            "python manage.py test",
            "mvn -q -pl core clean verify",
            "make -C backend test",
            "npm.cmd test",
            "cargo build && cargo test",
        ],
    );
    check(
        VERIFIES,
        &[
            "npx tsc --noEmit",
            "cargo +nightly clippy",
            "cargo test --no-run",
            "yarn lint",
            "yarn tsc",
            "pnpm build",
            "npx --yes eslint .",
            "npx -p typescript tsc --noEmit",
            "python -m mypy src",
            "uvx ruff check",
            "ruff format --check",
            "pnpm run typecheck",
            "npm run lint:fix",
            "./gradlew build",
            "mvn package",
            "cd web && npm ci && npm run build",
            "git add -A && cargo check",
        ],
    );
}

#[test]
fn look_alikes_are_not_verification() {
    check(
        OTHER,
        &[
            "",
            "   ",
            "cat test.txt",
            "git commit -m \"test\"",
            "git commit -m 'cargo test && npm test'",
            "echo cargo test",
            "echo \"run pytest next\"",
            "ls tests/",
            "npm install",
            "npm i -D jest",
            "npm build",
            "yarn add vitest",
            "cargo run",
            "cargo add serde",
            "vim test_foo.py",
            "grep -r pytest .",
            "rg 'cargo test' docs",
            "cd test",
            "mkdir -p tests && touch tests/test_api.py",
            "python script.py --test",
            "python -c 'import pytest'",
            "python -m pip install pytest",
            "go run ./cmd/server",
            "go mod tidy",
            "make",
            "make install",
            "ruff format .",
            "bash scripts/test.sh",
            "docker compose up -d",
            "cargo fmt",
            "git log --grep test",
            "cat <<EOF > test.py",
            "# cargo test",
            "make > test",
        ],
    );
}

#[test]
fn a_chain_is_judged_by_its_most_telling_command() {
    assert_eq!(classify_command("cargo build; cargo test"), TESTS);
    assert_eq!(classify_command("cargo test || true"), TESTS);
    assert_eq!(classify_command("npm run lint && echo ok"), VERIFIES);
    assert_eq!(classify_command("ls; cat x | grep y"), OTHER);
}

#[test]
fn hostile_input_neither_recurses_deeply_nor_panics() {
    let wrappers = "env ".repeat(100_000) + "cargo test";
    assert_eq!(classify_command(&wrappers), TESTS);
    let nest = |levels: usize| {
        (0..levels).fold("cargo test".to_owned(), |line, _| {
            format!("bash -c '{}'", line.replace('\'', "'\\''"))
        })
    };
    assert_eq!(classify_command(&nest(5)), TESTS);
    // Deeper than the runner limit: given up on, not followed.
    assert_eq!(classify_command(&nest(9)), OTHER);
    for line in
        ["\"", "'", "\\", "2>", "&>", "|", "&&&", "(((", "-m", "python -m", "npx", "yarn workspace"]
    {
        assert_eq!(classify_command(line), OTHER, "{line:?}");
    }
}
