//! `/sessions?assessment&status&q`: every session of the org, newest first, with its filters kept in the query
//! string (so a filtered list can be bookmarked and shared). Reads the same listing as `GET /v1/sessions`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use traceline_domain::{PageRule, Session};
use traceline_storage::sessions::{self, SessionFilter};
use traceline_storage::{assessments, candidate_keys};

use super::assessments::candidate_name;
use super::format;
use super::layout::Layout;
use super::render::{html, PageError};
use super::text::percent_encode;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::request::query_params;
use crate::routes::session_filter;
use crate::state::AppState;

/// Sessions per page.
const PAGE_SIZE: i64 = 50;

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    layout: Layout,
    rows: Vec<SessionRow>,
    total: i64,
    /// `(id, title, selected)` for the assessment filter.
    assessments: Vec<(String, String, bool)>,
    status: String,
    q: String,
    first: i64,
    last: i64,
    previous: Option<String>,
    next: Option<String>,
}

struct SessionRow {
    id: String,
    candidate: String,
    assessment: String,
    source: String,
    status: &'static str,
    started: String,
    duration: String,
    events: i64,
}

/// `GET /sessions`.
pub(super) async fn list(
    principal: Principal,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let params = query_params(request.query_string())?;
    let filter = session_filter(&params, "assessment")?;
    let offset = params.get("offset").map(String::as_str);
    let page = PageRule { default_limit: PAGE_SIZE, ..PageRule::SESSIONS }
        .page(None, offset)
        .map_err(ApiError::InvalidQuery)?;
    let scope = principal.session_scope();
    let org_id = principal.org_id().clone();
    let query = filter.clone();
    let (found, all_assessments, keys) = state
        .read(move |connection| {
            let found = sessions::list(connection, &scope, &query, page)?;
            let key_ids: Vec<String> = found
                .sessions
                .iter()
                .filter_map(|session| session.candidate_key_id.clone())
                .collect();
            let keys = candidate_keys::find_by_ids(connection, &org_id, &key_ids)?;
            Ok((found, assessments::list(connection, &org_id)?, keys))
        })
        .await?;
    let titles: HashMap<&str, &str> =
        all_assessments.iter().map(|a| (a.id.as_str(), a.spec.title.as_str())).collect();
    let names: HashMap<&str, String> =
        keys.iter().map(|key| (key.id.as_str(), candidate_name(key))).collect();
    let rows = found
        .sessions
        .iter()
        .map(|session| SessionRow {
            id: session.id.as_str().to_owned(),
            candidate: session
                .candidate_key_id
                .as_deref()
                .and_then(|id| names.get(id).cloned())
                .unwrap_or_else(|| "—".to_owned()),
            assessment: session
                .assessment_id
                .as_deref()
                .and_then(|id| titles.get(id).copied())
                .unwrap_or("—")
                .to_owned(),
            source: session.source_service.clone().unwrap_or_else(|| "—".to_owned()),
            status: session.status.as_str(),
            started: format::moment(session.started_at),
            duration: format::duration(duration_ms(session)),
            events: session.event_count,
        })
        .collect();
    let link = |offset: i64| page_link(&filter, offset);
    let shown = i64::try_from(found.sessions.len()).unwrap_or(0);
    let view = SessionsPage {
        layout: Layout::new("/sessions", Some(&principal)),
        rows,
        total: found.total,
        assessments: all_assessments
            .iter()
            .map(|a| {
                let selected = filter.assessment_id.as_deref() == Some(a.id.as_str());
                (a.id.clone(), a.spec.title.clone(), selected)
            })
            .collect(),
        status: filter.status.map(|status| status.as_str().to_owned()).unwrap_or_default(),
        q: filter.text.clone().unwrap_or_default(),
        first: page.offset + i64::from(shown > 0),
        last: page.offset + shown,
        previous: (page.offset > 0).then(|| link((page.offset - page.limit).max(0))),
        next: (page.offset + shown < found.total).then(|| link(page.offset + page.limit)),
    };
    html(StatusCode::OK, &view)
}

/// How long a session ran, as the `durationMs` metric counts it.
fn duration_ms(session: &Session) -> i64 {
    (session.ended_at.unwrap_or(session.last_activity_at) - session.started_at).num_milliseconds()
}

/// The list with the same filters, from `offset`.
fn page_link(filter: &SessionFilter, offset: i64) -> String {
    let mut query = Vec::new();
    if let Some(id) = &filter.assessment_id {
        query.push(format!("assessment={}", percent_encode(id)));
    }
    if let Some(status) = filter.status {
        query.push(format!("status={}", status.as_str()));
    }
    if let Some(text) = &filter.text {
        query.push(format!("q={}", percent_encode(text)));
    }
    query.push(format!("offset={offset}"));
    format!("/sessions?{}", query.join("&"))
}
