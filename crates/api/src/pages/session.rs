//! `/sessions/{id}`, the session view (UI.md): the header, the first page of the timeline, the decisions beside
//! it, the metrics with their cohort percentiles, and the scores; and `/sessions/{id}/timeline?after=`, the next
//! page of the timeline as a fragment the page's script appends (the same markup, the same cursor as the API's).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use traceline_domain::actor_ref::{ActorKind, ActorRef};
use traceline_domain::candidate_key::KeyStatus;
use traceline_domain::metrics::CohortStats;
use traceline_domain::score::{Score, DIMENSIONS};
use traceline_domain::{Session, TimelineEvent};
use traceline_storage::session_state::session_metrics;
use traceline_storage::timeline::{self, PageError as CursorError};
use traceline_storage::{assessments, candidate_keys, scores, AnyConnection, StorageError};

use super::assessments::{candidate_name, may_write};
use super::events::{Body, EventView};
use super::format;
use super::layout::Layout;
use super::metrics::{cells, MetricCell};
use super::render::{html, PageError};
use crate::principal::Principal;
use crate::request::query_params;
use crate::routes::{cohort_of, read_timeline_page, read_visible_session};
use crate::state::AppState;

/// Decisions listed beside the timeline at most (the API lists them all).
const MAX_DECISIONS: i64 = 200;
/// Events read for one page of the timeline.
const PAGE_EVENTS: i64 = 200;
/// Bytes of escaped candidate text one page draws before it stops; a page of long outputs and diffs stops early
/// and the rest loads on demand, which keeps the first answer small (UI.md: ≤ 500 KB).
const PAGE_BUDGET_BYTES: usize = 150_000;

/// A page of the timeline: its events and, when more follow, the cursor of the next page.
struct TimelineSlice {
    session_id: String,
    events: Vec<EventView>,
    /// The id of the last event shown, when more follow.
    next_after: Option<String>,
}

#[derive(Template)]
#[template(path = "partials/timeline_page.html")]
struct TimelineFragment {
    slice: TimelineSlice,
}

#[derive(Template)]
#[template(path = "session.html")]
struct SessionPage {
    layout: Layout,
    header: Header,
    slice: TimelineSlice,
    decisions: Vec<DecisionLink>,
    metrics: Vec<MetricCell>,
    /// `n` of the cohort the percentiles are among, when there is one.
    cohort_size: Option<i64>,
    scores: ScoreSheet,
    may_write: bool,
}

/// The header of the session view.
struct Header {
    session_id: String,
    candidate: String,
    assessment: Option<(String, String)>,
    source: Option<String>,
    /// `in progress` or `ended`.
    status: &'static str,
    started: String,
    ended: Option<String>,
    duration: String,
    events: i64,
    /// The key's status and the decision endpoint, when the session belongs to a candidate key.
    key: Option<KeyDecision>,
}

/// Where a reviewer hires or rejects the candidate of a session.
struct KeyDecision {
    status: &'static str,
    path: String,
    can_hire: bool,
    can_reject: bool,
}

/// A decision in the list beside the timeline.
struct DecisionLink {
    id: String,
    title: String,
    time: String,
    impact: Option<i64>,
}

/// The rubric: the viewer's own scores to edit, and everyone else's to read.
struct ScoreSheet {
    session_id: String,
    own: Vec<DimensionScore>,
    others: Vec<(String, Vec<DimensionScore>)>,
}

/// One dimension of the rubric.
struct DimensionScore {
    dimension: &'static str,
    label: String,
    score: Option<i64>,
    notes: String,
}

/// Everything the view reads, in one transaction.
struct Loaded {
    session: Session,
    events: Vec<TimelineEvent>,
    has_more: bool,
    decisions: Vec<TimelineEvent>,
    metrics: traceline_domain::metrics::SessionMetrics,
    cohort: Option<CohortStats>,
    scores: Vec<Score>,
    key: Option<traceline_domain::candidate_key::CandidateKey>,
    assessment_title: Option<String>,
}

/// `GET /sessions/{id}`.
pub(super) async fn show(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let scope = principal.session_scope();
    let org_id = principal.org_id().clone();
    let now = Utc::now();
    let loaded = read_visible_session(&principal, &state, &path, move |connection, session| {
        let page = timeline::page(connection, session.id.as_str(), None, PAGE_EVENTS)
            .map_err(cursor_storage_error)?;
        let metrics = session_metrics(connection, &scope, &session.id)?;
        let cohort = match &session.assessment_id {
            Some(assessment_id) => cohort_of(
                connection,
                assessment_id,
                Some((session.id.as_str().to_owned(), metrics)),
                now,
            )?,
            None => None,
        };
        let key = match &session.candidate_key_id {
            Some(key_id) => {
                candidate_keys::find_by_ids(connection, &org_id, std::slice::from_ref(key_id))?
                    .pop()
            }
            None => None,
        };
        Ok(Loaded {
            events: page.events,
            has_more: page.has_more,
            decisions: timeline::first_decisions(connection, session.id.as_str(), MAX_DECISIONS)?,
            metrics,
            cohort,
            scores: scores::list(connection, session.id.as_str())?,
            assessment_title: assessment_title(
                connection,
                &org_id,
                session.assessment_id.as_deref(),
            )?,
            key,
            session: session.clone(),
        })
    })
    .await?;
    let viewer = principal.reviewer().map(|reviewer| reviewer.actor.clone());
    let session = &loaded.session;
    let header = header(&loaded, now);
    let page = SessionPage {
        layout: Layout::new("/sessions/{id}", Some(&principal)).titled(&header.candidate),
        slice: slice(session.id.as_str(), &loaded.events, loaded.has_more, session.started_at),
        decisions: loaded
            .decisions
            .iter()
            .map(|event| DecisionLink {
                id: event.id.clone(),
                title: event.text("title").unwrap_or("Decision").to_owned(),
                time: format::time_of_day(event.ts),
                impact: event.data.get("impactScore").and_then(serde_json::Value::as_i64),
            })
            .collect(),
        metrics: cells(
            &loaded.metrics,
            loaded.cohort.as_ref().and_then(|c| c.percentiles.as_ref()),
        ),
        cohort_size: loaded.cohort.as_ref().map(|cohort| cohort.session_count),
        scores: score_sheet(session.id.as_str(), &loaded.scores, viewer.as_ref()),
        may_write: may_write(&principal),
        header,
    };
    html(StatusCode::OK, &page)
}

/// `GET /sessions/{id}/timeline?after=`: the page of events after `after`, as a fragment.
pub(super) async fn timeline_fragment(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let params = query_params(request.query_string())?;
    let (session, page) =
        read_timeline_page(&principal, &state, &path, params.get("after").cloned(), PAGE_EVENTS)
            .await?;
    let (session_id, started_at) = (session.id.as_str().to_owned(), session.started_at);
    let fragment =
        TimelineFragment { slice: slice(&session_id, &page.events, page.has_more, started_at) };
    html(StatusCode::OK, &fragment)
}

/// The events that fit the page's budget (at least one), and the cursor after the last of them.
fn slice(
    session_id: &str,
    events: &[TimelineEvent],
    has_more: bool,
    started_at: DateTime<Utc>,
) -> TimelineSlice {
    let mut shown = Vec::with_capacity(events.len());
    let mut spent = 0;
    for event in events {
        if !shown.is_empty() && spent >= PAGE_BUDGET_BYTES {
            break;
        }
        let view = EventView::of(event, started_at);
        spent += view.weight;
        shown.push(view);
    }
    let more = has_more || shown.len() < events.len();
    let next_after = if more { shown.last().map(|event| event.id.clone()) } else { None };
    TimelineSlice { session_id: session_id.to_owned(), events: shown, next_after }
}

fn header(loaded: &Loaded, now: DateTime<Utc>) -> Header {
    let session = &loaded.session;
    let key = loaded.key.as_ref().map(|key| {
        let status = key.status_at(now);
        KeyDecision {
            status: status.as_str(),
            path: format!("/v1/assessments/{}/keys/{}", key.assessment_id, key.id),
            can_hire: status != KeyStatus::Hired,
            can_reject: status != KeyStatus::Rejected,
        }
    });
    Header {
        session_id: session.id.as_str().to_owned(),
        candidate: loaded.key.as_ref().map_or_else(|| "Session".to_owned(), candidate_name),
        assessment: session.assessment_id.clone().zip(loaded.assessment_title.clone()),
        source: session.source_service.clone(),
        status: if session.ended_at.is_some() { "ended" } else { "in progress" },
        started: format::moment(session.started_at),
        ended: session.ended_at.map(format::moment),
        duration: format::duration(
            (session.ended_at.unwrap_or(session.last_activity_at) - session.started_at)
                .num_milliseconds(),
        ),
        events: session.event_count,
        key,
    }
}

/// `Some(title)` of a live assessment, `None` when it was deleted or there is none.
fn assessment_title(
    connection: &mut AnyConnection,
    org_id: &traceline_domain::OrgId,
    id: Option<&str>,
) -> Result<Option<String>, StorageError> {
    let Some(id) = id else { return Ok(None) };
    match assessments::get(connection, org_id, id) {
        Ok(assessment) => Ok(Some(assessment.spec.title)),
        Err(StorageError::NotFound) => Ok(None),
        Err(other) => Err(other),
    }
}

fn score_sheet(session_id: &str, stored: &[Score], viewer: Option<&ActorRef>) -> ScoreSheet {
    // Scores recorded before scores were attributed have no scorer; they are shown as an earlier reviewer's.
    let scorer = |score: &Score| score.scored_by.as_ref().map(|by| (by.kind, by.id.clone()));
    let viewer_key = viewer.map(|who| (who.kind, who.id.clone()));
    let own = rubric(|dimension| {
        stored
            .iter()
            .find(|s| s.dimension == dimension && viewer_key.is_some() && scorer(s) == viewer_key)
    });
    let mut reviewers: Vec<(Option<(ActorKind, String)>, String)> = Vec::new();
    for score in stored {
        let key = scorer(score);
        if (viewer_key.is_some() && key == viewer_key)
            || reviewers.iter().any(|(known, _)| *known == key)
        {
            continue;
        }
        let name = score
            .scored_by
            .as_ref()
            .map_or_else(|| "Earlier reviewer".to_owned(), |by| by.name.clone());
        reviewers.push((key, name));
    }
    let others = reviewers
        .into_iter()
        .map(|(key, name)| {
            let dimensions = rubric(|dimension| {
                stored.iter().find(|s| s.dimension == dimension && scorer(s) == key)
            });
            (name, dimensions.into_iter().filter(|d| d.score.is_some()).collect())
        })
        .collect();
    ScoreSheet { session_id: session_id.to_owned(), own, others }
}

/// The rubric's dimensions, each with the score `of` finds for it.
fn rubric<'a>(of: impl Fn(&str) -> Option<&'a Score>) -> Vec<DimensionScore> {
    DIMENSIONS
        .iter()
        .map(|dimension| {
            let score = of(dimension);
            DimensionScore {
                dimension,
                label: dimension_label(dimension),
                score: score.map(|score| score.score),
                notes: score.and_then(|score| score.notes.clone()).unwrap_or_default(),
            }
        })
        .collect()
}

/// `problem_decomposition` → `Problem decomposition`, `ai_orchestration` → `AI orchestration`.
fn dimension_label(dimension: &str) -> String {
    let words = dimension
        .split('_')
        .map(|word| if word == "ai" { "AI" } else { word })
        .collect::<Vec<_>>()
        .join(" ");
    let mut chars = words.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn cursor_storage_error(error: CursorError) -> StorageError {
    match error {
        CursorError::Storage(error) => error,
        // The first page has no cursor to be unknown.
        CursorError::UnknownCursor => StorageError::NotFound,
    }
}
