//! `cargo xtask bench`: builds the release server, measures it on SQLite and PostgreSQL, and writes
//! `docs/BENCHMARKS.md`.
//!
//! Each backend gets a fresh database and a fresh server; both are removed when the run ends, failed or not
//! (their guards stop the server before dropping the database).

mod ceiling;
mod cohort;
mod figures;
mod hook;
mod report;
mod review;
mod scenarios;
mod sections;
mod session_view;
mod signed;

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{ensure, Context as _, Result};
use clap::{Args, ValueEnum};

use traceline_loadgen::ceiling::Ids;
use traceline_loadgen::database::{Backend, BenchDatabase};
use traceline_loadgen::load::{self, Load};
use traceline_loadgen::say;
use traceline_loadgen::server::{self, RssSampler, Server, ServerOptions};

use self::figures::thousands;
pub(crate) use self::hook::{bench_hook, HookBenchArgs};
use self::report::{BackendResult, Header};
pub(crate) use self::signed::{bench_signed, SignedBenchArgs};
use crate::{cargo, run};

/// Timed requests per timeline page position.
const TIMELINE_REPETITIONS: usize = 200;

/// Timed requests of the session view.
const SESSION_VIEW_REPETITIONS: usize = 100;

/// Timed requests of the compare page.
const COMPARE_REPETITIONS: usize = 100;

/// Timed requests per cohort-stats route.
const COHORT_REPETITIONS: usize = 100;

/// Options of `cargo xtask bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Which database to measure.
    #[arg(long, value_enum, default_value_t = BackendChoice::All)]
    backend: BackendChoice,
    /// Measured seconds per load scenario (a warm-up comes on top).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// Concurrent keep-alive connections, one client thread each.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=450))]
    connections: u64,
    /// Completed sessions in the cohort whose statistics are timed; smaller for a quick check.
    #[arg(long, default_value_t = cohort::COHORT_SESSIONS,
          value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    cohort: u64,
    /// Events the plain-SQL ceiling inserts per measurement, into fresh databases of the backend (into an empty
    /// one, then as many again on top); 0 skips the ceiling.
    #[arg(long, default_value_t = 100_000)]
    ceiling_events: u64,
    /// The event ids the ceiling inserts: random UUID v4 (what clients send) or time-ordered ones.
    #[arg(long, value_enum, default_value_t = CeilingIds::Random)]
    ceiling_ids: CeilingIds,
    /// Events inserted with plain SQL into the server's database before it starts (e.g. 10000000), to measure
    /// the scenarios on a database that already holds that many.
    #[arg(long, default_value_t = 0)]
    prefill_events: u64,
    /// Runs only these scenarios and prints their figures, without writing the report: `ingest` (the trivial
    /// route, single and batch ingest, the ceiling), `reads` (timeline pages, session view, compare, export) or
    /// `cohort` (cohort statistics, for `--cohort` sessions).
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Measures this `traceline` binary instead of building the workspace's (an older build, to compare with).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Where the report goes, relative to the workspace root unless absolute.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
}

/// `--ceiling-ids`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum CeilingIds {
    /// UUID v4, as clients send them.
    Random,
    /// UUID v7-like: each id lands on the unique index's last page.
    TimeOrdered,
}

/// `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Only {
    /// The trivial route, single and batch ingest, and the ceiling.
    Ingest,
    /// Timeline pages, the session view, compare and export, on a database holding only their sessions.
    Reads,
    /// Cohort statistics over `--cohort` completed sessions.
    Cohort,
}

/// `--backend`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum BackendChoice {
    Sqlite,
    Postgres,
    All,
}

impl BackendChoice {
    /// The engines the choice names, SQLite first.
    fn backends(self) -> Vec<Backend> {
        match self {
            BackendChoice::Sqlite => vec![Backend::Sqlite],
            BackendChoice::Postgres => vec![Backend::Postgres],
            BackendChoice::All => vec![Backend::Sqlite, Backend::Postgres],
        }
    }
}

/// Runs the whole bench and writes the report.
pub(crate) fn bench(root: &Path, args: &BenchArgs) -> Result<()> {
    let backends = args.backend.backends();
    let connections = usize::try_from(args.connections)?;
    let header = Header {
        machine: machine(root),
        command: command_line(),
        date: output_of(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))?,
        commit: commit(root)?,
        connections,
        warmup_seconds: (args.seconds / 5).clamp(1, 3),
        seconds: args.seconds,
        cohort_sessions: usize::try_from(args.cohort)?,
    };

    let binary = match &args.server {
        Some(binary) => binary.clone(),
        None => build_server(root)?,
    };
    let plan = Plan {
        ceiling_events: args.ceiling_events,
        ceiling_ids: match args.ceiling_ids {
            CeilingIds::Random => Ids::Random,
            CeilingIds::TimeOrdered => Ids::TimeOrdered,
        },
        prefill_events: args.prefill_events,
        only: args.only,
    };

    let work_dir = env::temp_dir().join(format!("traceline-bench-{}", std::process::id()));
    fs::create_dir_all(&work_dir)
        .with_context(|| format!("could not create {}", work_dir.display()))?;
    let results: Result<Vec<Option<BackendResult>>> = backends
        .iter()
        .map(|&backend| bench_backend(backend, &binary, &work_dir, &header, &plan))
        .collect();
    let results = match results {
        Ok(results) => results,
        Err(error) => {
            let has_logs =
                fs::read_dir(&work_dir).is_ok_and(|mut entries| entries.next().is_some());
            if has_logs {
                say(&format!("the server logs are kept in {}", work_dir.display()));
            } else {
                _ = fs::remove_dir_all(&work_dir);
            }
            return Err(error);
        }
    };
    _ = fs::remove_dir_all(&work_dir);
    if plan.only.is_some() {
        say("a partial run (--only): the report is not written");
        return Ok(());
    }

    let out = root.join(&args.out);
    let results: Vec<BackendResult> = results.into_iter().flatten().collect();
    let mut rendered = report::render(&header, &results);
    // The hook's and signed events' figures come from `cargo xtask bench-hook` and `bench-signed`; a full run
    // keeps them rather than dropping them.
    let previous = fs::read_to_string(&out).unwrap_or_default();
    if let Some(section) = hook::existing_section(&previous) {
        rendered = hook::replace_section(&rendered, &format!("{section}\n"));
    }
    if let Some(section) = signed::existing_section(&previous) {
        let (start, end) = (signed::SECTION_START, signed::SECTION_END);
        rendered = sections::replace_marked(&rendered, start, end, &format!("{section}\n"));
    }
    fs::write(&out, rendered).with_context(|| format!("could not write {}", out.display()))?;
    say(&format!("wrote {}", out.display()));
    Ok(())
}

/// Builds the release `traceline` binary where the workspace normally builds, whatever target dir xtask itself
/// uses, and returns its path.
pub(crate) fn build_server(root: &Path) -> Result<PathBuf> {
    let mut build = cargo(root);
    build.env_remove("CARGO_TARGET_DIR");
    build.args(["build", "--release", "-p", "traceline_cli", "--bin", "traceline"]);
    run(build)?;
    let binary = root.join("target").join("release").join("traceline");
    ensure!(binary.is_file(), "the build left no {}", binary.display());
    Ok(binary)
}

/// What a run does besides the scenarios every run has.
struct Plan {
    ceiling_events: u64,
    ceiling_ids: Ids,
    prefill_events: u64,
    only: Option<Only>,
}

/// One backend: fresh database, org, server; then every scenario in turn. A partial run (`--only`) returns
/// `None` once its scenarios have printed their figures.
fn bench_backend(
    backend: Backend,
    binary: &Path,
    work_dir: &Path,
    header: &Header,
    plan: &Plan,
) -> Result<Option<BackendResult>> {
    say(&format!("== {}", backend.label()));
    let ceiling = match (plan.ceiling_events, plan.only) {
        (0, _) | (_, Some(Only::Cohort | Only::Reads)) => None,
        (events, _) => Some(ceiling::measure(backend, binary, work_dir, events, plan.ceiling_ids)?),
    };
    let database = BenchDatabase::create(backend, work_dir)?;
    let api_key = server::create_org(binary, database.url())?;
    if plan.prefill_events > 0 {
        ceiling::prefill(backend, database.url(), plan.prefill_events)?;
    }
    let log = work_dir.join(format!("server-{}.log", backend.label()));
    // Declared after `database`, so it is dropped (stopped) first.
    let mut server = Server::start(binary, database.url(), &ServerOptions::unlimited(&log))?;
    say(&format!("  server pid {} listening on {}", server.pid(), server.address));
    let sampler = RssSampler::start(server.pid());

    if plan.only == Some(Only::Cohort) {
        let cohort_keys = cohort::issue(server.address, &api_key, header.cohort_sessions)?;
        cohort_only(&server, &api_key, cohort_keys, header)?;
        say(&format!("  peak memory {:.1} MB", figures::mb(server.peak_memory_kb()?)));
        server.stop()?;
        return Ok(None);
    }
    let keys = scenarios::candidate_keys(server.address, &api_key, header.connections + 1)?;
    if plan.only == Some(Only::Reads) {
        reads(&server, binary, database.url(), &api_key, &keys)?;
        say(&format!("  peak memory {:.1} MB", figures::mb(server.peak_memory_kb()?)));
        server.stop()?;
        return Ok(None);
    }
    // Issued before the load scenarios, so that a server refusing them fails the run in seconds.
    let cohort_keys = cohort::issue(server.address, &api_key, header.cohort_sessions)?;
    say(&format!(
        "  issued {} candidate keys for the cohort in {:.2} s",
        cohort_keys.len(),
        cohort_keys.seconds()
    ));
    let load = Load {
        address: server.address,
        connections: header.connections,
        warmup: Duration::from_secs(header.warmup_seconds),
        measure: Duration::from_secs(header.seconds),
        server_pid: server.pid(),
    };
    let health = scenarios::health(&load)?;
    summarize("GET /v1/health", &health);
    let single = scenarios::single_ingest(&load, &keys)?;
    summarize("POST /v1/hooks/ingest", &single);
    let batch = scenarios::batch_ingest(&load, &keys)?;
    summarize("POST /v1/hooks/ingest/batch", &batch);
    if let Some(ceiling) = &ceiling {
        say(&format!(
            "  ingest as a ratio of the ceiling (empty database): single {:.2}, batch {:.2}",
            single.events_per_second() / ceiling.many_empty.max(f64::MIN_POSITIVE),
            batch.events_per_second() / ceiling.one_empty.max(f64::MIN_POSITIVE)
        ));
    }
    if plan.only == Some(Only::Ingest) {
        server.stop()?;
        return Ok(None);
    }
    let ingest_peak_kb = server.peak_memory_kb()?;
    let Reads { timeline, session_view, compare, export } =
        reads(&server, binary, database.url(), &api_key, &keys)?;
    let cohort = cohort_only(&server, &api_key, cohort_keys, header)?;

    let peak_kb = server.peak_memory_kb()?;
    let sampled_rss_kb = sampler.finish();
    server.stop()?;
    say(&format!("  peak memory {:.1} MB", peak_kb.max(sampled_rss_kb) as f64 * 1024.0 / 1e6));
    Ok(Some(BackendResult {
        backend,
        ceiling,
        prefilled: plan.prefill_events,
        health,
        single,
        batch,
        timeline,
        session_view,
        export,
        compare,
        cohort,
        ingest_peak_kb,
        peak_kb,
        sampled_rss_kb,
    }))
}

/// What the read scenarios measured.
struct Reads {
    timeline: scenarios::TimelineReport,
    session_view: session_view::SessionViewReport,
    compare: review::CompareReport,
    export: review::ExportReport,
}

/// Builds the sessions the reads need (the timeline's with the last of `keys`, the compared ones with the first
/// two) and times timeline pages, the session view, compare and export.
fn reads(
    server: &Server,
    binary: &Path,
    database_url: &str,
    api_key: &str,
    keys: &[String],
) -> Result<Reads> {
    let timeline_key = keys.last().context("no candidate key left for the timeline")?;
    let timeline =
        scenarios::timeline(server.address, api_key, timeline_key, TIMELINE_REPETITIONS)?;
    for (name, sorted) in &timeline.positions {
        say(&format!(
            "  timeline {name} page: p50 {:.2} ms, p99 {:.2} ms",
            load::percentile_ms(sorted, 50.0),
            load::percentile_ms(sorted, 99.0)
        ));
    }
    let cookie = session_view::sign_in(
        binary,
        database_url,
        server.address,
        api_key,
        scenarios::TIMELINE_SESSION,
    )?;
    let session_view = session_view::measure(
        server.address,
        &cookie,
        scenarios::TIMELINE_SESSION,
        scenarios::TIMELINE_EVENTS,
        SESSION_VIEW_REPETITIONS,
    )?;
    say(&format!(
        "  session view: p50 {:.2} ms, p99 {:.2} ms, {} bytes of HTML ({} events of {})",
        session_view.percentile_ms(50.0),
        session_view.percentile_ms(99.0),
        session_view.bytes,
        session_view.events_shown,
        session_view.events
    ));
    let compare_keys = &keys[..2];
    let compare = review::compare(server.address, &cookie, compare_keys, COMPARE_REPETITIONS)?;
    say(&format!(
        "  compare of two {}-event sessions: p50 {:.2} ms, p99 {:.2} ms, {} bytes",
        compare.events_per_session,
        compare.percentile_ms(50.0),
        compare.percentile_ms(99.0),
        compare.bytes
    ));
    let export = review::export(
        server.address,
        server.pid(),
        api_key,
        (review::COMPARED.0, review::COMPARE_EVENTS),
        (scenarios::TIMELINE_SESSION, scenarios::TIMELINE_EVENTS),
    )?;
    say(&format!(
        "  export: {} events/s, {:.1} MB in {:.2} s (best of {}); peak memory {:.1} MB ({:.1} MB for {} events)",
        thousands(export.events_per_second()),
        export.bytes as f64 / 1e6,
        export.best_seconds(),
        export.seconds.len(),
        figures::mb(export.large_peak_kb),
        figures::mb(export.small_peak_kb),
        export.small_events,
    ));
    Ok(Reads { timeline, session_view, compare, export })
}

/// Builds the cohort and times its statistics.
fn cohort_only(
    server: &Server,
    api_key: &str,
    cohort_keys: cohort::CohortKeys,
    header: &Header,
) -> Result<cohort::CohortReport> {
    let cohort = cohort::cohort(
        server.address,
        api_key,
        cohort_keys,
        header.connections,
        COHORT_REPETITIONS,
    )?;
    say(&format!(
        "  built a cohort of {} completed sessions in {:.1} s",
        cohort.sessions, cohort.build_seconds
    ));
    for (name, sorted) in &cohort.routes {
        say(&format!(
            "  {name}: p50 {:.2} ms, p99 {:.2} ms",
            load::percentile_ms(sorted, 50.0),
            load::percentile_ms(sorted, 99.0)
        ));
    }
    Ok(cohort)
}

fn summarize(name: &str, report: &load::LoadReport) {
    say(&format!(
        "  {name}: {:.0} req/s{}, p50 {:.2} ms, p99 {:.2} ms, CPU server {} / client {} \
         cores, {} errors{}",
        report.requests_per_second(),
        if report.events_per_request > 1 {
            format!(" ({:.0} events/s)", report.events_per_second())
        } else {
            String::new()
        },
        report.percentile_ms(50.0),
        report.percentile_ms(99.0),
        figures::cores(report.server_cores),
        figures::cores(report.client_cores),
        report.errors,
        report.first_error.as_ref().map_or(String::new(), |error| format!(" (first: {error})"))
    ));
}

/// `cargo xtask bench …` (or `bench-hook …`) as it was typed: xtask runs us as `traceline-bench <task> …`.
fn command_line() -> String {
    let args: Vec<String> = env::args()
        .skip(1)
        .enumerate()
        .map(|(index, arg)| if index == 0 && arg == "hook" { "bench-hook".to_owned() } else { arg })
        .collect();
    format!("cargo xtask {}", args.join(" "))
}

/// CPUs, memory, CPU model and compiler, from `nproc`, `/proc` and `rustc --version`.
pub(crate) fn machine(root: &Path) -> String {
    let cpus = output_of(&mut Command::new("nproc")).unwrap_or_else(|_| "?".into());
    let memory = proc_field("/proc/meminfo", "MemTotal:")
        .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(|| "?".into(), |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0));
    let model = proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown CPU".into());
    let model = model.trim_start_matches(':').trim().to_owned();
    let rustc = output_of(Command::new("rustc").arg("--version").current_dir(root))
        .unwrap_or_else(|_| "rustc ?".into());
    format!("{cpus} CPUs ({model}), {memory} RAM, {rustc}")
}

/// The rest of the first line of `path` that starts with `field`.
fn proc_field(path: &str, field: &str) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| line.strip_prefix(field)).map(|rest| rest.trim().to_owned())
}

/// The short commit of `HEAD`, with `+dirty` when the working tree has changes.
pub(crate) fn commit(root: &Path) -> Result<String> {
    let head =
        output_of(Command::new("git").args(["rev-parse", "--short", "HEAD"]).current_dir(root))?;
    let status = output_of(Command::new("git").args(["status", "--porcelain"]).current_dir(root))?;
    Ok(if status.is_empty() { head } else { format!("{head}+dirty") })
}

/// A command's trimmed stdout, failing unless it succeeds.
pub(crate) fn output_of(command: &mut Command) -> Result<String> {
    let shown = format!("{command:?}");
    let output = command.output().with_context(|| format!("could not run {shown}"))?;
    ensure!(output.status.success(), "{shown} failed ({})", output.status);
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
