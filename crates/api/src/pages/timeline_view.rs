//! The timeline as the session view draws it: a page of events with the idle gaps between them folded into one
//! line each, optionally filtered to one set of events (`?only=`, the events a metric counts); and
//! `/sessions/{id}/timeline`, the fragment the page's script fetches for the next page, the live tail, a deep link
//! beyond the first page (`at`) and the events before it (`before`). Every page goes through the API's
//! `read_timeline_page`: the same cursor, the same filter, the same access rule.

use actix_web::http::header::HeaderValue;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use traceline_domain::metrics::EventSet;
use traceline_domain::{PageRule, TimelineEvent};
use traceline_storage::timeline::{PageError, TimelinePage};
use traceline_storage::StorageError;

use super::events::{Body, EventView};
use super::format;
use super::render::{html, PageError as PageFailure};
use crate::principal::Principal;
use crate::request::query_params;
use crate::routes::{only_param, read_timeline_page, PageRequest};
use crate::state::AppState;

/// Events read for one page of the timeline.
pub(crate) const PAGE_EVENTS: i64 = 200;
/// Bytes of escaped candidate text one page draws before it stops; a page of long outputs and diffs stops early
/// and the rest loads on demand, which keeps the first answer small (UI.md: ≤ 500 KB).
const PAGE_BUDGET_BYTES: usize = 150_000;
/// Quiet longer than this between two events is folded into one line saying how long (UI.md).
const IDLE_GAP_MS: i64 = 5 * 60 * 1000;
/// The response header by which the live tail learns that the session has ended.
pub(crate) const SESSION_STATUS_HEADER: &str = "traceline-session-status";

/// One line of the timeline.
pub(crate) enum TimelineItem {
    /// Boxed: an event's view is many times the size of a gap's.
    Event(Box<EventView>),
    /// Nothing happened for `length`, from `from` to `until` (times of day).
    Idle { length: String, from: String, until: String },
}

/// A page of the timeline: its lines and, when more follow, the cursor of the next page.
pub(crate) struct TimelineSlice {
    pub(crate) session_id: String,
    pub(crate) items: Vec<TimelineItem>,
    /// The id of the last event shown, when more follow.
    pub(crate) next_after: Option<String>,
    /// What the next page's URL carries on besides `after`: the filter and the bound (`&only=…&before=…`).
    pub(crate) carry: String,
}

impl TimelineSlice {
    /// A page of `page`'s events that fits the budget (at least one), with the idle gaps before them folded
    /// when the timeline is whole (between two events of a filtered timeline, quiet is not idleness).
    pub(crate) fn of(
        session_id: &str,
        page: &TimelinePage,
        started_at: DateTime<Utc>,
        only: Option<EventSet>,
        before: Option<&str>,
    ) -> TimelineSlice {
        let mut items = Vec::with_capacity(page.events.len());
        let (mut spent, mut shown) = (0, 0);
        let mut previous = page.previous;
        let mut last: Option<&TimelineEvent> = None;
        for event in &page.events {
            if shown > 0 && spent >= PAGE_BUDGET_BYTES {
                break;
            }
            if let (None, Some(before)) = (only, previous) {
                if let Some(idle) = idle_between(before, event.ts) {
                    items.push(idle);
                }
            }
            let view = EventView::of(event, started_at);
            spent += view.weight;
            shown += 1;
            items.push(TimelineItem::Event(Box::new(view)));
            previous = Some(event.ts);
            last = Some(event);
        }
        let more = page.has_more || shown < page.events.len();
        let mut carry = String::new();
        if let Some(set) = only {
            carry.push_str(&format!("&only={}", set.name()));
        }
        if let Some(before) = before {
            carry.push_str(&format!("&before={before}"));
        }
        TimelineSlice {
            session_id: session_id.to_owned(),
            items,
            next_after: last.filter(|_| more).map(|event| event.id.clone()),
            carry,
        }
    }

    /// Whether the page shows no event.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The folded line for the quiet between two events, when it is long enough to fold.
fn idle_between(from: DateTime<Utc>, until: DateTime<Utc>) -> Option<TimelineItem> {
    let quiet = (until - from).num_milliseconds();
    (quiet > IDLE_GAP_MS).then(|| TimelineItem::Idle {
        length: format::duration(quiet),
        from: format::time_of_day(from),
        until: format::time_of_day(until),
    })
}

#[derive(Template)]
#[template(path = "partials/timeline_page.html")]
struct TimelineFragment {
    slice: TimelineSlice,
}

/// `GET /sessions/{id}/timeline?after=|at=&before=&only=&limit=`: a page of events as a fragment of the
/// timeline's list, with the session's status in a header for the live tail.
pub(super) async fn fragment(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, PageFailure> {
    let params = query_params(request.query_string())?;
    let rule = PageRule { default_limit: PAGE_EVENTS, min_limit: 1, max_limit: PAGE_EVENTS };
    let limit = rule
        .clamp_param("limit", params.get("limit").map(String::as_str))
        .map_err(crate::error::ApiError::InvalidQuery)?;
    let only = only_param(&params)?;
    let before = params.get("before").cloned();
    let page_request = PageRequest {
        after: params.get("after").cloned(),
        at: params.get("at").cloned(),
        before: before.clone(),
        only,
        limit,
    };
    let (session, page) = read_timeline_page(&principal, &state, &path, page_request).await?;
    let before = before.and_then(|id| traceline_domain::EventId::parse(&id).ok());
    let slice = TimelineSlice::of(
        session.id.as_str(),
        &page,
        session.started_at,
        only,
        before.as_ref().map(|id| id.as_str()),
    );
    let mut response = html(StatusCode::OK, &TimelineFragment { slice })?;
    let status = if session.ended_at.is_some() { "ended" } else { "active" };
    response.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static(SESSION_STATUS_HEADER),
        HeaderValue::from_static(status),
    );
    Ok(response)
}

/// The storage error of a page read from the start (with no cursor that could be unknown).
pub(crate) fn first_page_error(error: PageError) -> StorageError {
    match error {
        PageError::Storage(error) => error,
        PageError::UnknownCursor | PageError::UnknownBound => StorageError::NotFound,
    }
}
