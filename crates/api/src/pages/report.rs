//! `/sessions/{id}/report`, the printable report (UI.md): the header, every metric with its percentile and the
//! cohort chart, the decisions in full, every reviewer's scores, and the timeline condensed — what happened in
//! each slice of time since the start, and the candidate's prompts. Its print stylesheet gives a clean document
//! from a browser's "Save as PDF".

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use traceline_domain::metrics::EventSet;
use traceline_storage::outline::outline;
use traceline_storage::timeline::{self, PageQuery, Start};

use super::activity::{rows, ActivityRow};
use super::events::{Body, EventView};
use super::format;
use super::layout::Layout;
use super::metrics::{session_cells, MetricCell};
use super::render::{html, PageError};
use super::scores::{score_sheet, ScoreSheet};
use super::session_data::{Header, SessionData};
use super::text::shorten;
use super::timeline_view::first_page_error;
use crate::principal::Principal;
use crate::routes::read_visible_session;
use crate::state::AppState;

/// Prompts the report quotes at most, and characters of each.
const MAX_PROMPTS: i64 = 100;
const PROMPT_CHARS: usize = 400;

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    header: Header,
    generated: String,
    metrics: Vec<MetricCell>,
    cohort_size: Option<i64>,
    decisions: Vec<EventView>,
    scores: ScoreSheet,
    activity: Vec<ActivityRow>,
    prompts: Vec<(String, String)>,
    /// Prompts beyond those quoted.
    more_prompts: i64,
}

/// `GET /sessions/{id}/report`.
pub(super) async fn show(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let scope = principal.session_scope();
    let org_id = principal.org_id().clone();
    let now = Utc::now();
    let (data, events, prompts) =
        read_visible_session(&principal, &state, &path, move |connection, session| {
            let data = SessionData::read(connection, &scope, &org_id, session, now)?;
            let only = Some(EventSet::Prompts);
            let query =
                PageQuery { start: Start::Beginning, before: None, only, limit: MAX_PROMPTS };
            let prompts =
                timeline::page(connection, session.id.as_str(), query).map_err(first_page_error)?;
            Ok((data, outline(connection, session.id.as_str())?, prompts))
        })
        .await?;
    let session = &data.session;
    let started = session.started_at;
    let header = data.header(now);
    let prompt_count = data.metrics.get("promptCount").and_then(|value| value.as_i64());
    let quoted: Vec<(String, String)> = prompts
        .events
        .iter()
        .map(|event| {
            let text = event.text("text").unwrap_or_default();
            (format::offset((event.ts - started).num_milliseconds()), shorten(text, PROMPT_CHARS))
        })
        .collect();
    let page = ReportPage {
        layout: Layout::new("/sessions/{id}/report", Some(&principal))
            .titled(format!("Report: {}", header.candidate)),
        generated: format::moment(now),
        metrics: session_cells(session.id.as_str(), &data.metrics, data.cohort.as_ref()),
        cohort_size: data.cohort_size(),
        decisions: data.decisions.iter().map(|event| EventView::of(event, started)).collect(),
        scores: score_sheet(session.id.as_str(), &data.scores, None),
        activity: rows(&[(&events, started)]),
        more_prompts: prompt_count.unwrap_or(0) - quoted.len() as i64,
        prompts: quoted,
        header,
    };
    html(StatusCode::OK, &page)
}
