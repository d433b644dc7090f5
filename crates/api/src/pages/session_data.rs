//! What the session view, the printable report and the compare page read about one session, in one
//! transaction, through the same storage calls as the API: the session, its metrics, its cohort (with every
//! member's metrics, for the charts), its candidate key and assessment, its decisions and scores; and the header
//! all three show.

use chrono::{DateTime, Utc};
use traceline_domain::candidate_key::{CandidateKey, KeyStatus};
use traceline_domain::metrics::SessionMetrics;
use traceline_domain::score::Score;
use traceline_domain::signing::ChainStatus;
use traceline_domain::{OrgId, Session, TimelineEvent};
use traceline_storage::session_state::session_metrics;
use traceline_storage::{
    assessments, candidate_keys, scores, timeline, AnyConnection, SessionScope, StorageError,
};

use super::assessments::candidate_name;
use super::format;
use crate::routes::{read_cohort, Cohort};

/// Decisions read at most (the API lists them all).
pub(crate) const MAX_DECISIONS: i64 = 200;

/// Everything the pages read about one session.
pub(crate) struct SessionData {
    pub(crate) session: Session,
    pub(crate) metrics: SessionMetrics,
    /// The cohort of its assessment, with this session ranked in it; `None` without an assessment.
    pub(crate) cohort: Option<Cohort>,
    pub(crate) key: Option<CandidateKey>,
    pub(crate) assessment_title: Option<String>,
    pub(crate) decisions: Vec<TimelineEvent>,
    pub(crate) scores: Vec<Score>,
}

impl SessionData {
    /// Reads it, for a session the caller may see (checked by `read_visible_session`).
    pub(crate) fn read(
        connection: &mut AnyConnection,
        scope: &SessionScope,
        org_id: &OrgId,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<SessionData, StorageError> {
        let metrics = session_metrics(connection, scope, &session.id)?;
        let cohort = match &session.assessment_id {
            Some(assessment_id) => Some(read_cohort(
                connection,
                assessment_id,
                Some((session.id.as_str().to_owned(), metrics)),
                now,
            )?),
            None => None,
        };
        let key = match &session.candidate_key_id {
            Some(key_id) => {
                candidate_keys::find_by_ids(connection, org_id, std::slice::from_ref(key_id))?.pop()
            }
            None => None,
        };
        Ok(SessionData {
            metrics,
            cohort,
            key,
            assessment_title: assessment_title(
                connection,
                org_id,
                session.assessment_id.as_deref(),
            )?,
            decisions: timeline::first_decisions(connection, session.id.as_str(), MAX_DECISIONS)?,
            scores: scores::list(connection, session.id.as_str())?,
            session: session.clone(),
        })
    }

    /// The candidate's name, or "Session" when the session has no candidate key.
    pub(crate) fn candidate(&self) -> String {
        self.key.as_ref().map_or_else(|| "Session".to_owned(), candidate_name)
    }

    /// `n`: the cohort's size, when there is a cohort.
    pub(crate) fn cohort_size(&self) -> Option<i64> {
        self.cohort
            .as_ref()
            .and_then(|cohort| cohort.stats.as_ref())
            .map(|stats| stats.session_count)
    }

    /// The decisions, as the pages list them.
    pub(crate) fn decision_links(&self) -> Vec<DecisionLink> {
        let started = self.session.started_at;
        self.decisions
            .iter()
            .map(|event| DecisionLink {
                id: event.id.clone(),
                title: event.text("title").unwrap_or("Decision").to_owned(),
                time: format::time_of_day(event.ts),
                offset: format::offset((event.ts - started).num_milliseconds()),
                impact: event.data.get("impactScore").and_then(serde_json::Value::as_i64),
            })
            .collect()
    }

    /// The header the pages show.
    pub(crate) fn header(&self, now: DateTime<Utc>) -> Header {
        let session = &self.session;
        let key = self.key.as_ref().map(|key| {
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
            candidate: self.candidate(),
            assessment: session.assessment_id.clone().zip(self.assessment_title.clone()),
            source: session.source_service.clone(),
            status: if session.ended_at.is_some() { "ended" } else { "in progress" },
            started: format::moment(session.started_at),
            ended: session.ended_at.map(format::moment),
            duration: format::duration(
                (session.ended_at.unwrap_or(session.last_activity_at) - session.started_at)
                    .num_milliseconds(),
            ),
            events: session.event_count,
            chain: session.chain_status.as_str(),
            chain_meaning: match session.chain_status {
                ChainStatus::Intact => "every event is signed with the candidate's key, in one unbroken line",
                ChainStatus::Broken => {
                    "some event is unsigned, does not verify, or is off the line: the record may have been altered"
                }
                ChainStatus::Unsigned => "the candidate's client gave no signing key",
            },
            key,
        }
    }
}

/// The header of a session's pages.
pub(crate) struct Header {
    pub(crate) session_id: String,
    pub(crate) candidate: String,
    pub(crate) assessment: Option<(String, String)>,
    pub(crate) source: Option<String>,
    /// `in progress` or `ended`.
    pub(crate) status: &'static str,
    pub(crate) started: String,
    pub(crate) ended: Option<String>,
    pub(crate) duration: String,
    pub(crate) events: i64,
    /// The signature chain's status (spec §10.2): `intact`, `broken` or `unsigned`.
    pub(crate) chain: &'static str,
    /// What that status means, in words.
    pub(crate) chain_meaning: &'static str,
    /// The key's status and the decision endpoint, when the session belongs to a candidate key.
    pub(crate) key: Option<KeyDecision>,
}

impl Header {
    /// Whether events may still arrive (the live tail polls while they may).
    pub(crate) fn in_progress(&self) -> bool {
        self.status != "ended"
    }
}

/// A decision in a list, linking to its place in the timeline.
pub(crate) struct DecisionLink {
    pub(crate) id: String,
    pub(crate) title: String,
    /// Its time of day.
    pub(crate) time: String,
    /// Its time since the session's start.
    pub(crate) offset: String,
    pub(crate) impact: Option<i64>,
}

/// Where a reviewer hires or rejects the candidate of a session.
pub(crate) struct KeyDecision {
    pub(crate) status: &'static str,
    pub(crate) path: String,
    pub(crate) can_hire: bool,
    pub(crate) can_reject: bool,
}

/// `Some(title)` of a live assessment, `None` when it was deleted or there is none.
fn assessment_title(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: Option<&str>,
) -> Result<Option<String>, StorageError> {
    let Some(id) = id else { return Ok(None) };
    match assessments::get(connection, org_id, id) {
        Ok(assessment) => Ok(Some(assessment.spec.title)),
        Err(StorageError::NotFound) => Ok(None),
        Err(other) => Err(other),
    }
}
