//! The tenancy matrix: every operation of the served OpenAPI document, called with every kind of credential
//! against the resources of one org, answers the status spec §2 gives, and nothing of that org reaches anyone
//! else.
//!
//! The expected status is derived from the operation's `x-access` rule and the credential's kind, never listed
//! per route, so a new route is exercised as soon as it is in the table, and one whose access rule the test
//! does not know fails it.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};
use crate::openapi::{operations, served_document};

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Nobody,
    Garbage,
    RevokedKey,
    RevokedToken,
    ExpiredKey,
    ExpiredToken,
    ReadOnlyReviewer,
    OtherOrgReviewer,
    OtherCandidate,
    OtherOrgCandidate,
    /// A candidate of org A, of another assessment, who completed: their record is closed, so every write they
    /// make is refused.
    ClosedCandidate,
    /// The candidate whose session, key and assessment the paths name.
    OwnerCandidate,
    /// A read+write key of the org that owns everything the paths name.
    OwnerReviewer,
    /// An admin of that org, signed in with the cookie; called on a world of its own, since owners' calls may
    /// delete what the other owner's call needs.
    OwnerUser,
}

/// Owners last: their calls may change or delete the resources. (`OwnerUser` runs on a world of its own.)
const CALLERS: [Caller; 13] = [
    Caller::Nobody,
    Caller::Garbage,
    Caller::RevokedKey,
    Caller::RevokedToken,
    Caller::ExpiredKey,
    Caller::ExpiredToken,
    Caller::ReadOnlyReviewer,
    Caller::OtherOrgReviewer,
    Caller::OtherCandidate,
    Caller::OtherOrgCandidate,
    Caller::ClosedCandidate,
    Caller::OwnerCandidate,
    Caller::OwnerReviewer,
];

/// Org A's resources, the credentials of every caller, and what of A must never reach another tenant.
struct World {
    assessment: String,
    session: String,
    owner_key_id: String,
    /// A colleague of the signed-in admin (`{id}` under `/v1/users`).
    colleague: String,
    /// An API key of org A that no caller uses (`{id}` under `/v1/api-keys`).
    spare_api_key: String,
    /// A webhook of org A (`{id}` under `/v1/webhooks`).
    webhook: String,
    /// An event id no request has used yet.
    event_id: String,
    credentials: Vec<(Caller, Option<String>)>,
    /// Strings only org A's own callers may be shown.
    org_secrets: Vec<String>,
    /// Strings only the owner candidate and org A's reviewers may be shown.
    owner_secrets: Vec<String>,
}

impl World {
    fn credential(&self, caller: Caller) -> Option<&str> {
        self.credentials.iter().find(|(who, _)| *who == caller).and_then(|(_, key)| key.as_deref())
    }
}

fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer}"))
        .to_owned()
}

/// Org A with everything the paths can name, org B, and a caller of each kind. `n` keeps the worlds of one
/// database apart.
async fn world(app: &TestApp, n: usize) -> World {
    let org_a = app.org("Acme");
    let org_b = app.org("Globex");
    let read_only = app.api_key(&org_a, "read");
    let assessment = app.assessment(&org_a, json!({})).await;
    let other_assessment = app.assessment(&org_a, json!({"title": "Another task"})).await;
    let keys = app.keys(&org_a, &assessment, 3).await;
    let (owner, revoked, expired) = (&keys[0], &keys[1], &keys[2]);
    let owner_key = text(owner, "/key");
    let owner_key_id = text(owner, "/id");
    let redeemed = app.redeem(&owner_key).await;
    let session = text(&redeemed, "/sessionId");
    let owner_token = text(&redeemed, "/sessionToken");
    let event = json!({
        "id": format!("00000000-0000-4000-8000-{n:012}"),
        "sessionId": session,
        "ts": "2026-04-01T10:00:00Z",
        "kind": "decision_event",
        "source": "hook",
        "v": 1,
        "data": {"title": "Use a token bucket"},
    });
    app.post("/v1/hooks/ingest", &owner_key, &event).await.expect(201);

    let revoked_token = text(&app.redeem(&text(revoked, "/key")).await, "/sessionToken");
    let revoke = format!("/v1/assessments/{assessment}/keys/{}", text(revoked, "/id"));
    app.delete(&revoke, &org_a.key).await.expect(200);
    let expired_token = text(&app.redeem(&text(expired, "/key")).await, "/sessionToken");
    app.execute_sql(&format!(
        "UPDATE candidate_keys SET expires_at = '2020-01-01 00:00:00' WHERE id = '{}'",
        text(expired, "/id")
    ));

    let other_keys = app.keys(&org_a, &other_assessment, 2).await;
    let other_key = text(&other_keys[0], "/key");
    let closed_key = text(&other_keys[1], "/key");
    let closed_session = text(&app.redeem(&closed_key).await, "/sessionId");
    let complete = json!({"sessionId": closed_session});
    app.post("/v1/candidate/complete", &closed_key, &complete).await.expect(200);
    app.redeem(&other_key).await;
    let b_assessment = app.assessment(&org_b, json!({})).await;
    let b_key = text(&app.keys(&org_b, &b_assessment, 1).await[0], "/key");
    app.redeem(&b_key).await;

    let admin = app.user(&org_a, &format!("admin{n}@acme.test"), "admin");
    let colleague = app.user(&org_a, &format!("colleague{n}@acme.test"), "reviewer");
    let cookie = app.sign_in(&format!("admin{n}@acme.test")).await;
    let spare =
        app.post("/v1/api-keys", &org_a.key, &json!({"scopes": ["read"]})).await.expect(201);
    let hook = json!({"url": TEST_RECEIVER, "events": ["session.completed"]});
    let webhook = app.post("/v1/webhooks", &org_a.key, &hook).await.expect(201);
    let credentials = vec![
        (Caller::Nobody, None),
        (Caller::Garbage, Some("psk_live_not0a0real0key0at0all0000000000".to_owned())),
        (Caller::RevokedKey, Some(text(revoked, "/key"))),
        (Caller::RevokedToken, Some(revoked_token)),
        (Caller::ExpiredKey, Some(text(expired, "/key"))),
        (Caller::ExpiredToken, Some(expired_token)),
        (Caller::ReadOnlyReviewer, Some(read_only)),
        (Caller::OtherOrgReviewer, Some(org_b.key.clone())),
        (Caller::OtherCandidate, Some(other_key)),
        (Caller::OtherOrgCandidate, Some(b_key)),
        (Caller::ClosedCandidate, Some(closed_key)),
        (Caller::OwnerCandidate, Some(owner_key.clone())),
        (Caller::OwnerReviewer, Some(org_a.key.clone())),
        (Caller::OwnerUser, Some(cookie)),
    ];
    World {
        org_secrets: vec![
            org_a.id.clone(),
            assessment.clone(),
            other_assessment,
            admin,
            colleague.clone(),
        ],
        owner_secrets: vec![session.clone(), owner_key_id.clone(), owner_key, owner_token],
        assessment,
        session,
        owner_key_id,
        colleague,
        spare_api_key: text(&spare, "/apiKey/id"),
        webhook: text(&webhook, "/webhook/id"),
        event_id: format!("00000000-0000-4000-9000-{n:012}"),
        credentials,
    }
}

/// Where the matrix's webhooks post: nothing listens on the discard port, so a test delivery fails at once.
const TEST_RECEIVER: &str = "http://127.0.0.1:9/hook";

/// The path with its parameters naming org A's resources: `{id}` after `sessions` is the owner's session, after
/// `assessments` its assessment, after `api-keys` a spare API key of the org; `{keyId}` is the owner's key.
fn concrete_path(path: &str, world: &World) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let mut concrete = Vec::with_capacity(segments.len());
    for (index, segment) in segments.iter().enumerate() {
        let value = match (*segment, index.checked_sub(1).map(|i| segments[i])) {
            ("{id}", Some("sessions")) => world.session.clone(),
            ("{id}", Some("assessments")) => world.assessment.clone(),
            ("{keyId}", _) => world.owner_key_id.clone(),
            ("{id}", Some("users")) => world.colleague.clone(),
            ("{id}", Some("api-keys")) => world.spare_api_key.clone(),
            ("{id}", Some("webhooks")) => world.webhook.clone(),
            (parameter, _) if parameter.starts_with('{') => {
                panic!("{path}: the tenancy matrix has no resource for {parameter}; add one to `world`")
            }
            (literal, _) => literal.to_owned(),
        };
        concrete.push(value);
    }
    concrete.join("/")
}

/// The documented example body, with every `sessionId` naming the owner's session, every event an id of this
/// world's own (event ids are unique across orgs, so a reused one would be answered as a retry), every `email`
/// one of the caller's own (addresses are unique across orgs too) and a `currentPassword` that is the user's.
fn body_of(operation: &Value, world: &World, caller: Caller) -> Option<Value> {
    fn aim(value: &mut Value, world: &World, caller: Caller) {
        match value {
            Value::Object(object) => {
                if object.contains_key("kind") && object.contains_key("id") {
                    object.insert("id".to_owned(), json!(world.event_id));
                }
                for (key, field) in object.iter_mut() {
                    match key.as_str() {
                        "sessionId" => *field = json!(world.session),
                        "email" => {
                            *field = json!(format!("{caller:?}-{}@example.test", world.event_id))
                        }
                        "currentPassword" => *field = json!(crate::harness::PASSWORD),
                        "url" => *field = json!(TEST_RECEIVER),
                        _ => aim(field, world, caller),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| aim(item, world, caller)),
            _ => {}
        }
    }
    let mut body = operation["requestBody"]["content"]["application/json"]["example"].clone();
    if body.is_null() {
        return None;
    }
    aim(&mut body, world, caller);
    Some(body)
}

/// Whether the operation reads the query parameter `name`.
fn takes_query(operation: &Value, name: &str) -> bool {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|parameter| parameter["in"] == "query" && parameter["name"] == name)
}

/// The query string: a `sessionId` parameter names the owner's session, an `email` an address no key has; the
/// others keep their defaults.
fn query_of(operation: &Value, world: &World) -> String {
    if takes_query(operation, "sessionId") {
        format!("?sessionId={}", world.session)
    } else if takes_query(operation, "email") {
        "?email=nobody%40example.test".to_owned()
    } else {
        String::new()
    }
}

/// What the caller must get, by spec §2: an exact status, or the operation's documented success.
#[derive(Debug, PartialEq)]
enum Expected {
    Status(u16),
    Success,
}

fn expected(access: &str, caller: Caller, names_a_resource: bool, documents_404: bool) -> Expected {
    use Caller::*;
    let refused_as_foreign =
        if names_a_resource { Expected::Status(404) } else { Expected::Success };
    match caller {
        Nobody | Garbage | RevokedKey | RevokedToken | ExpiredKey | ExpiredToken => {
            Expected::Status(401)
        }
        ReadOnlyReviewer => match access {
            "reviewer:read" | "shared:read" => Expected::Success,
            "reviewer:write" | "shared:write" | "candidate" | "admin" | "user" => {
                Expected::Status(403)
            }
            other => panic!("unknown access rule {other}"),
        },
        OtherOrgReviewer => match access {
            "reviewer:read" | "reviewer:write" | "shared:read" | "shared:write" | "admin" => {
                refused_as_foreign
            }
            "candidate" | "user" => Expected::Status(403),
            other => panic!("unknown access rule {other}"),
        },
        OwnerReviewer => match access {
            "reviewer:read" | "reviewer:write" | "shared:read" | "shared:write" | "admin" => {
                Expected::Success
            }
            "candidate" | "user" => Expected::Status(403),
            other => panic!("unknown access rule {other}"),
        },
        // A signed-in admin may do what a read+write key may, and what only users may.
        OwnerUser => match access {
            "reviewer:read" | "reviewer:write" | "shared:read" | "shared:write" | "admin"
            | "user" => Expected::Success,
            "candidate" => Expected::Status(403),
            other => panic!("unknown access rule {other}"),
        },
        OtherCandidate | OtherOrgCandidate => match access {
            "reviewer:read" | "reviewer:write" | "admin" | "user" => Expected::Status(403),
            "shared:read" | "shared:write" => refused_as_foreign,
            // A candidate route names the session in its body: the route's "not yours" status.
            "candidate" if documents_404 => Expected::Status(404),
            "candidate" => Expected::Status(403),
            other => panic!("unknown access rule {other}"),
        },
        // Its writes are refused as closed before any session is looked at; `complete` names the session in its
        // body, and a session of another candidate is not found.
        ClosedCandidate => match access {
            "reviewer:read" | "reviewer:write" | "admin" | "user" | "shared:write" => {
                Expected::Status(403)
            }
            "shared:read" => refused_as_foreign,
            "candidate" if documents_404 => Expected::Status(404),
            "candidate" => Expected::Status(403),
            other => panic!("unknown access rule {other}"),
        },
        OwnerCandidate => match access {
            "reviewer:read" | "reviewer:write" | "admin" | "user" => Expected::Status(403),
            "shared:read" | "shared:write" | "candidate" => Expected::Success,
            other => panic!("unknown access rule {other}"),
        },
    }
}

async fn every_operation_answers_every_caller_as_the_spec_says(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| {
        settings.ip_rate_per_min = 0;
        settings.ingest_rate_per_min = 0;
        settings.webhooks.allow_private = true;
    });
    let document = served_document(&app).await;
    let mut checked = 0;
    for (n, (method, path, operation)) in operations(&document).into_iter().enumerate() {
        if operation["responses"]["200"]["content"]["text/plain"].is_object() {
            // `GET /metrics` reads no credential and names no tenant's data, only route patterns; it is not JSON,
            // and `blackbox/metrics.rs` checks what it shows.
            continue;
        }
        // A fresh world per operation: the owners' calls may change or delete what the next one needs.
        let world = world(&app, n).await;
        let access =
            operation["x-access"].as_str().unwrap_or_else(|| panic!("{path}: no x-access"));
        let responses = operation["responses"].as_object().expect("responses");
        let successes: Vec<u16> = responses
            .keys()
            .filter_map(|s| s.parse().ok())
            .filter(|s| (200..300).contains(s))
            .collect();
        let names_a_resource = path.contains('{') || takes_query(&operation, "sessionId");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut public_status = None;
        let user_world = world_for_the_user(&app, n).await;
        let calls = CALLERS
            .iter()
            .map(|caller| (*caller, &world))
            .chain([(Caller::OwnerUser, &user_world)]);
        for (caller, world) in calls {
            let uri = format!("{}{}", concrete_path(&path, world), query_of(&operation, world));
            let body = body_of(&operation, world, caller);
            let response = app
                .send(
                    method.clone(),
                    &uri,
                    world.credential(caller),
                    body.as_ref().map(|body| body.to_string().into_bytes()),
                )
                .await;
            let context =
                format!("{method} {path} as {caller:?}: {} {}", response.status, response.body);
            let status = response.status.as_u16();
            assert!(status < 500, "{context}");
            assert!(
                responses.contains_key(&status.to_string()),
                "{context}: the status is not documented"
            );
            // A multi-status answer (the batch) judges each item alone: the example's one item says it.
            let status = if status == 207 {
                let item = response.body.pointer("/results/0/status").and_then(Value::as_u64);
                u16::try_from(item.expect("a 207 with results")).unwrap()
            } else {
                status
            };
            let successes: Vec<u16> =
                if status == response.status.as_u16() { successes.clone() } else { vec![200, 201] };
            if access == "public" {
                // No credential is read: every caller gets the same answer.
                assert_eq!(*public_status.get_or_insert(status), status, "{context}");
            } else {
                let documents_404 = responses.contains_key("404");
                match expected(access, caller, names_a_resource, documents_404) {
                    Expected::Status(want) => {
                        assert_eq!(status, want, "{context}");
                        let writes = access == "shared:write" || access == "candidate";
                        if caller == Caller::ClosedCandidate && writes && want == 403 {
                            assert_eq!(response.code(), "session_closed", "{context}");
                        }
                    }
                    Expected::Success => {
                        assert!(successes.contains(&status), "{context}: expected {successes:?}")
                    }
                }
            }
            assert_nothing_leaks(caller, world, &response.body, &context);
            checked += 1;
        }
    }
    assert!(checked >= 30 * CALLERS.len(), "only {checked} calls made");
}

/// A second world, for the signed-in owner alone.
async fn world_for_the_user(app: &TestApp, n: usize) -> World {
    world(app, n + 100_000).await
}

/// Org A's reviewers and the owner may see everything; another candidate of the org nothing of the owner's;
/// everyone else nothing of org A at all.
fn assert_nothing_leaks(caller: Caller, world: &World, body: &Value, context: &str) {
    let text = body.to_string();
    let hidden: Vec<&String> = match caller {
        Caller::OwnerCandidate
        | Caller::OwnerReviewer
        | Caller::OwnerUser
        | Caller::ReadOnlyReviewer => Vec::new(),
        Caller::OtherCandidate | Caller::ClosedCandidate => world.owner_secrets.iter().collect(),
        _ => world.owner_secrets.iter().chain(&world.org_secrets).collect(),
    };
    for secret in hidden {
        assert!(!text.contains(secret.as_str()), "{context}: shows org A's {secret}");
    }
}

on_both_backends!(every_operation_answers_every_caller_as_the_spec_says);
