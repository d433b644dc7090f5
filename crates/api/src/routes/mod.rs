//! Every route of the API as one table: the actix registration and the OpenAPI document are both read from it,
//! so a route cannot be served without being described, or described without being served.
//!
//! Each resource module lists its [`Endpoint`]s; [`configure`] registers them, each wrapped in its access rule
//! (`crate::access::enforce`), and `openapi` renders them. This is the only place that registers routes (the tidy test `routes_are_registered_by_the_table`).

mod api_keys;
mod assessments;
mod audit;
mod candidate;
mod docs;
mod export;
mod health;
mod ingest;
mod keys;
mod metrics;
mod openapi;
mod org;
mod review;
mod sessions;
mod signed_log;
mod telemetry;
mod timeline;
mod users;
mod webhooks;

use actix_web::http::{header, Method};
use actix_web::middleware::{from_fn, Condition, DefaultHeaders};
use actix_web::{web, Route};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Value};
use traceline_domain::{PageRule, ValidationErrors};
use traceline_storage::timeline::PageError;

pub(crate) use crate::access::Access;
use crate::access::{enforce, refuse_with_json};
use crate::error::ApiError;
pub(crate) use assessments::assessment_not_found;
pub(crate) use metrics::{read_cohort, Cohort};
pub(crate) use sessions::session_filter;
pub(crate) use timeline::{
    only_param, read_timeline_page, read_visible_session, session_not_found, PageRequest,
};

/// Newline-delimited JSON: one JSON value per line.
pub(crate) const NDJSON: &str = "application/x-ndjson";

/// A query parameter an endpoint reads.
pub(crate) struct QueryParam {
    pub(crate) name: &'static str,
    pub(crate) description: String,
    pub(crate) schema: Value,
}

/// The JSON body an endpoint takes: its schema, written next to the parser from the domain's own tables, and an
/// example that the parser accepts (a test checks that it does).
pub(crate) struct RequestBody {
    pub(crate) schema: Value,
    pub(crate) example: Value,
}

/// A success response and the type whose schema describes it.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) description: &'static str,
    /// Its `Content-Type`: `application/json`, or `application/x-ndjson` for a stream of JSON lines, each
    /// described by `schema`.
    pub(crate) media_type: &'static str,
    pub(crate) schema: fn(&mut SchemaGenerator) -> Schema,
}

/// The resource an endpoint creates: which path parameter addresses it under the endpoint's own path, and where
/// its value is in the response (an OpenAPI runtime expression). The document links the creating response to every
/// operation under `{path}/{parameter}`, so API testers can follow a created resource into its routes.
pub(crate) struct Created {
    pub(crate) status: u16,
    pub(crate) parameter: &'static str,
    pub(crate) expression: &'static str,
}

/// One operation: how it is served and how it is described.
pub(crate) struct Endpoint {
    pub(crate) method: Method,
    /// The path in actix's syntax, which is also OpenAPI's (`/v1/sessions/{id}`).
    pub(crate) path: &'static str,
    pub(crate) operation_id: &'static str,
    pub(crate) summary: &'static str,
    /// Who may call it: the one statement of the rule, enforced around the handler by `configure`.
    pub(crate) access: Access,
    pub(crate) query: Vec<QueryParam>,
    pub(crate) body: Option<RequestBody>,
    pub(crate) replies: Vec<Reply>,
    /// Error statuses particular to this route, beyond those every route of its kind documents.
    pub(crate) refusals: Vec<(u16, &'static str)>,
    /// Takes bodies up to the batch limit rather than the general one.
    pub(crate) large_body: bool,
    /// Its responses carry a secret shown once (a token, a key): sent with `Cache-Control: no-store`, so no
    /// cache on the way keeps them (spec §10.3).
    pub(crate) carries_secret: bool,
    /// What it creates, when it creates something addressable.
    pub(crate) creates: Option<Created>,
    /// Attaches the handler to a route that already has the method guard.
    pub(crate) to: fn(Route) -> Route,
}

impl Endpoint {
    /// An endpoint with no parameters, body or replies yet.
    pub(crate) fn new(
        method: Method,
        path: &'static str,
        operation_id: &'static str,
        summary: &'static str,
        access: Access,
        to: fn(Route) -> Route,
    ) -> Self {
        Endpoint {
            method,
            path,
            operation_id,
            summary,
            access,
            query: Vec::new(),
            body: None,
            replies: Vec::new(),
            refusals: Vec::new(),
            large_body: false,
            carries_secret: false,
            creates: None,
            to,
        }
    }

    /// Adds a query parameter.
    pub(crate) fn query(mut self, name: &'static str, description: &str, schema: Value) -> Self {
        self.query.push(QueryParam { name, description: description.to_owned(), schema });
        self
    }

    /// Adds `limit` and `offset` as `rule` reads them.
    pub(crate) fn paged(self, rule: PageRule) -> Self {
        self.query(
            "limit",
            &format!(
                "Page size; out-of-range values are clamped to {}–{}, not rejected.",
                rule.min_limit, rule.max_limit
            ),
            clamped_integer(rule),
        )
        .query(
            "offset",
            "Rows to skip; negative values are read as 0.",
            json!({"type": "integer", "default": 0}),
        )
    }

    /// Adds `after`, the id of the last `item` received (one of `what`, e.g. "event of this session"): pages
    /// by cursor go on after it, and one that names nothing is a 400 ([`unknown_cursor`]).
    pub(crate) fn after_cursor(self, item: &str) -> Self {
        let description = format!(
            "The id of the last {item} received; the page goes on after it (unknown: 400)."
        );
        self.query("after", &description, json!({"type": "string"}))
    }

    /// Adds `limit`, clamped by `rule`, and [`Endpoint::after_cursor`]: a page by cursor.
    pub(crate) fn cursor_paged(self, rule: PageRule, item: &str) -> Self {
        self.query(
            "limit",
            &format!("Page size, clamped to {}–{}.", rule.min_limit, rule.max_limit),
            clamped_integer(rule),
        )
        .after_cursor(item)
    }

    /// Sets the request body.
    pub(crate) fn body(mut self, schema: Value, example: Value) -> Self {
        self.body = Some(RequestBody { schema, example });
        self
    }

    /// Adds a success response described by `T`.
    pub(crate) fn reply<T: JsonSchema>(mut self, status: u16, description: &'static str) -> Self {
        self.replies.push(Reply {
            status,
            description,
            media_type: "application/json",
            schema: SchemaGenerator::subschema_for::<T>,
        });
        self
    }

    /// Adds a success response streamed as newline-delimited JSON, one `T` per line.
    pub(crate) fn reply_lines<T: JsonSchema>(
        mut self,
        status: u16,
        description: &'static str,
    ) -> Self {
        self.replies.push(Reply {
            status,
            description,
            media_type: NDJSON,
            schema: SchemaGenerator::subschema_for::<T>,
        });
        self
    }

    /// Adds a success response in plain text (`GET /metrics`' exposition format).
    pub(crate) fn reply_text(mut self, status: u16, description: &'static str) -> Self {
        self.replies.push(Reply {
            status,
            description,
            media_type: "text/plain",
            schema: SchemaGenerator::subschema_for::<String>,
        });
        self
    }

    /// Declares that a `status` response creates a resource addressed by `{parameter}` under this path, its value
    /// at `expression` (e.g. `$response.body#/session/id`).
    pub(crate) fn creates(
        mut self,
        status: u16,
        parameter: &'static str,
        expression: &'static str,
    ) -> Self {
        self.creates = Some(Created { status, parameter, expression });
        self
    }

    /// Adds an error status particular to this route.
    pub(crate) fn refusal(mut self, status: u16, description: &'static str) -> Self {
        self.refusals.push((status, description));
        self
    }

    /// Lets the route take bodies up to the batch limit.
    pub(crate) fn large_body(mut self) -> Self {
        self.large_body = true;
        self
    }

    /// Marks the route's responses as carrying a secret: they are sent with `Cache-Control: no-store`.
    pub(crate) fn carries_secret(mut self) -> Self {
        self.carries_secret = true;
        self
    }
}

/// An integer query parameter read through `rule`: documented with its default; its clamp is in the description,
/// since out-of-range values are served, not refused.
pub(crate) fn clamped_integer(rule: PageRule) -> Value {
    json!({"type": "integer", "default": rule.default_limit})
}

/// A page read by cursor as the API answers it: the page, or a 400 on `after` when the cursor names no `what`.
pub(crate) fn cursor_page<T>(page: Result<T, PageError>, what: &str) -> Result<T, ApiError> {
    match page {
        Ok(page) => Ok(page),
        Err(PageError::UnknownCursor) => {
            Err(ApiError::InvalidQuery(ValidationErrors::one("after", format!("names no {what}"))))
        }
        Err(PageError::UnknownBound) => {
            Err(ApiError::InvalidQuery(ValidationErrors::one("before", format!("names no {what}"))))
        }
        Err(PageError::Storage(error)) => Err(error.into()),
    }
}

/// Every endpoint, in the order the document lists them.
pub(crate) fn endpoints() -> Vec<Endpoint> {
    [
        health::endpoints(),
        docs::endpoints(),
        sessions::endpoints(),
        ingest::endpoints(),
        timeline::endpoints(),
        export::endpoints(),
        signed_log::endpoints(),
        metrics::endpoints(),
        review::endpoints(),
        assessments::endpoints(),
        keys::endpoints(),
        candidate::endpoints(),
        users::endpoints(),
        api_keys::endpoints(),
        audit::endpoints(),
        webhooks::endpoints(),
        org::endpoints(),
        telemetry::endpoints(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Registers every endpoint, one actix resource per path; the batch ingest route takes bodies up to
/// `batch_body_limit`.
pub(crate) fn configure(config: &mut web::ServiceConfig, batch_body_limit: usize) {
    let mut by_path: Vec<(&'static str, Vec<Endpoint>)> = Vec::new();
    for endpoint in endpoints() {
        match by_path.iter_mut().find(|(path, _)| *path == endpoint.path) {
            Some((_, group)) => group.push(endpoint),
            None => by_path.push((endpoint.path, vec![endpoint])),
        }
    }
    for (path, group) in by_path {
        let mut resource = web::resource(path);
        if group.iter().any(|endpoint| endpoint.large_body) {
            resource = resource.app_data(web::PayloadConfig::new(batch_body_limit));
        }
        for endpoint in group {
            let access = endpoint.access;
            let route = (endpoint.to)(web::route().method(endpoint.method))
                .wrap(from_fn(move |request, next| {
                    enforce(access, refuse_with_json, request, next)
                }))
                .wrap(Condition::new(
                    endpoint.carries_secret,
                    DefaultHeaders::new().add((header::CACHE_CONTROL, "no-store")),
                ));
            resource = resource.route(route);
        }
        config.service(resource);
    }
}
