//! The session scope: which sessions a caller may see. Every session query takes one (ARCHITECTURE.md).

use traceline_domain::OrgId;

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
}
