//! The operator commands, and `serve` on a free port over real HTTP, stopped by SIGTERM.

use serde_json::json;

use crate::support::{json_stdout, traceline, Client, Server};

/// A SQLite file path in `dir`, as `--database-url` takes it.
pub(crate) fn sqlite_file(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_string_lossy().into_owned()
}

#[test]
fn serve_answers_over_http_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let database = sqlite_file(&dir, "traceline.db");
    let org = json_stdout(&traceline(&["org", "create", "--name", "Acme"], &database));
    let key = org["apiKey"].as_str().unwrap().to_owned();
    assert!(key.starts_with("psk_live_") && key.len() >= 41, "{key}");
    let org_id = org["org"]["id"].as_str().unwrap();
    assert_eq!(org["org"]["name"], "Acme");
    let read_only = json_stdout(&traceline(
        &["apikey", "create", "--org", org_id, "--scopes", "read"],
        &database,
    ));
    let read_key = read_only["apiKey"].as_str().unwrap().to_owned();

    let server = Server::start(&database);
    let client = Client::new(&server.base_url);
    assert_eq!(client.get("/v1/health", None), (200, json!({"ok": true})));
    let (status, body) = client.get("/v1/sessions", None);
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));

    let (status, created) = client.post("/v1/sessions", &key, &json!({"sourceService": "cursor"}));
    assert_eq!(status, 201, "{created}");
    let id = created["session"]["id"].as_str().unwrap();
    let (status, fetched) = client.get(&format!("/v1/sessions/{id}"), Some(&read_key));
    assert_eq!((status, &fetched["session"]), (200, &created["session"]));
    let (status, refused) = client.post("/v1/sessions", &read_key, &json!({}));
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")));

    let exit = server.terminate();
    assert!(exit.success(), "serve exited with {exit:?} after SIGTERM");

    // The data outlives the process.
    let server = Server::start(&database);
    let client = Client::new(&server.base_url);
    let (status, listed) = client.get("/v1/sessions", Some(&key));
    assert_eq!((status, listed["total"].as_i64()), (200, Some(1)));
}

#[test]
fn apikey_list_and_revoke_reach_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let database = sqlite_file(&dir, "traceline.db");
    let org = json_stdout(&traceline(&["org", "create", "--name", "Acme"], &database));
    let org_id = org["org"]["id"].as_str().unwrap();
    let created = json_stdout(&traceline(
        &["apikey", "create", "--org", org_id, "--scopes", "read", "--name", "Dashboard"],
        &database,
    ));
    let (secret, id) = (created["apiKey"].as_str().unwrap(), created["id"].as_str().unwrap());
    assert_eq!(created["name"], "Dashboard");

    let listed = json_stdout(&traceline(&["apikey", "list", "--org", org_id], &database));
    let keys = listed["apiKeys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let shown = keys.iter().find(|key| key["id"] == id).unwrap();
    assert_eq!((&shown["name"], &shown["scopes"]), (&json!("Dashboard"), &json!(["read"])));
    assert_eq!(shown["prefix"], secret[..12]);
    assert!(!listed.to_string().contains(secret), "never the key itself");

    let server = Server::start(&database);
    let client = Client::new(&server.base_url);
    assert_eq!(client.get("/v1/sessions", Some(secret)).0, 200);
    let revoked = json_stdout(&traceline(&["apikey", "revoke", "--org", org_id, id], &database));
    assert_eq!((&revoked["ok"], &revoked["id"]), (&json!(true), &json!(id)));
    assert!(revoked["revokedAt"].is_string());
    // The server learns of it when its cached lookup expires: within 5 seconds.
    let revoked_at = std::time::Instant::now();
    while client.get("/v1/sessions", Some(secret)).0 != 401 {
        assert!(
            revoked_at.elapsed() < std::time::Duration::from_secs(5),
            "still accepted after 5 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let again = json_stdout(&traceline(&["apikey", "revoke", "--org", org_id, id], &database));
    assert_eq!(again["revokedAt"], revoked["revokedAt"], "the first revocation stays");
    let elsewhere = traceline(&["apikey", "revoke", "--org", "other-org", id], &database);
    assert!(!elsewhere.status.success());
    assert!(String::from_utf8_lossy(&elsewhere.stderr).contains("has no API key with id"));
    let unknown = traceline(&["apikey", "list", "--org", "no-such-org"], &database);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no org with id no-such-org"));
    assert!(server.terminate().success());
}

#[test]
fn operator_commands_refuse_bad_input_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let database = sqlite_file(&dir, "traceline.db");
    let blank = traceline(&["org", "create", "--name", "   "], &database);
    assert!(!blank.status.success());
    assert!(
        String::from_utf8_lossy(&blank.stderr).contains("org name"),
        "{}",
        String::from_utf8_lossy(&blank.stderr)
    );
    let unknown = traceline(&["apikey", "create", "--org", "no-such-org"], &database);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no org with id no-such-org"));
    let org = json_stdout(&traceline(&["org", "create", "--name", "Acme"], &database));
    let bad_scope = traceline(
        &["apikey", "create", "--org", org["org"]["id"].as_str().unwrap(), "--scopes", "admin"],
        &database,
    );
    assert!(!bad_scope.status.success());
    assert!(String::from_utf8_lossy(&bad_scope.stderr).contains("unknown scope 'admin'"));
}

#[test]
fn migrate_applies_the_schema_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = sqlite_file(&dir, "fresh.db");
    let first = traceline(&["migrate"], &database);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(std::path::Path::new(&database).exists());
    let second = traceline(&["migrate"], &database);
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
}

/// Runs `traceline user create` with `stdin` piped in.
fn create_user(database: &str, extra: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut child = std::process::Command::new(crate::support::BINARY)
        .args(["user", "create"])
        .args(extra)
        .args(["--database-url", database])
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run traceline user create");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("write the password");
    child.wait_with_output().expect("wait for traceline user create")
}

#[test]
fn user_create_reads_the_password_from_stdin_or_generates_one() {
    let dir = tempfile::tempdir().unwrap();
    let database = sqlite_file(&dir, "traceline.db");
    let org = json_stdout(&traceline(&["org", "create", "--name", "Acme"], &database));
    let org_id = org["org"]["id"].as_str().unwrap();

    let chosen = create_user(
        &database,
        &["--org", org_id, "--email", "Ada@Acme.test", "--name", "Ada", "--role", "admin"],
        "correct horse battery staple\n",
    );
    let chosen = json_stdout(&chosen);
    assert_eq!(chosen["user"]["email"], "ada@acme.test");
    assert_eq!(chosen["user"]["role"], "admin");
    assert!(chosen.get("password").is_none(), "a password that was given is not printed back");

    let generated =
        json_stdout(&create_user(&database, &["--org", org_id, "--email", "grace@acme.test"], ""));
    assert_eq!(generated["user"]["role"], "reviewer");
    assert_eq!(generated["user"]["name"], "grace");
    assert_eq!(generated["password"].as_str().unwrap().len(), 20);

    // The chosen password signs in over HTTP.
    let server = Server::start(&database);
    let agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build();
    let agent: ureq::Agent = agent.into();
    let response = agent
        .post(format!("{}/login", server.base_url))
        .header("Origin", &server.base_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("email=ada%40acme.test&password=correct+horse+battery+staple")
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert!(response.headers().get("set-cookie").is_some());
    drop(server);

    for (args, stdin, message) in [
        (
            vec!["--org", org_id, "--email", "ada@acme.test"],
            "another long password",
            "already exists",
        ),
        (vec!["--org", org_id, "--email", "new@acme.test"], "short", "at least 12 characters"),
        (vec!["--org", org_id, "--email", "not-an-address"], "", "not an e-mail address"),
        (
            vec!["--org", org_id, "--email", "r@acme.test", "--role", "owner"],
            "",
            "unknown role 'owner'",
        ),
        (vec!["--org", "no-such-org", "--email", "x@acme.test"], "", "no org with id no-such-org"),
    ] {
        let refused = create_user(&database, &args, stdin);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
