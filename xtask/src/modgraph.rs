//! The module graph of a crate, read from its source text, for the tidy test that forbids cycles between
//! sibling modules.
//!
//! A module depends on a sibling when it names it through `crate::…` or `super::…` (in a `use` or inline).
//! Paths are resolved against the modules that exist as files, so `crate::metrics::SessionTotals` is a use of
//! `metrics`; a re-export through an ancestor counts as a use of that ancestor, not of the sibling behind it.
//! This reads text, not resolved names: it is a guard against the common shapes of a cycle, not a compiler.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// A module's path inside its crate: `[]` for the root, `["metrics", "cohort"]` for `src/metrics/cohort.rs`.
pub(crate) type ModulePath = Vec<String>;

/// Every module of the crate whose sources are under `src`, with the source text of its file.
pub(crate) fn modules(src: &Path) -> BTreeMap<ModulePath, String> {
    let mut found = BTreeMap::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|extension| extension != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap_or(&path);
            let mut parts: Vec<String> = relative
                .with_extension("")
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|last| last == "mod" || last == "lib" || last == "main") {
                parts.pop();
            }
            found.insert(parts, fs::read_to_string(&path).unwrap_or_default());
        }
    }
    found
}

/// Edges between sibling modules, grouped by their parent: `parent → (from child → to child)`.
pub(crate) fn sibling_edges(
    modules: &BTreeMap<ModulePath, String>,
) -> BTreeMap<ModulePath, BTreeSet<(String, String)>> {
    let known: BTreeSet<&ModulePath> = modules.keys().collect();
    let mut edges: BTreeMap<ModulePath, BTreeSet<(String, String)>> = BTreeMap::new();
    for (module, text) in modules {
        for target in referenced_paths(module, text) {
            let target = longest_known_prefix(&target, &known);
            let common = module.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common < module.len() && common < target.len() {
                edges
                    .entry(module[..common].to_vec())
                    .or_default()
                    .insert((module[common].clone(), target[common].clone()));
            }
        }
    }
    edges
}

/// The cycles among siblings, each written `parent: a → b → a`.
pub(crate) fn cycles(edges: &BTreeMap<ModulePath, BTreeSet<(String, String)>>) -> Vec<String> {
    let mut found = Vec::new();
    for (parent, pairs) in edges {
        let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (from, to) in pairs {
            graph.entry(from).or_default().push(to);
        }
        let mut reported = BTreeSet::new();
        for start in graph.keys() {
            if let Some(cycle) = cycle_through(start, &graph) {
                let members: BTreeSet<&str> = cycle.iter().copied().collect();
                if reported.insert(members) {
                    let scope =
                        if parent.is_empty() { "crate".to_owned() } else { parent.join("::") };
                    found.push(format!("{scope}: {}", cycle.join(" → ")));
                }
            }
        }
    }
    found
}

/// A path from `start` back to itself, if there is one (depth-first).
fn cycle_through<'a>(
    start: &'a str,
    graph: &BTreeMap<&'a str, Vec<&'a str>>,
) -> Option<Vec<&'a str>> {
    let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
    let mut on_path: Vec<&str> = vec![start];
    let mut seen: BTreeSet<&str> = BTreeSet::from([start]);
    while let Some((node, next)) = stack.pop() {
        let children = graph.get(node).map(Vec::as_slice).unwrap_or_default();
        if let Some(&child) = children.get(next) {
            stack.push((node, next + 1));
            if child == start {
                let mut cycle = on_path.clone();
                cycle.push(start);
                return Some(cycle);
            }
            if seen.insert(child) {
                stack.push((child, 0));
                on_path.push(child);
            }
        } else {
            on_path.pop();
        }
    }
    None
}

fn longest_known_prefix(path: &[String], known: &BTreeSet<&ModulePath>) -> ModulePath {
    (0..=path.len())
        .rev()
        .map(|length| path[..length].to_vec())
        .find(|prefix| known.contains(prefix))
        .unwrap_or_default()
}

/// Every module path the text names through `crate::` or `super::`, resolved to a path from the crate root.
fn referenced_paths(module: &ModulePath, text: &str) -> Vec<ModulePath> {
    // An inline test module's `super` is the file's own module, not its parent: its uses are left out.
    let text = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or_default();
    let code: String = text.lines().map(strip_line_comment).collect::<Vec<_>>().join("\n");
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let rest = &code[index..];
        let preceded_by_ident = index > 0 && is_ident_byte(bytes[index - 1]);
        let next_char = rest.chars().next().map_or(1, char::len_utf8);
        let (base, consumed) = if preceded_by_ident {
            (None, next_char)
        } else if rest.starts_with("crate::") {
            (Some(Vec::new()), "crate::".len())
        } else if rest.starts_with("super::") {
            let mut base = module.clone();
            let mut consumed = 0;
            while code[index + consumed..].starts_with("super::") {
                base.pop();
                consumed += "super::".len();
            }
            (Some(base), consumed)
        } else {
            (None, next_char)
        };
        index += consumed;
        if let Some(base) = base {
            for tail in path_tails(&code[index..]) {
                let mut full = base.clone();
                full.extend(tail);
                found.push(full);
            }
        }
    }
    found
}

/// The identifiers after a `crate::` or `super::`: `a::b` gives `[[a, b]]`, `{a, b::c}` gives `[[a], [b, c]]`.
fn path_tails(text: &str) -> Vec<Vec<String>> {
    if let Some(group) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut end = group.len();
        for (offset, character) in group.char_indices() {
            match character {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    end = offset;
                    break;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        return split_top_level(&group[..end])
            .iter()
            .flat_map(|item| path_tails(item.trim()))
            .collect();
    }
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        let length = rest.bytes().take_while(|byte| is_ident_byte(*byte)).count();
        if length == 0 {
            break;
        }
        segments.push(rest[..length].to_owned());
        match rest[length..].strip_prefix("::") {
            Some(next) if !next.starts_with('{') => rest = next,
            Some(next) => {
                return path_tails(next)
                    .into_iter()
                    .map(|tail| segments.iter().cloned().chain(tail).collect())
                    .collect();
            }
            None => break,
        }
    }
    vec![segments]
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (offset, character) in text.char_indices() {
        match character {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&text[start..offset]);
                start = offset + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
}

fn strip_line_comment(line: &str) -> &str {
    match line.find("//") {
        Some(position) => &line[..position],
        None => line,
    }
}

fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> BTreeMap<ModulePath, String> {
        files
            .iter()
            .map(|(path, text)| {
                let path: ModulePath =
                    path.split('/').filter(|part| !part.is_empty()).map(str::to_owned).collect();
                (path, (*text).to_owned())
            })
            .collect()
    }

    #[test]
    fn finds_a_cycle_between_siblings() {
        let modules = graph(&[
            ("", "mod a; mod b; mod c;"),
            ("a", "use crate::b::Thing;"),
            ("b", "use crate::{c::Other, x};"),
            ("c", "fn f() { crate::a::g(); }"),
        ]);
        let found = cycles(&sibling_edges(&modules));
        assert_eq!(found, ["crate: a → b → c → a"]);
    }

    #[test]
    fn resolves_super_and_ignores_ancestors_and_comments() {
        let modules = graph(&[
            ("", "mod m;"),
            ("m", "mod x; mod y; pub use x::Thing;"),
            ("m/x", "use super::y::Helper; // crate::m::x::loop"),
            ("m/y", "use super::Thing; use crate::m::Thing as Again;"),
        ]);
        let edges = sibling_edges(&modules);
        assert_eq!(edges[&vec!["m".to_owned()]], BTreeSet::from([("x".into(), "y".into())]));
        assert!(cycles(&edges).is_empty());
    }
}
