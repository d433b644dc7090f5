//! The OpenAPI 3.1 description of the API, rendered from the route table (`super::endpoints`).
//!
//! Response schemas come from the response types through `schemars` (JSON Schema 2020-12, OpenAPI 3.1's
//! dialect), request schemas from the route modules, which build them from the domain's own tables. The error
//! statuses every route documents follow from its access rule and its inputs, so they are stated once, here.

use std::sync::LazyLock;

use schemars::generate::SchemaSettings;
use schemars::SchemaGenerator;
use serde_json::{json, Map, Value};

use super::{endpoints, Access, Endpoint, NDJSON};
use crate::error::ErrorBody;

/// The document, rendered once: it depends only on the code.
static DOCUMENT: LazyLock<Value> = LazyLock::new(render);

/// The OpenAPI document served at `GET /openapi.json`.
pub(crate) fn document() -> &'static Value {
    &DOCUMENT
}

fn render() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        })
        .for_serialize()
        .into_generator();
    let error_schema = generator.subschema_for::<ErrorBody<'static>>();
    let mut paths = Map::new();
    let all = endpoints();
    for endpoint in &all {
        let operation =
            operation(endpoint, &all, &mut generator, &Value::from(error_schema.clone()));
        let item = paths.entry(endpoint.path).or_insert_with(|| json!({}));
        item[endpoint.method.as_str().to_lowercase()] = operation;
    }
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Traceline API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Records AI-assisted coding sessions for reviewers. Every error is a JSON body \
                {error, code, details?}. Each operation states who may call it in `x-access`: public, \
                reviewer:<scope> (org API keys with that scope, and users signed in to the web UI; candidates \
                get 403), shared:<scope> (the same, and candidates within their own sessions), candidate \
                (candidate keys and session tokens; reviewers get 403), admin (admin users and API keys with \
                the write scope) or user (users signed in to the web UI only).",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "reviewerKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An org API key, psk_live_…; candidate credentials are accepted here too.",
                },
                "candidateKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-Key",
                    "description": "A candidate key (PST-XXXX-XXXX, any case) or a session token (pst_sess_…).",
                },
                "signInCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": traceline_domain::sign_in::COOKIE_NAME,
                    "description": "Set by signing in at /login: a user of the org, with read and write. \
                        Requests that change state must come from the same origin (Origin, else Referer).",
                },
            },
        },
    })
}

/// The links from a creating response to the operations under the created resource's path: the created
/// parameter comes from the response, the creating path's own parameters from its request.
fn links(endpoint: &Endpoint, all: &[Endpoint]) -> Option<Value> {
    let created = endpoint.creates.as_ref()?;
    let prefix = format!("{}/{{{}}}", endpoint.path, created.parameter);
    let mut links = Map::new();
    for target in all {
        let under = target.path == prefix || target.path.starts_with(&format!("{prefix}/"));
        // Only targets whose every parameter the link can fill: deeper resources (a key under a created
        // assessment) need an id this response does not hold.
        let fillable = path_parameters(target.path).all(|name| {
            name == created.parameter || path_parameters(endpoint.path).any(|own| own == name)
        });
        if !under || !fillable {
            continue;
        }
        let parameters: Map<String, Value> = path_parameters(target.path)
            .map(|name| {
                let expression = if name == created.parameter {
                    created.expression.to_owned()
                } else {
                    format!("$request.path.{name}")
                };
                (name.to_owned(), Value::String(expression))
            })
            .collect();
        links.insert(
            target.operation_id.to_owned(),
            json!({"operationId": target.operation_id, "parameters": parameters}),
        );
    }
    Some(Value::Object(links))
}

fn operation(
    endpoint: &Endpoint,
    all: &[Endpoint],
    generator: &mut SchemaGenerator,
    error_schema: &Value,
) -> Value {
    let mut parameters: Vec<Value> = path_parameters(endpoint.path)
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "schema": {"type": "string"},
            })
        })
        .collect();
    parameters.extend(endpoint.query.iter().map(|param| {
        json!({
            "name": param.name,
            "in": "query",
            "required": false,
            "description": param.description,
            "schema": param.schema,
        })
    }));

    let mut responses = Map::new();
    for reply in &endpoint.replies {
        let schema = (reply.schema)(generator);
        // A stream of JSON lines is one string to OpenAPI 3.1; each line's schema goes beside it, as 3.2's
        // `itemSchema` does for sequential media types.
        let content = if reply.media_type == NDJSON {
            json!({"schema": {"type": "string"}, "x-item-schema": schema})
        } else {
            json!({"schema": schema})
        };
        let mut response = json!({
            "description": reply.description,
            "content": {reply.media_type: content},
        });
        if endpoint.carries_secret {
            response["headers"] = json!({
                "Cache-Control": {
                    "description": "no-store: the body holds a secret shown only once.",
                    "schema": {"type": "string", "const": "no-store"},
                },
            });
        }
        responses.insert(reply.status.to_string(), response);
    }
    if let (Some(created), Some(links)) = (&endpoint.creates, links(endpoint, all)) {
        if let Some(response) = responses.get_mut(&created.status.to_string()) {
            response["links"] = links;
        }
    }
    for (status, description) in error_statuses(endpoint) {
        responses.insert(
            status.to_string(),
            json!({
                "description": description,
                "content": {"application/json": {"schema": error_schema}},
            }),
        );
    }

    let mut operation = json!({
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "x-access": endpoint.access.name(),
        "security": security(endpoint.access),
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(body) = &endpoint.body {
        operation["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": body.schema, "example": body.example}},
        });
    }
    operation
}

/// The names of a path's `{parameters}`, in order.
pub(crate) fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

fn security(access: Access) -> Value {
    match access {
        Access::Public => json!([]),
        Access::Reviewer(_) | Access::Admin => json!([{"reviewerKey": []}, {"signInCookie": []}]),
        Access::Shared(_) => {
            json!([{"reviewerKey": []}, {"signInCookie": []}, {"candidateKey": []}])
        }
        Access::Candidate => json!([{"reviewerKey": []}, {"candidateKey": []}]),
        Access::SignedIn => json!([{"signInCookie": []}]),
    }
}

/// The error statuses of a route: those its access rule and inputs can produce, then its own.
fn error_statuses(endpoint: &Endpoint) -> Vec<(u16, &'static str)> {
    let mut statuses = Vec::new();
    let takes_input = endpoint.body.is_some() || !endpoint.query.is_empty();
    if takes_input {
        statuses.push((400, "The body or a query parameter is invalid; `details` says where."));
    }
    match endpoint.access {
        Access::Public => {}
        Access::Reviewer(_) => {
            statuses.push((401, "Missing, malformed, unknown, revoked or expired credential."));
            statuses.push((403, "A candidate credential, or an API key without the scope."));
        }
        Access::Shared(_) => {
            statuses.push((401, "Missing, malformed, unknown, revoked or expired credential."));
            statuses.push((403, "An API key without the scope."));
        }
        Access::Candidate => {
            statuses.push((401, "Missing, malformed, unknown, revoked or expired credential."));
            statuses.push((403, "A reviewer's key: this route takes a candidate credential."));
        }
        Access::Admin => {
            statuses.push((401, "Missing, malformed, unknown, revoked or expired credential."));
            statuses.push((
                403,
                "A candidate credential, an API key without the write scope, or a user who is not an admin.",
            ));
        }
        Access::SignedIn => {
            statuses.push((401, "No sign-in cookie, or one whose sign-in has ended."));
            statuses.push((
                403,
                "An API key or a candidate credential: this route is for signed-in users.",
            ));
        }
    }
    if path_parameters(endpoint.path).next().is_some() {
        statuses.push((404, "No such resource visible to the caller (another org's is the same)."));
    }
    if endpoint.body.is_some() {
        statuses.push((413, "The body is over the size limit."));
    }
    statuses.push((429, "Over a rate limit; see Retry-After."));
    statuses.push((500, "A fault of the server; the body carries no internal detail."));
    statuses.push((503, "The database is unavailable; retry shortly."));
    for refusal in &endpoint.refusals {
        match statuses.iter_mut().find(|(status, _)| *status == refusal.0) {
            Some(existing) => *existing = *refusal,
            None => statuses.push(*refusal),
        }
    }
    statuses.sort_by_key(|(status, _)| *status);
    statuses
}
