//! Writing the audit log (spec §10.4): each reviewer's change records who made it, in the transaction of the
//! change, so the log holds an entry exactly when the change happened.

use chrono::{DateTime, Utc};
use serde_json::Value;
use traceline_domain::actor_ref::ActorRef;
use traceline_domain::audit::{AuditAction, AuditEntry};
use traceline_domain::OrgId;
use traceline_storage::{audit, AnyConnection, StorageError};
use uuid::Uuid;

use crate::principal::Principal;

/// Who is acting and when, carried into a write's transaction to record what it changes. Candidates' writes are
/// the record itself, not changes to it, so they leave no entry.
#[derive(Debug, Clone)]
pub(crate) struct Audit(Option<(OrgId, ActorRef, DateTime<Utc>)>);

impl Audit {
    /// The audit of changes `principal` makes at `at`.
    pub(crate) fn by(principal: &Principal, at: DateTime<Utc>) -> Self {
        Audit(
            principal
                .reviewer()
                .map(|reviewer| (reviewer.org_id.clone(), reviewer.actor.clone(), at)),
        )
    }

    /// Records that the actor did `action` to `target_id`, with `details` (a JSON object; anything else is
    /// recorded as `{}`).
    pub(crate) fn record(
        &self,
        connection: &mut AnyConnection,
        action: AuditAction,
        target_id: &str,
        details: Value,
    ) -> Result<(), StorageError> {
        let Some((org_id, actor, at)) = &self.0 else {
            return Ok(());
        };
        let details = match details {
            Value::Object(details) => details,
            _ => Default::default(),
        };
        let entry =
            AuditEntry::new(Uuid::now_v7().to_string(), *at, actor, action, target_id, details);
        audit::record(connection, org_id, &entry)
    }
}
