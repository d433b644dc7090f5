//! Metrics and cohort statistics (spec §5 `/metrics`, §7): read from the per-session aggregates kept on ingest.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use traceline_domain::metrics::{cohort_stats, CohortStats, Ranked, SessionMetrics};
use traceline_domain::{Scope, SessionId};
use traceline_storage::session_state::{cohort_metrics, session_metrics};
use traceline_storage::sessions;
use traceline_storage::SessionScope;
use traceline_storage::{assessments, AnyConnection, StorageError};

use crate::error::ApiError;
use crate::principal::Principal;
use crate::request::query_params;
use crate::routes::assessments::assessment_not_found;
use crate::routes::timeline::{read_visible_session, session_not_found, visible_session_id};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::GET,
            "/v1/sessions/{id}/metrics",
            "getSessionMetrics",
            "A session's metrics, current as of its last event",
            Access::Shared(Scope::Read),
            |route| route.to(get_metrics),
        )
        .reply::<MetricsEnvelope>(200, "The metrics."),
        Endpoint::new(
            Method::GET,
            "/v1/sessions/{id}/cohort-stats",
            "getSessionCohortStats",
            "The cohort of a session's assessment, with the session ranked in it",
            Access::Shared(Scope::Read),
            |route| route.to(get_session_cohort),
        )
        .reply::<CohortEnvelope>(
            200,
            "null when the session has no assessment or the cohort is empty.",
        ),
        Endpoint::new(
            Method::GET,
            "/v1/assessments/{id}/cohort-stats",
            "getAssessmentCohortStats",
            "An assessment's cohort statistics, optionally ranking one session",
            Access::Reviewer(Scope::Read),
            |route| route.to(get_assessment_cohort),
        )
        .query(
            "sessionId",
            "A session of the org to rank against the cohort (unknown: 404).",
            json!({"type": "string"}),
        )
        .reply::<CohortEnvelope>(200, "null when the cohort is empty."),
    ]
}

/// `{metrics}`.
#[derive(Serialize, JsonSchema)]
struct MetricsEnvelope {
    metrics: SessionMetrics,
}

/// `{cohortStats}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CohortEnvelope {
    cohort_stats: Option<CohortStats>,
}

async fn get_metrics(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = visible_session_id(&path)?;
    let scope = principal.session_scope();
    let metrics = state
        .read(move |connection| session_metrics(connection, &scope, &id))
        .await
        .map_err(session_not_found)?;
    Ok(HttpResponse::Ok().json(MetricsEnvelope { metrics }))
}

/// An assessment's cohort: every member's metrics, and the statistics ranking one session among them.
pub(crate) struct Cohort {
    /// Each member's session id and metrics.
    pub(crate) members: Vec<(String, SessionMetrics)>,
    /// Where the ranked session is among `members`, when it is one of them.
    pub(crate) ranked_member: Option<usize>,
    /// `cohortStats`; `None` for an empty cohort.
    pub(crate) stats: Option<CohortStats>,
}

/// The cohort of `assessment_id`, ranking `ranked` (a session id with its metrics) when given.
pub(crate) fn read_cohort(
    connection: &mut AnyConnection,
    assessment_id: &str,
    ranked: Option<(String, SessionMetrics)>,
    now: DateTime<Utc>,
) -> Result<Cohort, StorageError> {
    let members = cohort_metrics(connection, assessment_id, now)?;
    let metrics: Vec<SessionMetrics> = members.iter().map(|(_, metrics)| *metrics).collect();
    let ranked_member =
        ranked.as_ref().and_then(|(id, _)| members.iter().position(|(member, _)| member == id));
    let stats = match (&ranked, ranked_member) {
        (None, _) => cohort_stats(&metrics, None),
        (Some(_), Some(index)) => cohort_stats(&metrics, Some(Ranked::Member(index))),
        (Some((_, own)), None) => cohort_stats(&metrics, Some(Ranked::Outsider(own))),
    };
    Ok(Cohort { members, ranked_member, stats })
}

/// The cohort statistics of `assessment_id`, ranking `ranked` (a session id with its metrics) when given.
pub(crate) fn cohort_of(
    connection: &mut AnyConnection,
    assessment_id: &str,
    ranked: Option<(String, SessionMetrics)>,
    now: DateTime<Utc>,
) -> Result<Option<CohortStats>, StorageError> {
    Ok(read_cohort(connection, assessment_id, ranked, now)?.stats)
}

fn cohort_response(stats: Option<CohortStats>) -> HttpResponse {
    HttpResponse::Ok().json(CohortEnvelope { cohort_stats: stats })
}

async fn get_session_cohort(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = principal.session_scope();
    let now = Utc::now();
    let stats = read_visible_session(&principal, &state, &path, move |connection, session| {
        let Some(assessment_id) = &session.assessment_id else {
            return Ok(None);
        };
        let own = session_metrics(connection, &scope, &session.id)?;
        cohort_of(connection, assessment_id, Some((session.id.as_str().to_owned(), own)), now)
    })
    .await?;
    Ok(cohort_response(stats))
}

/// The assessment route's answer: statistics, or a `sessionId` that names no session of the org.
enum AssessmentCohort {
    Stats(Option<Box<CohortStats>>),
    UnknownSession,
}

async fn get_assessment_cohort(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let assessment_id = path.into_inner();
    let params = query_params(request.query_string())?;
    let ranked = match params.get("sessionId") {
        Some(text) => Some(SessionId::parse(text).map_err(|_| ApiError::not_found("session"))?),
        None => None,
    };
    let now = Utc::now();
    let outcome = state
        .read(move |connection| {
            assessments::get(connection, &org_id, &assessment_id)?;
            let ranked = match ranked {
                Some(id) => {
                    let scope = SessionScope::org(org_id.clone());
                    if sessions::find(connection, &scope, &id)?.is_none() {
                        return Ok(AssessmentCohort::UnknownSession);
                    }
                    let own = session_metrics(connection, &scope, &id)?;
                    Some((id.as_str().to_owned(), own))
                }
                None => None,
            };
            Ok(AssessmentCohort::Stats(
                cohort_of(connection, &assessment_id, ranked, now)?.map(Box::new),
            ))
        })
        .await
        .map_err(assessment_not_found)?;
    let stats = match outcome {
        AssessmentCohort::Stats(stats) => stats.map(|stats| *stats),
        AssessmentCohort::UnknownSession => return Err(ApiError::not_found("session")),
    };
    Ok(cohort_response(stats))
}
