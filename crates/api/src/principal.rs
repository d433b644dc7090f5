//! Who is calling, once authenticated: a reviewer with an org API key, or a candidate with a key or token, and
//! what that lets them reach (spec §2). The rules per route are in `crate::access`.

use traceline_domain::audit::AuditActor;
use traceline_domain::candidate_key::CandidateKey;
use traceline_domain::{OrgId, Scopes};
use traceline_storage::SessionScope;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// A hiring team's reviewer, by org API key.
    Reviewer {
        /// The key's org.
        org_id: OrgId,
        /// What the key may do.
        scopes: Scopes,
        /// Who acts, as the audit log names them.
        actor: AuditActor,
    },
    /// A candidate, by candidate key or session token; equivalent either way.
    Candidate(CandidateKey),
}

impl Principal {
    /// The caller's org.
    pub fn org_id(&self) -> &OrgId {
        match self {
            Principal::Reviewer { org_id, .. } => org_id,
            Principal::Candidate(key) => &key.org_id,
        }
    }

    /// Who acts, as the audit log names them: `None` for candidates, whose changes are the record itself.
    pub fn actor(&self) -> Option<&AuditActor> {
        match self {
            Principal::Reviewer { actor, .. } => Some(actor),
            Principal::Candidate(_) => None,
        }
    }

    /// The candidate's key, for a candidate.
    pub fn candidate_key(&self) -> Option<&CandidateKey> {
        match self {
            Principal::Candidate(key) => Some(key),
            Principal::Reviewer { .. } => None,
        }
    }

    /// The sessions this caller may see: the whole org for reviewers, the key's own sessions for candidates.
    pub fn session_scope(&self) -> SessionScope {
        match self {
            Principal::Reviewer { org_id, .. } => SessionScope::org(org_id.clone()),
            Principal::Candidate(key) => {
                SessionScope { org_id: key.org_id.clone(), candidate_key_id: Some(key.id.clone()) }
            }
        }
    }
}
