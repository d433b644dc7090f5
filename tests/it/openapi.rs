//! The OpenAPI document (`GET /openapi.json`) against the app that serves it: every documented operation is
//! routed, every other method on a documented path is refused as unknown, and the spec's operations are all
//! there. (The tidy test `routes_are_registered_by_the_table` keeps routes from being registered outside the
//! table the document is rendered from.)

use std::collections::BTreeSet;

use actix_web::http::Method;
use serde_json::Value;

use crate::harness::{on_both_backends, TestApp, TestBackend};

/// The operations of spec §3–§11 (`:id` written `{id}`) and UI.md's export, plus the document itself; and the
/// account routes the web UI's settings call, which spec §11 implies ("admins add and disable users") but does
/// not name (docs/API-NOTES.md).
const SPEC_OPERATIONS: &[(&str, &str)] = &[
    ("GET", "/v1/api-keys"),
    ("POST", "/v1/api-keys"),
    ("DELETE", "/v1/api-keys/{id}"),
    ("GET", "/v1/users"),
    ("POST", "/v1/users"),
    ("PATCH", "/v1/users/{id}"),
    ("POST", "/v1/me/password"),
    ("POST", "/v1/sessions"),
    ("GET", "/v1/sessions"),
    ("GET", "/v1/sessions/{id}"),
    ("PATCH", "/v1/sessions/{id}"),
    ("PATCH", "/v1/sessions/{id}/metadata"),
    ("DELETE", "/v1/sessions/{id}"),
    ("POST", "/v1/hooks/ingest"),
    ("POST", "/v1/hooks/ingest/batch"),
    ("GET", "/v1/sessions/{id}/timeline"),
    ("GET", "/v1/sessions/{id}/decisions"),
    ("GET", "/v1/sessions/{id}/recent-activity"),
    ("GET", "/v1/sessions/{id}/metrics"),
    ("GET", "/v1/sessions/{id}/cohort-stats"),
    ("GET", "/v1/assessments/{id}/cohort-stats"),
    ("POST", "/v1/assessments"),
    ("GET", "/v1/assessments"),
    ("GET", "/v1/assessments/{id}"),
    ("DELETE", "/v1/assessments/{id}"),
    ("POST", "/v1/assessments/{id}/keys"),
    ("GET", "/v1/assessments/{id}/keys"),
    ("DELETE", "/v1/assessments/{id}/keys/{keyId}"),
    ("PATCH", "/v1/assessments/{id}/keys/{keyId}"),
    ("GET", "/v1/candidates"),
    ("POST", "/v1/candidate/redeem"),
    ("POST", "/v1/candidate/complete"),
    ("GET", "/v1/sessions/{id}/scores"),
    ("POST", "/v1/sessions/{id}/scores"),
    ("GET", "/v1/sessions/{id}/artifacts"),
    ("GET", "/v1/sessions/{id}/signed-log"),
    ("GET", "/v1/audit"),
    // UI.md, "Export".
    ("GET", "/v1/sessions/{id}/export"),
    ("GET", "/v1/health"),
    ("GET", "/openapi.json"),
    ("POST", "/v1/webhooks"),
    ("GET", "/v1/webhooks"),
    ("GET", "/v1/webhooks/{id}"),
    ("DELETE", "/v1/webhooks/{id}"),
    ("GET", "/v1/webhooks/{id}/deliveries"),
    ("POST", "/v1/webhooks/{id}/test"),
    ("GET", "/v1/org"),
    ("PATCH", "/v1/org"),
    ("DELETE", "/v1/candidates"),
    // §13.
    ("GET", "/metrics"),
];

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The document as the app serves it, without credentials.
pub(crate) async fn served_document(app: &TestApp) -> Value {
    let document = app.send(Method::GET, "/openapi.json", None, None).await.expect(200);
    assert_eq!(document["openapi"], "3.1.0");
    document
}

/// Every operation of the document: (method in upper case, path, operation object).
pub(crate) fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let paths = document["paths"].as_object().expect("paths");
    let mut found = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            found.push((method.to_uppercase(), path.clone(), operation.clone()));
        }
    }
    assert!(!found.is_empty(), "the document lists no operation");
    found
}

/// The path with each `{parameter}` replaced by a value that names nothing.
fn with_placeholders(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "00000000-0000-4000-8000-000000000000"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn is_unrouted(status: u16, body: &Value) -> bool {
    let no_route =
        status == 404 && body["error"].as_str().is_some_and(|e| e.starts_with("no route"));
    no_route || status == 405
}

async fn every_documented_operation_is_served(backend: TestBackend) {
    let app = TestApp::new(backend);
    let document = served_document(&app).await;
    for (method, path, operation) in operations(&document) {
        let uri = with_placeholders(&path);
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        if operation["responses"]["200"]["content"]["text/plain"].is_object() {
            // `GET /metrics` answers in Prometheus' text format, not JSON.
            let request = actix_web::test::TestRequest::default().method(method.clone()).uri(&uri);
            let status = app.raw(request).await.status.as_u16();
            assert!(
                !matches!(status, 404 | 405),
                "{method} {path} is documented but not served: {status}"
            );
            continue;
        }
        let response = app.send(method.clone(), &uri, None, None).await;
        assert!(
            !is_unrouted(response.status.as_u16(), &response.body),
            "{method} {path} is documented but not served: {} {}",
            response.status,
            response.body
        );
    }
}

async fn no_undocumented_method_is_served_on_a_documented_path(backend: TestBackend) {
    let app = TestApp::new(backend);
    let document = served_document(&app).await;
    let documented: BTreeSet<(String, String)> =
        operations(&document).into_iter().map(|(method, path, _)| (method, path)).collect();
    let paths: BTreeSet<&String> = documented.iter().map(|(_, path)| path).collect();
    for path in paths {
        for method in METHODS {
            if documented.contains(&(method.to_owned(), path.clone())) {
                continue;
            }
            let uri = with_placeholders(path);
            let response =
                app.send(Method::from_bytes(method.as_bytes()).unwrap(), &uri, None, None).await;
            assert_eq!(
                response.status.as_u16(),
                405,
                "{method} {path} is served but not documented: {}",
                response.body
            );
        }
    }
}

async fn the_document_holds_exactly_the_spec_operations(backend: TestBackend) {
    let app = TestApp::new(backend);
    let document = served_document(&app).await;
    let documented: BTreeSet<(String, String)> =
        operations(&document).into_iter().map(|(method, path, _)| (method, path)).collect();
    let spec: BTreeSet<(String, String)> = SPEC_OPERATIONS
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    let missing: Vec<_> = spec.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&spec).collect();
    assert!(missing.is_empty(), "spec operations the document lacks: {missing:?}");
    assert!(extra.is_empty(), "documented operations the spec does not have: {extra:?}");
}

/// What a client generator relies on: unique operation ids, an access rule, the error shape on every error
/// status, and every schema reference resolving.
async fn every_operation_is_fully_described(backend: TestBackend) {
    let app = TestApp::new(backend);
    let document = served_document(&app).await;
    let schemas = document["components"]["schemas"].as_object().expect("component schemas");
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&document) {
        let name = format!("{method} {path}");
        let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{name}: no id"));
        assert!(ids.insert(id.to_owned()), "{name}: operationId {id} is used twice");
        assert!(operation["x-access"].is_string(), "{name}: no x-access");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(responses.keys().any(|status| status.starts_with('2')), "{name}: no success");
        for (status, response) in responses {
            let content = response["content"].as_object().expect("content");
            if let Some(text) = content.get("text/plain") {
                // `GET /metrics`: Prometheus' text format, a string to OpenAPI.
                assert!(status.starts_with('2'), "{name} {status}: errors are JSON");
                assert_eq!(text["schema"]["type"], "string", "{name} {status}");
                continue;
            }
            if let Some(lines) = content.get("application/x-ndjson") {
                // A stream of JSON lines: a string to OpenAPI 3.1, each line described beside it.
                assert!(status.starts_with('2'), "{name} {status}: errors are JSON");
                assert!(
                    lines["x-item-schema"]["$ref"].is_string(),
                    "{name} {status}: no line schema"
                );
                continue;
            }
            let schema = &content["application/json"]["schema"];
            assert!(schema.is_object() || schema.is_boolean(), "{name} {status}: no JSON schema");
            if !status.starts_with('2') {
                assert_eq!(schema["$ref"], "#/components/schemas/ErrorBody", "{name} {status}");
            }
        }
    }
    let text = document.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap();
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("reference {target} points outside components/schemas"));
        assert!(schemas.contains_key(name), "reference {target} resolves to nothing");
    }
    for field in ["error", "code", "details"] {
        assert!(schemas["ErrorBody"]["properties"].get(field).is_some(), "ErrorBody lacks {field}");
    }
}

/// Links let API testers follow a created resource into its routes: each names an operation of the document,
/// fills exactly its path parameters, and, followed from real responses, reaches the resource (every GET answers
/// 200 to the reviewer who created it).
async fn links_lead_from_created_resources_to_their_routes(backend: TestBackend) {
    let app = TestApp::new(backend);
    let document = served_document(&app).await;
    let all = operations(&document);
    let org = app.org("Acme");
    let assessment = app
        .post(
            "/v1/assessments",
            &org.key,
            &serde_json::json!({"title": "T", "role": "R", "taskBrief": "B"}),
        )
        .await
        .expect(201);
    let assessment_id = assessment["assessment"]["id"].as_str().unwrap().to_owned();
    let created: Vec<(&str, String, Value)> = vec![
        ("/v1/assessments", String::new(), assessment),
        (
            "/v1/assessments/{id}/keys",
            format!("/v1/assessments/{assessment_id}/keys"),
            app.post(
                &format!("/v1/assessments/{assessment_id}/keys"),
                &org.key,
                &serde_json::json!({"count": 1}),
            )
            .await
            .expect(201),
        ),
        (
            "/v1/sessions",
            String::new(),
            app.post("/v1/sessions", &org.key, &serde_json::json!({})).await.expect(201),
        ),
    ];
    let mut followed = 0;
    for (source_path, source_request, body) in &created {
        let (_, _, source) = all
            .iter()
            .find(|(method, path, _)| method == "POST" && path == source_path)
            .unwrap_or_else(|| panic!("no POST {source_path}"));
        let links = source["responses"]["201"]["links"]
            .as_object()
            .unwrap_or_else(|| panic!("POST {source_path} links nothing"));
        for (name, link) in links {
            let target_id = link["operationId"].as_str().unwrap();
            let (method, path, target) = all
                .iter()
                .find(|(_, _, operation)| operation["operationId"] == target_id)
                .unwrap_or_else(|| panic!("link {name} names no operation"));
            let parameters = link["parameters"].as_object().unwrap();
            let mut url = path.clone();
            for (parameter, expression) in parameters {
                let expression = expression.as_str().unwrap();
                let value = if let Some(pointer) = expression.strip_prefix("$response.body#") {
                    body.pointer(pointer).and_then(Value::as_str).map(str::to_owned)
                } else {
                    let name = expression.strip_prefix("$request.path.").unwrap();
                    // The creating request's own path parameter, read from where it sat in its path.
                    source_path.split('/').zip(source_request.split('/')).find_map(
                        |(template, real)| {
                            (template == format!("{{{name}}}")).then(|| real.to_owned())
                        },
                    )
                };
                let value = value.unwrap_or_else(|| panic!("{name}: {expression} finds nothing"));
                url = url.replace(&format!("{{{parameter}}}"), &value);
            }
            assert!(!url.contains('{'), "{name}: {url} keeps a parameter the link does not fill");
            let streamed =
                target["responses"]["200"]["content"]["application/x-ndjson"].is_object();
            if method == "GET" && streamed {
                let request = actix_web::test::TestRequest::get()
                    .uri(&url)
                    .insert_header(("Authorization", format!("Bearer {}", org.key)));
                assert_eq!(app.raw(request).await.status, actix_web::http::StatusCode::OK, "{url}");
                followed += 1;
            } else if method == "GET" {
                app.get(&url, &org.key).await.expect(200);
                followed += 1;
            }
        }
    }
    assert!(followed >= 10, "only {followed} GET links were followed");
}

on_both_backends!(
    every_documented_operation_is_served,
    no_undocumented_method_is_served_on_a_documented_path,
    the_document_holds_exactly_the_spec_operations,
    every_operation_is_fully_described,
    links_lead_from_created_resources_to_their_routes,
);
