//! Assessments: created and soft-deleted by reviewers; deleting one retires its keys.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use traceline_domain::assessment::{Assessment, AssessmentSpec};
use traceline_domain::OrgId;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, to_stored_time};
use crate::schema::{assessments, candidate_keys};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = assessments)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct AssessmentRow {
    id: String,
    org_id: String,
    title: String,
    role: String,
    task_brief: String,
    repo_url: Option<String>,
    time_limit_minutes: Option<i64>,
    expires_in_days: i64,
    allowed_tools: Option<String>,
    created_at: NaiveDateTime,
}

impl TryFrom<AssessmentRow> for Assessment {
    type Error = StorageError;

    fn try_from(row: AssessmentRow) -> Result<Self, StorageError> {
        let allowed_tools = row
            .allowed_tools
            .map(|text| {
                serde_json::from_str::<Vec<String>>(&text).map_err(|error| {
                    StorageError::Corrupt(format!("assessments.allowed_tools: {error}"))
                })
            })
            .transpose()?;
        Ok(Assessment {
            id: row.id,
            org_id: OrgId::new(row.org_id),
            spec: AssessmentSpec {
                title: row.title,
                role: row.role,
                task_brief: row.task_brief,
                repo_url: row.repo_url,
                time_limit_minutes: row.time_limit_minutes,
                expires_in_days: row.expires_in_days,
                allowed_tools,
            },
            created_at: from_stored_time(row.created_at),
        })
    }
}

/// Stores a new assessment.
pub fn insert(connection: &mut AnyConnection, assessment: &Assessment) -> Result<(), StorageError> {
    let spec = &assessment.spec;
    let row = AssessmentRow {
        id: assessment.id.clone(),
        org_id: assessment.org_id.as_str().to_owned(),
        title: spec.title.clone(),
        role: spec.role.clone(),
        task_brief: spec.task_brief.clone(),
        repo_url: spec.repo_url.clone(),
        time_limit_minutes: spec.time_limit_minutes,
        expires_in_days: spec.expires_in_days,
        allowed_tools: spec
            .allowed_tools
            .as_ref()
            .map(|tools| serde_json::Value::from(tools.clone()).to_string()),
        created_at: to_stored_time(assessment.created_at),
    };
    diesel::insert_into(assessments::table).values(&row).execute(connection)?;
    Ok(())
}

/// The org's assessments that are not deleted, in creation order.
pub fn list(
    connection: &mut AnyConnection,
    org_id: &OrgId,
) -> Result<Vec<Assessment>, StorageError> {
    assessments::table
        .filter(assessments::org_id.eq(org_id.as_str()))
        .filter(assessments::deleted_at.is_null())
        .order((assessments::created_at.asc(), assessments::id.asc()))
        .select(AssessmentRow::as_select())
        .load(connection)?
        .into_iter()
        .map(Assessment::try_from)
        .collect()
}

/// The org's assessment with this id, unless deleted; otherwise [`StorageError::NotFound`].
pub fn get(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: &str,
) -> Result<Assessment, StorageError> {
    assessments::table
        .filter(assessments::id.eq(id))
        .filter(assessments::org_id.eq(org_id.as_str()))
        .filter(assessments::deleted_at.is_null())
        .select(AssessmentRow::as_select())
        .first(connection)?
        .try_into()
}

/// Soft-deletes the assessment and revokes its keys, so no candidate credential of it authenticates again.
/// Its sessions stay.
pub fn soft_delete(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    get(connection, org_id, id)?;
    let now = to_stored_time(now);
    diesel::update(assessments::table.find(id))
        .set(assessments::deleted_at.eq(now))
        .execute(connection)?;
    diesel::update(
        candidate_keys::table
            .filter(candidate_keys::assessment_id.eq(id))
            .filter(candidate_keys::revoked_at.is_null()),
    )
    .set(candidate_keys::revoked_at.eq(now))
    .execute(connection)?;
    Ok(())
}
