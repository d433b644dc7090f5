//! A private PostgreSQL cluster in a temporary directory, on a free port, that a test may stop and start: the
//! shared server on 5432 serves other tests and must never be restarted.
//!
//! `initdb` refuses to run as root, so as root every PostgreSQL tool runs as the `postgres` user (`runuser`),
//! in a directory that user owns.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::is_root;

/// A running cluster; stopped (immediately) and deleted when dropped.
pub(crate) struct PrivateCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
    password: Option<String>,
}

/// Where the PostgreSQL server binaries are: `TRACELINE_PG_BIN`, the newest `/usr/lib/postgresql/*/bin`, or
/// `pg_config --bindir`. `None` when none of them holds `initdb` and `pg_ctl`.
pub(crate) fn binaries() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("TRACELINE_PG_BIN") {
        return Some(PathBuf::from(dir)).filter(|dir| has_tools(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.into_iter().rev().find(|(_, dir)| has_tools(dir)) {
        return Some(dir);
    }
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    has_tools(&dir).then_some(dir)
}

impl PrivateCluster {
    /// Initialises and starts a cluster with the binaries in `bin` that lets anyone in (`trust`).
    pub(crate) fn start_new(bin: PathBuf) -> Self {
        Self::start(bin, None)
    }

    /// The same, but TCP connections must give the `postgres` user's `password` (SCRAM), as on a real server.
    pub(crate) fn start_with_password(bin: PathBuf, password: &str) -> Self {
        Self::start(bin, Some(password))
    }

    fn start(bin: PathBuf, password: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("create the cluster directory");
        let as_postgres = is_root();
        if as_postgres {
            let owned = Command::new("chown").arg("postgres:").arg(dir.path()).status();
            assert!(owned.expect("run chown").success(), "chown the cluster directory to postgres");
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster =
            PrivateCluster { bin, dir, port, as_postgres, password: password.map(str::to_owned) };
        let data = cluster.data();
        let mut args = vec!["-D", &data, "-U", "postgres", "--no-sync", "--locale=C", "-E", "UTF8"];
        let password_file = cluster.dir.path().join("password").to_string_lossy().into_owned();
        let password_option = format!("--pwfile={password_file}");
        match password {
            None => args.extend(["-A", "trust"]),
            Some(password) => {
                std::fs::write(&password_file, password).expect("write the password file");
                args.extend(["--auth-local=trust", "--auth-host=scram-sha-256", &password_option]);
            }
        }
        cluster.run("initdb", &args);
        cluster.start_server();
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let output = command.args(args).output().unwrap_or_else(|e| panic!("run {tool}: {e}"));
        assert!(
            output.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts the server and waits until it accepts connections.
    pub(crate) fn start_server(&self) {
        let socket_dir = self.dir.path().to_string_lossy().into_owned();
        let options =
            format!("-p {} -c listen_addresses=127.0.0.1 -k {socket_dir} -c fsync=off", self.port);
        let log = self.dir.path().join("postgres.log").to_string_lossy().into_owned();
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-l", &log, "-o", &options, "-w", "-t", "60", "start"],
        );
    }

    /// Stops the server the way a crash would: no checkpoint, every connection cut.
    pub(crate) fn stop_immediately(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }

    /// The URL of the `postgres` database as the `postgres` user (with its password, if it has one).
    pub(crate) fn url(&self) -> String {
        self.url_with_password(self.password.as_deref())
    }

    /// The same URL with another password, or none.
    pub(crate) fn url_with_password(&self, password: Option<&str>) -> String {
        let user = match password {
            Some(password) => format!("postgres:{password}"),
            None => "postgres".to_owned(),
        };
        format!("postgres://{user}@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&program).args(args).output()
        } else {
            Command::new(&program).args(args).output()
        };
    }
}
