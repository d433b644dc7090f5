//! The session scope: which sessions a caller may see. Every session query takes one (ARCHITECTURE.md).

use diesel::prelude::*;
use traceline_domain::OrgId;

use crate::connection::AnyConnection;
use crate::schema::sessions;

type AnyBackend = <AnyConnection as Connection>::Backend;

/// Which sessions a caller may see: those of one org, narrowed to one candidate key for candidate credentials.
///
/// Every read and write of a session goes through a scope, so a session outside it is indistinguishable from a
/// missing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionScope {
    /// The caller's org.
    pub org_id: OrgId,
    /// For candidate credentials, the key whose sessions they are.
    pub candidate_key_id: Option<String>,
}

impl SessionScope {
    /// A reviewer's scope: the whole org.
    pub fn org(org_id: OrgId) -> Self {
        Self { org_id, candidate_key_id: None }
    }

    /// The sessions table narrowed to this scope: every session query starts here.
    pub(crate) fn sessions(&self) -> sessions::BoxedQuery<'_, AnyBackend> {
        let query = sessions::table.filter(sessions::org_id.eq(self.org_id.as_str())).into_boxed();
        match &self.candidate_key_id {
            Some(key_id) => query.filter(sessions::candidate_key_id.eq(key_id)),
            None => query,
        }
    }
}
