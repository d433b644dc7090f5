//! Just enough of `Cargo.lock` to walk the dependency graph, for the layering guard in `tidy.rs`.
//!
//! The lock file lists every resolved package as a `[[package]]` table with `name`, `version` and a
//! `dependencies` array whose entries read `"name"`, `"name version"` or `"name version (source)"`. Normal,
//! build and dev-dependencies are not told apart there, so the guard is a little stricter than the rule.

use std::collections::VecDeque;

/// The packages of a lock file and the edges between them.
#[derive(Debug, Default)]
pub(crate) struct Lockfile {
    packages: Vec<Package>,
}

#[derive(Debug, Default)]
struct Package {
    name: String,
    version: String,
    /// Entries of the `dependencies` array, as written.
    dependencies: Vec<String>,
}

impl Lockfile {
    /// Reads the `[[package]]` tables of a lock file; every other table is skipped.
    pub(crate) fn parse(text: &str) -> Lockfile {
        let mut lockfile = Lockfile::default();
        let mut current: Option<Package> = None;
        let mut in_dependencies = false;
        for line in text.lines().map(str::trim) {
            if in_dependencies {
                in_dependencies = read_array_items(line, current.as_mut());
            } else if line.starts_with('[') {
                lockfile.packages.extend(current.take());
                if line == "[[package]]" {
                    current = Some(Package::default());
                }
            } else if let Some(package) = current.as_mut() {
                if let Some(value) = line.strip_prefix("name = ") {
                    package.name = value.trim_matches('"').to_owned();
                } else if let Some(value) = line.strip_prefix("version = ") {
                    package.version = value.trim_matches('"').to_owned();
                } else if let Some(rest) = line.strip_prefix("dependencies = [") {
                    in_dependencies = read_array_items(rest, Some(package));
                }
            }
        }
        lockfile.packages.extend(current);
        lockfile
    }

    /// Every shortest path from `root` to a package in its transitive closure whose name `is_forbidden`,
    /// written `root -> a -> b`, one per forbidden package, sorted.
    pub(crate) fn forbidden_paths(
        &self,
        root: &str,
        is_forbidden: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, String> {
        let starts = self.indices_named(root);
        if starts.is_empty() {
            return Err(format!("Cargo.lock has no package named `{root}`"));
        }
        // A breadth-first walk, so the path recorded for each package is a shortest one.
        let mut parent: Vec<Option<usize>> = vec![None; self.packages.len()];
        let mut seen = vec![false; self.packages.len()];
        let mut queue = VecDeque::new();
        for &start in &starts {
            seen[start] = true;
            queue.push_back(start);
        }
        let mut paths = Vec::new();
        while let Some(idx) = queue.pop_front() {
            if !starts.contains(&idx) && is_forbidden(&self.packages[idx].name) {
                paths.push(self.path_to(idx, &parent));
            }
            for entry in &self.packages[idx].dependencies {
                let targets = self.resolve(entry);
                if targets.is_empty() {
                    let package = &self.packages[idx];
                    return Err(format!(
                        "Cargo.lock: {} {} depends on `{entry}`, which has no [[package]] entry",
                        package.name, package.version
                    ));
                }
                for target in targets {
                    if !seen[target] {
                        seen[target] = true;
                        parent[target] = Some(idx);
                        queue.push_back(target);
                    }
                }
            }
        }
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    fn indices_named(&self, name: &str) -> Vec<usize> {
        (0..self.packages.len()).filter(|&idx| self.packages[idx].name == name).collect()
    }

    /// The packages a `dependencies` entry may mean: by name, narrowed by version when one is given.
    fn resolve(&self, entry: &str) -> Vec<usize> {
        let mut words = entry.split_whitespace();
        let name = words.next().unwrap_or_default();
        let version = words.next();
        self.indices_named(name)
            .into_iter()
            .filter(|&idx| version.is_none_or(|version| self.packages[idx].version == version))
            .collect()
    }

    fn path_to(&self, mut idx: usize, parent: &[Option<usize>]) -> String {
        let mut names = vec![self.packages[idx].name.as_str()];
        while let Some(up) = parent[idx] {
            names.push(&self.packages[up].name);
            idx = up;
        }
        names.reverse();
        names.join(" -> ")
    }
}

/// Reads the quoted items of (part of) a TOML string array into `package`'s dependencies; returns
/// whether the array continues on the next line.
fn read_array_items(mut text: &str, mut package: Option<&mut Package>) -> bool {
    loop {
        text = text.trim_start_matches([' ', ',']);
        if text.is_empty() || text.starts_with('#') {
            return true;
        }
        if text.starts_with(']') {
            return false;
        }
        let Some(rest) = text.strip_prefix('"') else { return true };
        let Some((item, rest)) = rest.split_once('"') else { return true };
        if let Some(package) = package.as_deref_mut() {
            package.dependencies.push(item.to_owned());
        }
        text = rest;
    }
}

/// Whether `name` matches `pattern`, where a trailing `*` matches any suffix (`actix*`).
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::{matches, Lockfile};

    /// A handwritten lock file: `domain` reaches `tokio` through `helper`, and `storage` does not.
    const LOCK: &str = r#"
version = 4

[[package]]
name = "domain"
version = "0.1.0"
dependencies = [
 "helper 1.0.0",
 "serde",
]

[[package]]
name = "helper"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "tokio 1.40.0 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "helper"
version = "2.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "serde"
version = "1.0.0"

[[package]]
name = "storage"
version = "0.1.0"
dependencies = ["domain", "helper 2.0.0"]

[[package]]
name = "tokio"
version = "1.40.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"#;

    #[test]
    fn parses_every_entry_form() {
        let lockfile = Lockfile::parse(LOCK);
        assert_eq!(lockfile.packages.len(), 6);
        let names = |name: &str| lockfile.forbidden_paths(name, |_| true).unwrap();
        assert_eq!(names("helper"), ["helper -> tokio"]);
        assert_eq!(names("serde"), Vec::<String>::new());
        assert_eq!(
            names("storage"),
            [
                "storage -> domain",
                "storage -> domain -> helper",
                "storage -> domain -> helper -> tokio",
                "storage -> domain -> serde",
                "storage -> helper",
            ]
        );
    }

    #[test]
    fn guard_names_the_path_to_a_forbidden_crate() {
        let lockfile = Lockfile::parse(LOCK);
        assert_eq!(
            lockfile.forbidden_paths("domain", |name| name == "tokio").unwrap(),
            ["domain -> helper -> tokio"]
        );
    }

    #[test]
    fn guard_follows_the_version_an_entry_names() {
        // `storage` reaches helper 2.0.0 directly, which has no dependencies, and helper 1.0.0 (and so
        // tokio) only through `domain`.
        let lockfile = Lockfile::parse(LOCK);
        assert_eq!(
            lockfile.forbidden_paths("storage", |name| name == "tokio").unwrap(),
            ["storage -> domain -> helper -> tokio"]
        );
        let without_domain = LOCK.replace(
            r#"dependencies = ["domain", "helper 2.0.0"]"#,
            r#"dependencies = ["helper 2.0.0"]"#,
        );
        let lockfile = Lockfile::parse(&without_domain);
        assert!(lockfile.forbidden_paths("storage", |name| name == "tokio").unwrap().is_empty());
    }

    #[test]
    fn guard_rejects_unknown_roots_and_dangling_entries() {
        let lockfile = Lockfile::parse(LOCK);
        assert!(lockfile.forbidden_paths("api", |_| true).is_err());
        let dangling = LOCK.replace("\"serde\",", "\"serde_json\",");
        assert!(Lockfile::parse(&dangling).forbidden_paths("domain", |_| false).is_err());
    }

    #[test]
    fn patterns_match_names_or_prefixes() {
        assert!(matches("tokio", "tokio"));
        assert!(!matches("tokio", "tokio-util"));
        assert!(matches("actix*", "actix-web"));
        assert!(matches("actix*", "actix-rt"));
        assert!(!matches("actix*", "tracing-actix-web"));
    }
}
