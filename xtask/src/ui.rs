//! The browser suite (`tests/ui`): Playwright driving Debian's Chromium against the real `traceline` binary on
//! SQLite and PostgreSQL. This module makes what it needs: a Python venv under `target/` with every package
//! pinned in `tests/ui/requirements.txt` — Playwright (never `playwright install`: the browser is the system's),
//! pytest, axe-core's Playwright binding and what they pull in — and the debug binary. A missing Chromium fails
//! the run with a message that says how to install it: the suite is never skipped.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};

use crate::{cargo, run, say};

/// The suite's Python packages, every one pinned (Playwright's driver must speak to the Chromium Debian ships;
/// axe-playwright-python bundles axe-core 4.12.1), so every machine runs the same suite.
const REQUIREMENTS: &str = "tests/ui/requirements.txt";
/// Where Debian's `chromium` package puts the browser (`TRACELINE_CHROMIUM` overrides it).
const CHROMIUM: &str = "/usr/bin/chromium";

/// Builds the binary, makes the venv if needed, and runs `pytest tests/ui` with `pytest_args`.
pub(crate) fn test(root: &Path, pytest_args: &[OsString]) -> Result<()> {
    let chromium =
        env::var_os("TRACELINE_CHROMIUM").map_or_else(|| PathBuf::from(CHROMIUM), PathBuf::from);
    if !chromium.is_file() {
        bail!(
            "the browser suite needs Chromium at {}, and there is none: install Debian's package with \
             `apt-get install -y --no-install-recommends chromium` (or set TRACELINE_CHROMIUM)",
            chromium.display()
        );
    }
    let target = target_dir(root);
    let venv = venv(root, &target)?;

    let mut build = cargo(root);
    build.args(["build", "--locked", "-p", "traceline_cli", "--bin", "traceline"]);
    run(build)?;

    let mut pytest = Command::new(venv.join("bin").join("pytest"));
    pytest
        .current_dir(root)
        .args(["-q", "-p", "no:cacheprovider", "tests/ui"])
        .args(pytest_args)
        .env("TRACELINE_BIN", target.join("debug").join("traceline"))
        .env("TRACELINE_CHROMIUM", &chromium)
        .env("TRACELINE_SCREENSHOTS", target.join("ui-screenshots"));
    say(&format!("screenshots of every page go to {}", target.join("ui-screenshots").display()));
    run_tool(pytest, "the browser suite (pytest tests/ui)")
}

/// `CARGO_TARGET_DIR`, or `target/` under the workspace.
fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// The venv for the pinned packages, made on first use; named after the list's content, so a change to it
/// makes a new one.
fn venv(root: &Path, target: &Path) -> Result<PathBuf> {
    let requirements = root.join(REQUIREMENTS);
    let pins = std::fs::read_to_string(&requirements)
        .with_context(|| format!("could not read {}", requirements.display()))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&pins, &mut hasher);
    let venv = target.join(format!("ui-venv-{:016x}", std::hash::Hasher::finish(&hasher)));
    if venv.join("bin").join("pytest").is_file() {
        return Ok(venv);
    }
    say(&format!("creating {} from {REQUIREMENTS}", venv.display()));
    let mut create = Command::new("python3");
    create.args(["-m", "venv"]).arg(&venv);
    run_tool(create, "python3 -m venv (is python3-venv installed?)")?;
    let mut install = Command::new(venv.join("bin").join("pip"));
    install.args(["install", "--quiet", "--disable-pip-version-check", "--no-deps", "-r"]);
    install.arg(&requirements);
    run_tool(install, "pip install of the browser suite's packages")?;
    Ok(venv)
}

/// Runs a non-cargo tool, failing with `what` unless it succeeds.
fn run_tool(mut command: Command, what: &str) -> Result<()> {
    let status = command.status().with_context(|| format!("could not start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}
