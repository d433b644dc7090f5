//! The real app over a test database, driven in process, with request helpers and fixtures.

use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::Value;
use traceline_api::{commands, create_app, AppState, Settings};

use super::db::{TestBackend, TestDb};

/// How a sign-in cookie starts; a "key" of this shape is sent as the `Cookie` header.
pub(crate) const COOKIE_PREFIX: &str = "traceline_session=";
/// The host the in-process requests claim, and the origin a same-origin page of it has.
pub(crate) const HOST: &str = "traceline.test";
/// The password of every user the harness creates.
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// Headers of a request sent from one of the server's own pages.
pub(crate) fn same_origin(request: test::TestRequest) -> test::TestRequest {
    request
        .insert_header((header::HOST, HOST))
        .insert_header((header::ORIGIN, format!("http://{HOST}")))
}

/// A response of any kind (a page, an asset), its body as text.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
}

impl RawResponse {
    /// A header's value as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// An org created through the operator command, with its read+write key.
#[derive(Debug, Clone)]
pub(crate) struct TestOrg {
    pub(crate) id: String,
    pub(crate) key: String,
}

/// A response, its body parsed as JSON (every response of this API must be JSON).
#[derive(Debug)]
pub(crate) struct TestResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl TestResponse {
    /// The `code` of an error body.
    pub(crate) fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_else(|| panic!("no error code in {}", self.body))
    }

    /// Asserts the status and, for errors, that the body has the spec's shape; returns the body.
    #[track_caller]
    pub(crate) fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        if status >= 400 {
            assert!(self.body["error"].is_string(), "error body lacks a message: {}", self.body);
            assert!(self.body["code"].is_string(), "error body lacks a code: {}", self.body);
        }
        self.body
    }
}

/// The application under test.
pub(crate) struct TestApp {
    pub(crate) db: TestDb,
    pub(crate) state: AppState,
}

impl TestApp {
    /// The app over a fresh database on `backend`.
    pub(crate) fn new(backend: TestBackend) -> Self {
        Self::with_settings(backend, |_| {})
    }

    /// The same, with settings adjusted first (smaller limits, say).
    pub(crate) fn with_settings(backend: TestBackend, adjust: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::new(backend);
        let mut settings = Settings::new(db.url.clone());
        adjust(&mut settings);
        let state = AppState::new(settings);
        TestApp { db, state }
    }

    /// Creates an org the way an operator does, returning its id and read+write key.
    pub(crate) fn org(&self, name: &str) -> TestOrg {
        let created = commands::create_org(&self.db.database, name).expect("create an org");
        TestOrg {
            id: created["org"]["id"].as_str().expect("org id").to_owned(),
            key: created["apiKey"].as_str().expect("api key").to_owned(),
        }
    }

    /// Creates another key for an org with the given scopes (e.g. `"read"`).
    pub(crate) fn api_key(&self, org: &TestOrg, scopes: &str) -> String {
        let created = commands::create_api_key(&self.db.database, &org.id, scopes, None)
            .expect("create an API key");
        created["apiKey"].as_str().expect("api key").to_owned()
    }

    /// Sends a request with an optional bearer key and an optional raw body.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> TestResponse {
        let mut request = test::TestRequest::default().method(method).uri(path);
        if let Some(key) = key {
            // Reviewers' keys go in Authorization; candidates' keys and session tokens in X-API-Key; a sign-in
            // cookie goes in Cookie, from a page of the same origin.
            request = if key.starts_with("psk_live_") {
                request.insert_header((header::AUTHORIZATION, format!("Bearer {key}")))
            } else if key.starts_with(COOKIE_PREFIX) {
                same_origin(request).insert_header((header::COOKIE, key))
            } else {
                request.insert_header(("X-API-Key", key))
            };
        }
        if let Some(body) = body {
            request =
                request.insert_header((header::CONTENT_TYPE, "application/json")).set_payload(body);
        }
        self.call(request).await
    }

    /// Creates a user of `org` through the operator command, with [`PASSWORD`]; returns the user's id.
    pub(crate) fn user(&self, org: &TestOrg, email: &str, role: &str) -> String {
        let created = commands::create_user(
            &self.db.database,
            commands::UserCommand {
                org_id: org.id.clone(),
                email: email.to_owned(),
                name: None,
                role: role.to_owned(),
                password: Some(PASSWORD.to_owned()),
            },
        )
        .expect("create a user");
        created["user"]["id"].as_str().expect("user id").to_owned()
    }

    /// Signs in through `POST /login`; returns the `Cookie` header value that carries the sign-in.
    pub(crate) async fn sign_in(&self, email: &str) -> String {
        let response =
            self.form("/login", &format!("email={email}&password={PASSWORD}&next=/")).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "sign-in failed: {}", response.text);
        let set_cookie = response.header("set-cookie").expect("a cookie is set");
        set_cookie.split(';').next().expect("name=value").to_owned()
    }

    /// Posts a form, from a page of the same origin, as a browser does.
    pub(crate) async fn form(&self, path: &str, body: &str) -> RawResponse {
        let request = same_origin(test::TestRequest::post().uri(path))
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(body.replace(' ', "+"));
        self.raw(request).await
    }

    /// GETs a page with a sign-in cookie (or none).
    pub(crate) async fn page(&self, path: &str, cookie: Option<&str>) -> RawResponse {
        let mut request = test::TestRequest::get().uri(path).insert_header((header::HOST, HOST));
        if let Some(cookie) = cookie {
            request = request.insert_header((header::COOKIE, cookie));
        }
        self.raw(request).await
    }

    /// Sends a prepared request and keeps the body as text, whatever it is.
    pub(crate) async fn raw(&self, request: test::TestRequest) -> RawResponse {
        let service = test::init_service(create_app(self.state.clone())).await;
        let response = test::call_service(&service, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await;
        RawResponse { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// Sends a prepared request.
    pub(crate) async fn call(&self, request: test::TestRequest) -> TestResponse {
        let service = test::init_service(create_app(self.state.clone())).await;
        let response = test::call_service(&service, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await;
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
            panic!("{status} response is not JSON ({error}): {:?}", String::from_utf8_lossy(&bytes))
        });
        if status.is_client_error() || status.is_server_error() {
            let content_type =
                headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            assert!(
                content_type.starts_with("application/json"),
                "error with content type {content_type:?}"
            );
        }
        TestResponse { status, headers, body }
    }

    /// Creates an assessment with a minimal valid body merged with `extra`; returns its id.
    pub(crate) async fn assessment(&self, org: &TestOrg, extra: Value) -> String {
        let mut body = serde_json::json!({"title": "Rate limiter", "role": "Backend engineer", "taskBrief": "Build it"});
        for (field, value) in extra.as_object().expect("extra fields as an object") {
            body[field] = value.clone();
        }
        let created = self.post("/v1/assessments", &org.key, &body).await.expect(201);
        created["assessment"]["id"].as_str().expect("assessment id").to_owned()
    }

    /// Issues `count` keys for an assessment; returns the KeyObjects.
    pub(crate) async fn keys(
        &self,
        org: &TestOrg,
        assessment_id: &str,
        count: usize,
    ) -> Vec<Value> {
        let path = format!("/v1/assessments/{assessment_id}/keys");
        let created =
            self.post(&path, &org.key, &serde_json::json!({"count": count})).await.expect(201);
        created["keys"].as_array().expect("keys").clone()
    }

    /// Redeems a key; returns the redeem response.
    pub(crate) async fn redeem(&self, key: &str) -> Value {
        let body = serde_json::json!({"key": key}).to_string().into_bytes();
        self.send(Method::POST, "/v1/candidate/redeem", None, Some(body)).await.expect(200)
    }

    /// Runs SQL directly against the test database (to move time, e.g. expire a key). The app's credential
    /// cache is cleared, since the change bypassed the app.
    pub(crate) fn execute_sql(&self, sql: &str) {
        use diesel::connection::SimpleConnection;
        let sql = sql.to_owned();
        self.db
            .database
            .write(move |connection| Ok(connection.batch_execute(&sql)?))
            .expect("run SQL");
        self.state.credentials.clear();
    }

    /// Runs a migration's SQL as the migrator does: on SQLite, on a connection of its own with foreign keys off
    /// (a table rebuild drops tables others reference), in one transaction.
    pub(crate) fn migrate_sql(&self, sql: &str) {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        match &self.db.url {
            traceline_storage::DatabaseUrl::Sqlite { path } => {
                let mut connection =
                    diesel::SqliteConnection::establish(path).expect("open the test database");
                connection
                    .batch_execute(&format!(
                        "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = OFF; BEGIN; {sql}; COMMIT;"
                    ))
                    .expect("run the migration's SQL");
                self.state.credentials.clear();
            }
            traceline_storage::DatabaseUrl::Postgres { .. } => self.execute_sql(sql),
        }
    }

    /// Sends `body` as JSON, with an optional credential.
    pub(crate) async fn send_json(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: &Value,
    ) -> TestResponse {
        self.send(method, path, key, Some(body.to_string().into_bytes())).await
    }

    pub(crate) async fn get(&self, path: &str, key: &str) -> TestResponse {
        self.send(Method::GET, path, Some(key), None).await
    }

    pub(crate) async fn post(&self, path: &str, key: &str, body: &Value) -> TestResponse {
        self.send(Method::POST, path, Some(key), Some(body.to_string().into_bytes())).await
    }

    pub(crate) async fn patch(&self, path: &str, key: &str, body: &Value) -> TestResponse {
        self.send(Method::PATCH, path, Some(key), Some(body.to_string().into_bytes())).await
    }

    pub(crate) async fn delete(&self, path: &str, key: &str) -> TestResponse {
        self.send(Method::DELETE, path, Some(key), None).await
    }
}
