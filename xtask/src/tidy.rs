//! Tidy checks: the repository's rules as ordinary tests, so `cargo test --workspace` enforces them.
//!
//! Each test collects every violation before failing, and names the file or dependency path at fault.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::lockfile::{matches, Lockfile};
use crate::migration::BACKENDS;
use crate::modgraph;
use crate::project_root;

/// Crates `traceline_domain` must not reach: no database, no web framework, no async runtime, and no
/// layer above it.
const DOMAIN_FORBIDDEN: &[&str] = &[
    "diesel*",
    "r2d2",
    "actix*",
    "tokio",
    "libsqlite3-sys",
    "pq-sys",
    "traceline_storage",
    "traceline_api",
];

/// Crates `traceline_storage` must not reach: no web framework, no async runtime, not the API.
const STORAGE_FORBIDDEN: &[&str] = &["actix*", "tokio", "traceline_api"];

/// Crates `traceline_capture` must not reach: it maps payloads and nothing else, so the hook binary's I/O
/// (HTTP client, files) stays in the client crate and the mapping stays testable without it.
const CAPTURE_FORBIDDEN: &[&str] = &[
    "diesel*",
    "r2d2",
    "actix*",
    "tokio",
    "ureq",
    "libsqlite3-sys",
    "pq-sys",
    "traceline_storage",
    "traceline_api",
];

/// Crates `traceline_client` (the candidate's side, run on their machine) must not reach: the server's storage
/// and web layers have no business in a hook that runs on every tool event.
const CLIENT_FORBIDDEN: &[&str] =
    &["diesel*", "r2d2", "actix*", "tokio", "traceline_storage", "traceline_api"];

/// Crates `traceline_api` must not reach: it is the server, a library; the candidate's client (and its HTTP
/// client) belongs to the binary that holds both sides, `traceline_cli`.
const API_FORBIDDEN: &[&str] = &["traceline_client", "traceline_capture", "traceline_cli", "ureq"];

/// Crates `traceline_loadgen` must not reach: it drives the server from outside (HTTP, the binary), as a
/// client would, so what it measures and checks is what clients get.
const LOADGEN_FORBIDDEN: &[&str] = &[
    "traceline_domain",
    "traceline_storage",
    "traceline_api",
    "traceline_capture",
    "traceline_client",
    "traceline_cli",
    "actix*",
    "diesel*",
];

/// xtask shells out instead of linking the workspace, so it builds in seconds.
const XTASK_FORBIDDEN: &[&str] = &["traceline*"];

/// The folders whose Rust files the source checks read.
const SOURCE_DIRS: &[&str] = &["crates", "tests", "xtask", "fuzz"];

fn root() -> PathBuf {
    project_root().unwrap()
}

#[test]
fn domain_does_not_depend_on_io_crates() {
    check_layering("traceline_domain", DOMAIN_FORBIDDEN);
}

#[test]
fn storage_does_not_depend_on_the_web_layer() {
    check_layering("traceline_storage", STORAGE_FORBIDDEN);
}

#[test]
fn capture_does_not_depend_on_io_crates() {
    check_layering("traceline_capture", CAPTURE_FORBIDDEN);
}

#[test]
fn client_does_not_depend_on_the_server() {
    check_layering("traceline_client", CLIENT_FORBIDDEN);
}

#[test]
fn api_does_not_depend_on_the_client() {
    check_layering("traceline_api", API_FORBIDDEN);
}

#[test]
fn loadgen_drives_the_server_from_outside() {
    check_layering("traceline_loadgen", LOADGEN_FORBIDDEN);
}

#[test]
fn xtask_does_not_depend_on_workspace_crates() {
    check_layering("xtask", XTASK_FORBIDDEN);
}

fn check_layering(krate: &str, forbidden: &[&str]) {
    let text = fs::read_to_string(root().join("Cargo.lock")).unwrap();
    let paths = Lockfile::parse(&text)
        .forbidden_paths(krate, |name| forbidden.iter().any(|pattern| matches(pattern, name)))
        .unwrap();
    assert!(
        paths.is_empty(),
        "{krate} must not depend on {} (Cargo.lock counts dev-dependencies too):\n  {}",
        forbidden.join(", "),
        paths.join("\n  ")
    );
}

#[test]
fn migrations_are_paired() {
    let root = root();
    let mut problems = Vec::new();
    let [first, second] = BACKENDS.map(|backend| {
        let dir = root.join("migrations").join(backend);
        let names = subdirectories(&dir);
        assert!(!names.is_empty(), "{} holds no migrations", dir.display());
        for name in &names {
            for file in ["up.sql", "down.sql"] {
                if !dir.join(name).join(file).is_file() {
                    problems.push(format!("migrations/{backend}/{name} has no {file}"));
                }
            }
        }
        names
    });
    for name in first.symmetric_difference(&second) {
        let [has, lacks] = if first.contains(name) { BACKENDS } else { [BACKENDS[1], BACKENDS[0]] };
        problems.push(format!("migrations/{has}/{name} has no twin in migrations/{lacks}"));
    }
    assert!(problems.is_empty(), "migrations must come in pairs:\n  {}", problems.join("\n  "));
}

#[test]
fn modules_of_a_crate_form_no_cycle() {
    let root = root();
    let mut crate_dirs: Vec<PathBuf> = subdirectories(&root.join("crates"))
        .into_iter()
        .map(|name| root.join("crates").join(name))
        .collect();
    crate_dirs.extend([root.join("xtask"), root.join("tests")]);
    let mut problems = Vec::new();
    for dir in crate_dirs {
        let mut roots: Vec<PathBuf> = ["src", "it"].map(|sub| dir.join(sub)).into();
        // Each folder of `tests/` with a `main.rs` is an integration-test crate of its own.
        let tests = dir.join("tests");
        if tests.is_dir() {
            roots.extend(subdirectories(&tests).into_iter().map(|name| tests.join(name)));
        }
        for src in roots
            .iter()
            .filter(|root| root.join("main.rs").is_file() || root.join("lib.rs").is_file())
        {
            let modules = modgraph::modules(src);
            for cycle in modgraph::cycles(&modgraph::sibling_edges(&modules)) {
                problems.push(format!("{}: {cycle}", relative(&root, src)));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "modules of one crate must not depend on each other in a circle; move what they share into a \
         module of its own:\n  {}",
        problems.join("\n  ")
    );
}

fn subdirectories(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn rust_files_open_with_a_module_doc() {
    let root = root();
    let mut problems = Vec::new();
    for path in rust_files(&root) {
        let text = fs::read_to_string(&path).unwrap();
        let first_line = text.lines().next().unwrap_or_default();
        let is_lib = path.file_name().is_some_and(|name| name == "lib.rs");
        let documented = first_line.starts_with("//!")
            || (is_lib && first_line.starts_with("#![doc = include_str!("));
        if !documented {
            problems.push(relative(&root, &path));
        }
    }
    assert!(
        problems.is_empty(),
        "these files must start with a `//!` line saying what they are for \
         (a lib.rs may start with `#![doc = include_str!(\"../README.md\")]` instead):\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn every_crate_has_a_readme() {
    let root = root();
    let missing: Vec<String> = subdirectories(&root.join("crates"))
        .into_iter()
        .map(|name| root.join("crates").join(name))
        .filter(|dir| dir.join("Cargo.toml").is_file() && !dir.join("README.md").is_file())
        .map(|dir| relative(&root, &dir.join("README.md")))
        .collect();
    assert!(
        missing.is_empty(),
        "every crate needs a README.md saying what it is, what it must not depend on and how it is \
         tested:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn no_debugging_leftovers() {
    // Built with `concat!` so this file does not match its own needles.
    let needles = [concat!("dbg", "!("), concat!("todo", "!("), concat!("unimplemented", "!(")];
    let root = root();
    let mut problems = Vec::new();
    for path in rust_files(&root) {
        let text = fs::read_to_string(&path).unwrap();
        for (line_idx, line) in text.lines().enumerate() {
            for needle in needles.iter().filter(|needle| line.contains(*needle)) {
                problems.push(format!("{}:{}: {needle}", relative(&root, &path), line_idx + 1));
            }
        }
    }
    assert!(problems.is_empty(), "leftover debugging macros:\n  {}", problems.join("\n  "));
}

/// Every `.rs` file under [`SOURCE_DIRS`], skipping build output and hidden folders, sorted.
fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = SOURCE_DIRS.iter().map(|dir| root.join(dir)).collect();
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if entry.file_type().unwrap().is_dir() {
                if name != "target" && !name.starts_with('.') {
                    pending.push(path);
                }
            } else if name.ends_with(".rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "found no Rust files under {}", root.display());
    files
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// The modules of `crates/api/src` allowed to register routes: the API's route table, which the OpenAPI document
/// is rendered from too, and the web UI's page table. Each wraps every route it registers in its access rule.
const ROUTE_TABLES: [&str; 2] = ["crates/api/src/routes/mod.rs", "crates/api/src/pages/mod.rs"];

#[test]
fn routes_are_registered_by_the_table() {
    // Every way actix offers to register a route or a service; built with `concat!` so this file does not
    // match its own needles.
    let needles = [
        concat!("web::", "resource("),
        concat!("web::", "scope("),
        concat!(".", "service("),
        concat!(".", "route("),
        concat!("#[", "get("),
        concat!("#[", "post("),
        concat!("#[", "put("),
        concat!("#[", "patch("),
        concat!("#[", "delete("),
        concat!("#[", "route("),
        concat!("#[", "routes"),
    ];
    let root = root();
    let mut problems = Vec::new();
    for path in rust_files(&root) {
        let relative_path = relative(&root, &path);
        if !relative_path.starts_with("crates/api/src")
            || ROUTE_TABLES.contains(&relative_path.as_str())
        {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        // Unit tests (a file's trailing `#[cfg(test)]` module) may build throwaway apps of their own.
        let served = text.lines().take_while(|line| line.trim() != "#[cfg(test)]");
        for (line_idx, line) in served.enumerate() {
            for needle in needles.iter().filter(|needle| line.contains(*needle)) {
                problems.push(format!("{relative_path}:{}: {needle}", line_idx + 1));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "routes are registered only by the tables in {} (an `Endpoint` in a routes module, or a `Page`), so \
         the OpenAPI document describes every API route and every route has its access rule:\n  {}",
        ROUTE_TABLES.join(" and "),
        problems.join("\n  ")
    );
}

/// Where the web UI's templates are.
const TEMPLATES: &str = "crates/api/templates";

#[test]
fn templates_escape_everything_and_carry_no_inline_code() {
    // Anything a candidate sent reaches a template; askama escapes every value unless told not to, and the
    // Content-Security-Policy refuses inline script and style, so none may be written. Built with `concat!` so
    // this file does not match its own needles.
    let needles = [
        concat!("|", "safe"),
        concat!("| ", "safe"),
        concat!("escape", "(\"none\")"),
        concat!("sty", "le="),
        concat!("<scr", "ipt>"),
        concat!(" on", "click="),
        concat!(" on", "load="),
        concat!(" on", "error="),
        concat!(" on", "submit="),
        concat!("javascript", ":"),
    ];
    let root = root();
    let mut problems = Vec::new();
    let mut pending = vec![root.join(TEMPLATES)];
    let mut seen = 0;
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            seen += 1;
            let text = fs::read_to_string(&path).unwrap();
            for (line_idx, line) in text.lines().enumerate() {
                for needle in needles.iter().filter(|needle| line.contains(*needle)) {
                    problems.push(format!("{}:{}: {needle}", relative(&root, &path), line_idx + 1));
                }
            }
        }
    }
    assert!(seen > 0, "found no templates under {TEMPLATES}");
    assert!(
        problems.is_empty(),
        "templates must let askama escape every value and hold no inline script, style or event handler \
         (the CSP forbids them; put behaviour in assets/app.js and looks in assets/app.css):\n  {}",
        problems.join("\n  ")
    );
}
