//! `cargo xtask soak --backend all --minutes N`: the SIGKILL/restart test of `crates/cli/tests/reliability`
//! run for N minutes per backend instead of a few seconds; it prints the figures docs/RELIABILITY.md quotes.

use std::path::Path;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::{cargo, run};

/// Options of `cargo xtask soak`.
#[derive(Debug, Args)]
pub(crate) struct SoakArgs {
    /// Which database to soak.
    #[arg(long, value_enum, default_value_t = SoakBackend::All)]
    backend: SoakBackend,
    /// Minutes of kill/restart cycles per backend.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1440))]
    minutes: u64,
}

/// The backends `--backend` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SoakBackend {
    Sqlite,
    Postgres,
    All,
}

/// Runs the ignored `crash::soak::*` tests with `TRACELINE_SOAK_SECONDS`, one backend after the other.
pub(crate) fn soak(root: &Path, args: &SoakArgs) -> Result<()> {
    let tests: &[&str] = match args.backend {
        SoakBackend::Sqlite => &["crash::soak::sqlite"],
        SoakBackend::Postgres => &["crash::soak::postgres"],
        SoakBackend::All => &["crash::soak::sqlite", "crash::soak::postgres"],
    };
    let mut cmd = cargo(root);
    cmd.args(["test", "--locked", "-p", "traceline_cli", "--test", "reliability", "--"])
        .args(["--ignored", "--exact", "--nocapture", "--test-threads", "1"])
        .args(tests)
        .env("TRACELINE_SOAK_SECONDS", (args.minutes * 60).to_string());
    run(cmd)
}
