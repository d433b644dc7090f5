//! Reading a session (spec §5): its timeline by cursor, its decisions, and its recent activity.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use schemars::JsonSchema;
use serde::Serialize;
use traceline_domain::activity::{recent_window, summarize, RecentActivityReport};
use traceline_domain::{EventId, PageRule, Scope, Session, SessionId, TimelineEvent};
use traceline_storage::timeline::{self, PageError};
use traceline_storage::{sessions, AnyConnection, StorageError};

use crate::error::ApiError;
use crate::principal::Principal;
use crate::request::query_params;
use crate::routes::{clamped_integer, cursor_page, Access, Endpoint};
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

/// `{events, hasMore}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct TimelinePage {
    events: Vec<TimelineEvent>,
    /// Whether a later page exists.
    has_more: bool,
}

/// `{decisions}`.
#[derive(Serialize, JsonSchema)]
struct DecisionsBody {
    decisions: Vec<TimelineEvent>,
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

/// The session named by the path (if the caller may see it) and the page of up to `limit` of its events after
/// the event `after` (from the start without one). A cursor that names no event of the session is a 400 on
/// `after`. The API's timeline and the session view's "load more" both page through here.
pub(crate) async fn read_timeline_page(
    principal: &Principal,
    state: &AppState,
    path: &str,
    after: Option<String>,
    limit: i64,
) -> Result<(Session, timeline::TimelinePage), ApiError> {
    // Event ids are stored canonical; a cursor spelled another way (upper case, say) names the same event, and
    // one that is no UUID names none, so it is answered without a query (after the visibility check, so a
    // session outside the caller's reach is still a plain 404).
    let after = after.map(|after| EventId::parse(&after).map(|id| id.as_str().to_owned()));
    let (session, page) =
        read_visible_session(principal, state, path, move |connection, session| {
            let page = match after {
                Some(Err(_)) => Err(PageError::UnknownCursor),
                Some(Ok(after)) => {
                    timeline::page(connection, session.id.as_str(), Some(&after), limit)
                }
                None => timeline::page(connection, session.id.as_str(), None, limit),
            };
            Ok((session.clone(), page))
        })
        .await?;
    Ok((session, cursor_page(page, "event of this session")?))
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
    let (_, page) =
        read_timeline_page(&principal, &state, &path, params.get("after").cloned(), limit).await?;
    Ok(HttpResponse::Ok().json(TimelinePage { events: page.events, has_more: page.has_more }))
}

async fn get_decisions(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let decisions = read_visible_session(&principal, &state, &path, |connection, session| {
        timeline::decisions(connection, session.id.as_str())
    })
    .await?;
    Ok(HttpResponse::Ok().json(DecisionsBody { decisions }))
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
