//! Reading a session (spec §5): its timeline by cursor, its decisions, and its recent activity.

use std::collections::HashMap;

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use traceline_domain::activity::{recent_window, summarize, RecentActivityReport};
use traceline_domain::metrics::EventSet;
use traceline_domain::{
    EventId, PageRule, Scope, Session, SessionId, TimelineEvent, ValidationErrors,
};
use traceline_storage::timeline::{self, PageError, PageQuery, Start};
use traceline_storage::{sessions, AnyConnection, StorageError};

use crate::error::ApiError;
use crate::principal::Principal;
use crate::request::query_params;
use crate::routes::{clamped_integer, Access, Endpoint};
use crate::state::AppState;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    let rule = PageRule::TIMELINE;
    let minutes = PageRule::RECENT_MINUTES;
    vec![
        Endpoint::new(
            Method::GET,
            "/v1/sessions/{id}/timeline",
            "getTimeline",
            "A page of a session's events in time order",
            Access::Shared(Scope::Read),
            |route| route.to(get_timeline),
        )
        .cursor_paged(rule, "event")
        .query(
            "only",
            "Only the events of one set: those a metric counts (the metric table's `counts`), decisions, or \
             failures. The cursor works the same.",
            only_schema(),
        )
        .reply::<TimelinePage>(200, "A page of events."),
        Endpoint::new(
            Method::GET,
            "/v1/sessions/{id}/decisions",
            "getDecisions",
            "A session's decision events",
            Access::Shared(Scope::Read),
            |route| route.to(get_decisions),
        )
        .reply::<DecisionsBody>(200, "The decision_event events, in time order."),
        Endpoint::new(
            Method::GET,
            "/v1/sessions/{id}/recent-activity",
            "getRecentActivity",
            "What happened in the last minutes of a session's activity",
            Access::Shared(Scope::Read),
            |route| route.to(get_recent_activity),
        )
        .query(
            "minutes",
            &format!("Window length, clamped to {}–{}.", minutes.min_limit, minutes.max_limit),
            clamped_integer(minutes),
        )
        .reply::<RecentActivityReport>(200, "The summary."),
    ]
}

/// The schema of `only`: the names of the event sets.
fn only_schema() -> serde_json::Value {
    let names: Vec<&str> = EventSet::ALL.iter().map(|set| set.name()).collect();
    json!({"type": "string", "enum": names})
}

/// `{events, hasMore}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct TimelinePage {
    events: Vec<TimelineEvent>,
    /// Whether a later page exists.
    has_more: bool,
}

/// `{decisions, hasMore}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct DecisionsBody {
    decisions: Vec<TimelineEvent>,
    /// Whether more decisions follow than 4 MiB of JSON holds; the timeline with `only=decisions` pages
    /// through them all.
    has_more: bool,
}

/// Parses the path's session id; anything that cannot be one is a session that does not exist.
pub(crate) fn visible_session_id(path: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(path).map_err(|_| ApiError::not_found("session"))
}

/// Maps a storage "not found" to the session 404.
pub(crate) fn session_not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::not_found("session"),
        other => other,
    }
}

/// Runs read-only `work` on the session named by the path, once it is known to be visible to the caller: a
/// session outside the caller's scope, like a missing one, is 404 before `work` runs.
pub(crate) async fn read_visible_session<T, F>(
    principal: &Principal,
    state: &AppState,
    path: &str,
    work: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection, &Session) -> Result<T, StorageError> + Send + 'static,
{
    let id = visible_session_id(path)?;
    let scope = principal.session_scope();
    state
        .read(move |connection| {
            let session = sessions::get(connection, &scope, &id)?;
            work(connection, &session)
        })
        .await
        .map_err(session_not_found)
}

/// A page of the timeline as a request names it: event ids as the client spelled them.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageRequest {
    /// `after`: the page starts just after this event.
    pub(crate) after: Option<String>,
    /// The page starts at this event instead (the session view's deep links); it wins over `after`.
    pub(crate) at: Option<String>,
    /// The page stops before this event.
    pub(crate) before: Option<String>,
    /// `only`: the events of this set alone.
    pub(crate) only: Option<EventSet>,
    /// Events at most.
    pub(crate) limit: i64,
}

/// Reads `only`, the set of events a timeline is filtered to: absent, or one of [`EventSet`]'s names.
pub(crate) fn only_param(params: &HashMap<String, String>) -> Result<Option<EventSet>, ApiError> {
    let Some(name) = params.get("only") else { return Ok(None) };
    EventSet::named(name).map(Some).ok_or_else(|| {
        let names: Vec<&str> = EventSet::ALL.iter().map(|set| set.name()).collect();
        ApiError::InvalidQuery(ValidationErrors::one(
            "only",
            format!("must be one of {}", names.join(", ")),
        ))
    })
}

/// The session named by the path (if the caller may see it) and the page of its events `request` names. An
/// event id that names no event of the session is a 400 on the parameter that carried it. The API's timeline,
/// the session view's pages and the export all page through here.
pub(crate) async fn read_timeline_page(
    principal: &Principal,
    state: &AppState,
    path: &str,
    request: PageRequest,
) -> Result<(Session, timeline::TimelinePage), ApiError> {
    // Event ids are stored canonical; one spelled another way (upper case, say) names the same event, and one
    // that is no UUID names none, so it is answered without a query (after the visibility check, so a session
    // outside the caller's reach is still a plain 404).
    let canonical = |id: &Option<String>| {
        id.as_deref().map(|id| EventId::parse(id).map(|id| id.as_str().to_owned()).ok())
    };
    let (start_param, start) = match (&request.at, &request.after) {
        (Some(_), _) => ("at", canonical(&request.at).map(|id| (true, id))),
        (None, _) => ("after", canonical(&request.after).map(|id| (false, id))),
    };
    let before = canonical(&request.before);
    let (only, limit) = (request.only, request.limit);
    let (session, page) =
        read_visible_session(principal, state, path, move |connection, session| {
            let page = match (&start, &before) {
                (Some((_, None)), _) => Err(PageError::UnknownCursor),
                (_, Some(None)) => Err(PageError::UnknownBound),
                _ => {
                    let start = match &start {
                        Some((true, Some(id))) => Start::At(id),
                        Some((false, Some(id))) => Start::After(id),
                        _ => Start::Beginning,
                    };
                    let before = before.as_ref().and_then(Option::as_deref);
                    let query = PageQuery { start, before, only, limit };
                    timeline::page(connection, session.id.as_str(), query)
                }
            };
            Ok((session.clone(), page))
        })
        .await?;
    let unknown = |param: &str| {
        ApiError::InvalidQuery(ValidationErrors::one(param, "names no event of this session"))
    };
    match page {
        Ok(page) => Ok((session, page)),
        Err(PageError::UnknownCursor) => Err(unknown(start_param)),
        Err(PageError::UnknownBound) => Err(unknown("before")),
        Err(PageError::Storage(error)) => Err(error.into()),
    }
}

async fn get_timeline(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(request.query_string())?;
    let limit = PageRule::TIMELINE
        .clamp_param("limit", params.get("limit").map(String::as_str))
        .map_err(ApiError::InvalidQuery)?;
    let request = PageRequest {
        after: params.get("after").cloned(),
        only: only_param(&params)?,
        limit,
        ..Default::default()
    };
    let (_, page) = read_timeline_page(&principal, &state, &path, request).await?;
    Ok(HttpResponse::Ok().json(TimelinePage { events: page.events, has_more: page.has_more }))
}

async fn get_decisions(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (decisions, has_more) =
        read_visible_session(&principal, &state, &path, |connection, session| {
            timeline::decisions(connection, session.id.as_str())
        })
        .await?;
    Ok(HttpResponse::Ok().json(DecisionsBody { decisions, has_more }))
}

async fn get_recent_activity(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(request.query_string())?;
    let minutes = PageRule::RECENT_MINUTES
        .clamp_param("minutes", params.get("minutes").map(String::as_str))
        .map_err(ApiError::InvalidQuery)?;
    let events = read_visible_session(&principal, &state, &path, move |connection, session| {
        let (from, until) = recent_window(session.last_activity_at, minutes);
        timeline::between(connection, session.id.as_str(), from, until)
    })
    .await?;
    Ok(HttpResponse::Ok().json(summarize(&events, minutes)))
}
