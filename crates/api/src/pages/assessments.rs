//! `/` (the org's assessments) and `/assessments/{id}` (one assessment: its brief, its candidate keys, the
//! cohort table, hire and reject).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use traceline_domain::assessment::Assessment;
use traceline_domain::candidate_key::{CandidateKey, KeyStatus};
use traceline_domain::metrics::{member_percentiles, Metric};
use traceline_storage::session_state::cohort_metrics;
use traceline_storage::{assessments, candidate_keys, sessions};

use super::format;
use super::layout::Layout;
use super::metrics::{cells, headings, MetricCell};
use super::render::{html, PageError};
use crate::principal::Principal;
use crate::routes::assessment_not_found;
use crate::state::AppState;

/// Cohort rows a page shows at most; the API lists them all.
const MAX_COHORT_ROWS: usize = 2_000;

#[derive(Template)]
#[template(path = "assessments.html")]
struct AssessmentsPage {
    layout: Layout,
    assessments: Vec<AssessmentSummary>,
    may_write: bool,
}

/// One assessment in the list.
struct AssessmentSummary {
    id: String,
    title: String,
    role: String,
    /// `(status, count)` for every status some key has.
    keys: Vec<(&'static str, usize)>,
    cohort_size: usize,
    latest_activity: Option<String>,
}

/// `GET /`.
pub(super) async fn list(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let org_id = principal.org_id().clone();
    let (found, keys, activity) = state
        .read(move |connection| {
            Ok((
                assessments::list(connection, &org_id)?,
                candidate_keys::list_all_for_org(connection, &org_id)?,
                sessions::latest_activity_by_assessment(connection, &org_id)?,
            ))
        })
        .await?;
    let now = Utc::now();
    let activity: HashMap<String, DateTime<Utc>> = activity.into_iter().collect();
    // Newest first: the list opens on what is being worked on.
    let summaries: Vec<AssessmentSummary> = found
        .into_iter()
        .rev()
        .map(|assessment| {
            let own: Vec<&CandidateKey> =
                keys.iter().filter(|key| key.assessment_id == assessment.id).collect();
            AssessmentSummary {
                keys: count_by_status(&own, now),
                cohort_size: own
                    .iter()
                    .filter(|key| key.status_at(now).in_cohort() && key.session_id.is_some())
                    .count(),
                latest_activity: activity.get(&assessment.id).map(|at| format::moment(*at)),
                id: assessment.id,
                title: assessment.spec.title,
                role: assessment.spec.role,
            }
        })
        .collect();
    let page = AssessmentsPage {
        layout: Layout::new("/", Some(&principal)),
        assessments: summaries,
        may_write: may_write(&principal),
    };
    html(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "assessment.html")]
struct AssessmentPage {
    layout: Layout,
    assessment: Assessment,
    created: String,
    keys: Vec<KeyRow>,
    metric_headings: Vec<&'static Metric>,
    cohort: Vec<CohortRow>,
    cohort_total: usize,
    may_write: bool,
}

/// One candidate key.
struct KeyRow {
    id: String,
    key: String,
    name: String,
    email: Option<String>,
    status: &'static str,
    expires: String,
    session_id: Option<String>,
    /// Hire and reject are offered once there is a session to judge, for whichever is not already so.
    can_hire: bool,
    can_reject: bool,
}

/// One session of the cohort.
struct CohortRow {
    session_id: String,
    candidate: String,
    status: &'static str,
    metrics: Vec<MetricCell>,
}

/// `GET /assessments/{id}`.
pub(super) async fn show(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let org_id = principal.org_id().clone();
    let id = path.into_inner();
    let now = Utc::now();
    let (assessment, keys, members) = state
        .read(move |connection| {
            let assessment = assessments::get(connection, &org_id, &id)?;
            let keys = candidate_keys::list_for_assessment(connection, &org_id, &id)?;
            let members = cohort_metrics(connection, &id, now)?;
            Ok((assessment, keys, members))
        })
        .await
        .map_err(assessment_not_found)?;
    let metrics: Vec<_> = members.iter().map(|(_, metrics)| *metrics).collect();
    let ranks = member_percentiles(&metrics);
    let by_session: HashMap<&str, &CandidateKey> =
        keys.iter().filter_map(|key| Some((key.session_id.as_deref()?, key))).collect();
    let cohort: Vec<CohortRow> = members
        .iter()
        .enumerate()
        .take(MAX_COHORT_ROWS)
        .map(|(index, (session_id, metrics))| {
            let key = by_session.get(session_id.as_str());
            CohortRow {
                session_id: session_id.clone(),
                candidate: key.map_or_else(|| "—".to_owned(), |key| candidate_name(key)),
                status: key.map_or("", |key| key.status_at(now).as_str()),
                metrics: cells(metrics, ranks.get(index)),
            }
        })
        .collect();
    let page = AssessmentPage {
        layout: Layout::new("/assessments/{id}", Some(&principal)).titled(&assessment.spec.title),
        created: format::moment(assessment.created_at),
        keys: keys.iter().map(|key| key_row(key, now)).collect(),
        metric_headings: headings().collect(),
        cohort_total: members.len(),
        cohort,
        assessment,
        may_write: may_write(&principal),
    };
    html(StatusCode::OK, &page)
}

fn key_row(key: &CandidateKey, now: DateTime<Utc>) -> KeyRow {
    let status = key.status_at(now);
    let judged = key.session_id.is_some();
    KeyRow {
        id: key.id.clone(),
        key: key.key.clone(),
        name: candidate_name(key),
        email: key.candidate_email.clone(),
        status: status.as_str(),
        expires: format::moment(key.expires_at),
        session_id: key.session_id.clone(),
        can_hire: judged && status != KeyStatus::Hired,
        can_reject: judged && status != KeyStatus::Rejected,
    }
}

/// What a candidate is called on a page: their name, else their address, else "Unnamed candidate".
pub(super) fn candidate_name(key: &CandidateKey) -> String {
    key.candidate_name
        .clone()
        .filter(|name| !name.trim().is_empty())
        .or_else(|| key.candidate_email.clone())
        .unwrap_or_else(|| "Unnamed candidate".to_owned())
}

/// How many keys are in each status, in the order a hiring flow goes through them.
fn count_by_status(keys: &[&CandidateKey], now: DateTime<Utc>) -> Vec<(&'static str, usize)> {
    const ORDER: [KeyStatus; 6] = [
        KeyStatus::Pending,
        KeyStatus::Active,
        KeyStatus::Completed,
        KeyStatus::Expired,
        KeyStatus::Hired,
        KeyStatus::Rejected,
    ];
    ORDER
        .iter()
        .map(|status| {
            (status.as_str(), keys.iter().filter(|key| key.status_at(now) == *status).count())
        })
        .filter(|(_, count)| *count > 0)
        .collect()
}

/// Whether the viewer may change things (forms are offered only then; the API decides anyway).
pub(super) fn may_write(principal: &Principal) -> bool {
    principal
        .reviewer()
        .is_some_and(|reviewer| reviewer.scopes.allows(traceline_domain::Scope::Write))
}
