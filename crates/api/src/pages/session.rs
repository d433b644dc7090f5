//! `/sessions/{id}`, the session view (UI.md): the header, the first page of the timeline (optionally filtered
//! to one set of events with `?only=`, the events a metric counts), the decisions beside it, the metrics with
//! their cohort charts and percentiles, and the scores.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;
use traceline_domain::metrics::EventSet;
use traceline_storage::timeline::{self, PageQuery, Start};

use super::assessments::may_write;
use super::events::Body;
use super::layout::Layout;
use super::metrics::{session_cells, MetricCell};
use super::render::{html, PageError};
use super::scores::{score_sheet, ScoreSheet};
use super::session_data::{DecisionLink, Header, SessionData};
use super::timeline_view::{first_page_error, TimelineItem, TimelineSlice, PAGE_EVENTS};
use crate::principal::Principal;
use crate::request::query_params;
use crate::routes::{only_param, read_visible_session};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "session.html")]
struct SessionPage {
    layout: Layout,
    header: Header,
    slice: TimelineSlice,
    /// The filter on the timeline, when there is one.
    filter: Option<Filter>,
    /// Every set the timeline can be filtered to: `(name, label, selected)`.
    filters: Vec<(&'static str, &'static str, bool)>,
    decisions: Vec<DecisionLink>,
    metrics: Vec<MetricCell>,
    /// `n` of the cohort the percentiles are among, when there is one.
    cohort_size: Option<i64>,
    scores: ScoreSheet,
    may_write: bool,
}

/// The set the timeline is filtered to, and how many events it holds.
struct Filter {
    name: &'static str,
    label: &'static str,
    count: i64,
}

/// `GET /sessions/{id}?only=`.
pub(super) async fn show(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let params = query_params(request.query_string())?;
    let only = only_param(&params)?;
    let scope = principal.session_scope();
    let org_id = principal.org_id().clone();
    let now = Utc::now();
    let (data, page, count) =
        read_visible_session(&principal, &state, &path, move |connection, session| {
            let query =
                PageQuery { start: Start::Beginning, before: None, only, limit: PAGE_EVENTS };
            let page =
                timeline::page(connection, session.id.as_str(), query).map_err(first_page_error)?;
            let count = match only {
                Some(set) => Some(timeline::count_in(connection, session.id.as_str(), set)?),
                None => None,
            };
            let data = SessionData::read(connection, &scope, &org_id, session, now)?;
            Ok((data, page, count))
        })
        .await?;
    let viewer = principal.reviewer().map(|reviewer| reviewer.actor.clone());
    let header = data.header(now);
    let session = &data.session;
    let page = SessionPage {
        layout: Layout::new("/sessions/{id}", Some(&principal)).titled(&header.candidate),
        slice: TimelineSlice::of(session.id.as_str(), &page, session.started_at, only, None),
        filter: only.zip(count).map(|(set, count)| Filter {
            name: set.name(),
            label: set.label(),
            count,
        }),
        filters: EventSet::ALL
            .iter()
            .map(|set| (set.name(), set.label(), Some(*set) == only))
            .collect(),
        decisions: data.decision_links(),
        metrics: session_cells(session.id.as_str(), &data.metrics, data.cohort.as_ref()),
        cohort_size: data.cohort_size(),
        scores: score_sheet(session.id.as_str(), &data.scores, viewer.as_ref()),
        may_write: may_write(&principal),
        header,
    };
    html(StatusCode::OK, &page)
}
