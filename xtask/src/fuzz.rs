//! `cargo xtask fuzz <target> --seconds N`: builds a libFuzzer target of `fuzz/` with the instrumentation
//! cargo-fuzz uses and runs it for a bounded time, so neither CI nor a developer needs cargo-fuzz or nightly.
//!
//! The compiler flags are the ones `cargo fuzz build` passes (sanitizer coverage with inline 8-bit counters, a
//! PC table and compare tracing, `--cfg fuzzing`); `RUSTC_BOOTSTRAP=1` lets the pinned stable toolchain accept
//! `-Cpasses=sancov-module`. No address sanitizer: the fuzzed code is safe Rust, so the failures worth finding
//! are panics and broken invariants, which libFuzzer reports without it, at several times the speed.
//! `--target` is always given so the flags reach only the fuzzed code, never build scripts or proc macros.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};
use clap::Args;

use crate::{cargo, run, say};

/// One fuzz target: a `[[bin]]` of `fuzz/Cargo.toml`, with its seeds in `fuzz/seeds/<name>/` and an optional
/// libFuzzer dictionary in `fuzz/dictionaries/<name>.dict`. Adding a target is one entry here.
struct FuzzTarget {
    name: &'static str,
    /// What it checks, for `--help`-like listings and the logs.
    about: &'static str,
}

const TARGETS: &[FuzzTarget] = &[
    FuzzTarget {
        name: "envelope",
        about: "Envelope::parse on any JSON; what it accepts reads back unchanged from to_json",
    },
    FuzzTarget {
        name: "hook",
        about: "map_hook on any payload of any tool: deterministic, valid, one session, bounded strings",
    },
];

/// The flags `cargo fuzz build` gives rustc for libFuzzer's coverage guidance.
const FUZZ_RUSTFLAGS: &str = "-Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing -Cdebug-assertions -Coverflow-checks";

/// Options of `cargo xtask fuzz`.
#[derive(Debug, Args)]
pub(crate) struct FuzzArgs {
    /// A target name, or `all` to run every target for the given time each.
    target: String,
    /// Seconds of fuzzing per target.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    seconds: u64,
}

/// Builds and runs the chosen targets one after the other; fails on the first crash, naming its input file.
pub(crate) fn fuzz(root: &Path, args: &FuzzArgs) -> Result<()> {
    let chosen: Vec<&FuzzTarget> = if args.target == "all" {
        TARGETS.iter().collect()
    } else {
        let found = TARGETS.iter().find(|target| target.name == args.target);
        let Some(target) = found else {
            let names: Vec<&str> = TARGETS.iter().map(|target| target.name).collect();
            bail!("no fuzz target {:?}; the targets are: all, {}", args.target, names.join(", "));
        };
        vec![target]
    };
    let fuzz_dir = root.join("fuzz");
    let triple = host_triple()?;
    for target in chosen {
        say(&format!("fuzzing {} for {} s: {}", target.name, args.seconds, target.about));
        build(&fuzz_dir, &triple, target.name)?;
        run_target(&fuzz_dir, &triple, target.name, args.seconds)?;
    }
    Ok(())
}

fn build(fuzz_dir: &Path, triple: &str, name: &str) -> Result<()> {
    let mut cmd = cargo(fuzz_dir);
    cmd.args(["build", "--release", "--locked", "--bin", name, "--target", triple])
        .env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTFLAGS", FUZZ_RUSTFLAGS)
        // Its own target directory: the instrumented build must not evict the workspace's.
        .env("CARGO_TARGET_DIR", fuzz_dir.join("target"));
    run(cmd)
}

fn run_target(fuzz_dir: &Path, triple: &str, name: &str, seconds: u64) -> Result<()> {
    let binary: PathBuf = [fuzz_dir, Path::new("target"), Path::new(triple), Path::new("release")]
        .iter()
        .collect::<PathBuf>()
        .join(name);
    // New inputs go to the first directory (build output, not committed); the committed seeds are read only.
    let corpus = fuzz_dir.join("target").join("corpus").join(name);
    let artifacts = fuzz_dir.join("artifacts").join(name);
    fs::create_dir_all(&corpus).with_context(|| format!("creating {}", corpus.display()))?;
    fs::create_dir_all(&artifacts).with_context(|| format!("creating {}", artifacts.display()))?;
    let mut cmd = Command::new(&binary);
    cmd.arg(&corpus)
        .arg(fuzz_dir.join("seeds").join(name))
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-print_final_stats=1");
    let dictionary = fuzz_dir.join("dictionaries").join(format!("{name}.dict"));
    if dictionary.is_file() {
        cmd.arg(format!("-dict={}", dictionary.display()));
    }
    say(&format!("$ {} …", binary.display()));
    let status = cmd.status().with_context(|| format!("could not start the fuzz target {name}"))?;
    if !status.success() {
        bail!(
            "fuzz target {name} failed ({status}); the input that broke it is in {}. Turn it into a \
             regression test (crates/domain or crates/capture) before fixing.",
            artifacts.display()
        );
    }
    Ok(())
}

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> Result<String> {
    let output = Command::new("rustc").arg("-vV").output().context("could not run rustc -vV")?;
    let text = String::from_utf8(output.stdout).context("rustc -vV printed non-UTF-8")?;
    text.lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .context("rustc -vV did not name the host triple")
}
