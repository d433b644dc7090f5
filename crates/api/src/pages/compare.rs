//! `/compare?a={id}&b={id}` (UI.md): two sessions side by side — their metrics and percentiles aligned row by
//! row, their timelines condensed onto the same slices of time since each one's start, their decisions in two
//! columns. The cohort table's "Compare" form sends `?pick=…&pick=…`, answered with a redirect to `?a=&b=`, so
//! picking two rows works without a script too.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;
use traceline_domain::metrics::{Better, METRICS};
use traceline_domain::{SessionId, ValidationErrors};
use traceline_storage::outline::{outline, OutlineEvent};
use traceline_storage::sessions;

use super::activity::{rows, ActivityRow};
use super::layout::Layout;
use super::metrics::{session_cells, MetricCell};
use super::render::{html, see_other, PageError};
use super::session_data::{DecisionLink, Header, SessionData};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::routes::session_not_found;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage {
    layout: Layout,
    sides: [Side; 2],
    metrics: Vec<MetricRow>,
    /// Both sessions are ranked in the same cohort (of this size).
    shared_cohort: Option<i64>,
    activity: Vec<ActivityRow>,
}

/// One of the two sessions.
struct Side {
    letter: &'static str,
    header: Header,
    cohort_size: Option<i64>,
    decisions: Vec<DecisionLink>,
}

/// One metric of both sessions.
struct MetricRow {
    label: &'static str,
    definition: &'static str,
    direction: Option<&'static str>,
    cells: [MetricCell; 2],
    /// Which side does better on a ranked metric: `Some(0)` for a, `Some(1)` for b; `None` on a tie or a gap.
    better: Option<usize>,
}

impl MetricRow {
    /// Whether the side at `index` does better.
    fn is_better(&self, index: &usize) -> bool {
        self.better == Some(*index)
    }
}

/// `GET /compare?a=&b=` (or `?pick=&pick=` from the cohort table).
pub(super) async fn show(
    principal: Principal,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(request.query_string())
        .map_err(|_| invalid("", "malformed query string"))?
        .into_inner();
    let picks: Vec<&String> = named(&pairs, "pick").collect();
    if !picks.is_empty() {
        return match picks.as_slice() {
            [a, b] => Ok(see_other(&format!(
                "/compare?a={}&b={}",
                super::text::percent_encode(a),
                super::text::percent_encode(b)
            ))),
            _ => Err(invalid("pick", "pick exactly two sessions to compare")),
        };
    }
    let (Some(a), Some(b)) = (named(&pairs, "a").next(), named(&pairs, "b").next()) else {
        return Err(invalid("a", "name two sessions: /compare?a={id}&b={id}"));
    };
    let ids = [a, b].map(|id| SessionId::parse(id).map_err(|_| ApiError::not_found("session")));
    let [a, b] = ids;
    let (a, b) = (a?, b?);
    let scope = principal.session_scope();
    let org_id = principal.org_id().clone();
    let now = Utc::now();
    let read = state
        .read(move |connection| {
            let mut sides = Vec::with_capacity(2);
            for id in [a, b] {
                let session = sessions::get(connection, &scope, &id)?;
                let data = SessionData::read(connection, &scope, &org_id, &session, now)?;
                sides.push((data, outline(connection, session.id.as_str())?));
            }
            Ok(sides)
        })
        .await
        .map_err(session_not_found)?;
    let [(a, a_outline), (b, b_outline)]: [(SessionData, Vec<OutlineEvent>); 2] =
        read.try_into().map_err(|_| ApiError::not_found("session"))?;
    let activity = rows(&[(&a_outline, a.session.started_at), (&b_outline, b.session.started_at)]);
    let shared_cohort = (a.session.assessment_id.is_some()
        && a.session.assessment_id == b.session.assessment_id)
        .then(|| a.cohort_size())
        .flatten();
    let page = ComparePage {
        layout: Layout::new("/compare", Some(&principal)).titled(format!(
            "{} and {}",
            a.candidate(),
            b.candidate()
        )),
        metrics: metric_rows(&a, &b),
        sides: [side("A", &a, now), side("B", &b, now)],
        shared_cohort,
        activity,
    };
    html(StatusCode::OK, &page)
}

fn side(letter: &'static str, data: &SessionData, now: chrono::DateTime<Utc>) -> Side {
    Side {
        letter,
        header: data.header(now),
        cohort_size: data.cohort_size(),
        decisions: data.decision_links(),
    }
}

/// The metrics of both sessions, row by row in table order, with the side that does better on ranked ones.
fn metric_rows(a: &SessionData, b: &SessionData) -> Vec<MetricRow> {
    let cells = |data: &SessionData| {
        session_cells(data.session.id.as_str(), &data.metrics, data.cohort.as_ref())
    };
    cells(a)
        .into_iter()
        .zip(cells(b))
        .zip(METRICS.iter().enumerate())
        .map(|((left, right), (index, metric))| {
            let values =
                [a.metrics.at(index), b.metrics.at(index)].map(|v| v.and_then(|v| v.as_f64()));
            let better = match (metric.better, values) {
                (Some(better), [Some(x), Some(y)]) if x != y => {
                    let a_wins = match better {
                        Better::Smaller => x < y,
                        Better::Larger => x > y,
                    };
                    Some(if a_wins { 0 } else { 1 })
                }
                _ => None,
            };
            MetricRow {
                label: metric.label,
                definition: metric.definition,
                direction: left.direction,
                cells: [left, right],
                better,
            }
        })
        .collect()
}

/// The values of the query parameter `key`, in order.
fn named<'a>(pairs: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a String> {
    pairs.iter().filter(move |(name, _)| name == key).map(|(_, value)| value)
}

/// A 400 page naming the parameter that is wrong.
fn invalid(parameter: &str, message: &str) -> PageError {
    PageError(ApiError::InvalidQuery(ValidationErrors::one(parameter, message)))
}
