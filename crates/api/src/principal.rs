//! Who is calling, once authenticated: a reviewer (an org API key, or a user signed in to the web UI) or a
//! candidate with a key or token, and what that lets them reach (spec §2, §11). The rules per route are in
//! `crate::access`.

use traceline_domain::actor_ref::{ActorKind, ActorRef};
use traceline_domain::candidate_key::CandidateKey;
use traceline_domain::user::Role;
use traceline_domain::{OrgId, Scope, Scopes};
use traceline_storage::SessionScope;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// A hiring team's reviewer, by org API key or by the sign-in cookie.
    Reviewer(Reviewer),
    /// A candidate, by candidate key or session token; equivalent either way.
    Candidate(CandidateKey),
}

/// A reviewer: what they may do, and who they are when what they do is recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewer {
    /// The org they review for.
    pub org_id: OrgId,
    /// What they may do: a key's scopes; read and write for every signed-in user (spec §11).
    pub scopes: Scopes,
    /// Who acts: the user, or the API key.
    pub actor: ActorRef,
    /// A signed-in user's role; `None` for API keys.
    pub role: Option<Role>,
}

impl Reviewer {
    /// Whether they may manage users and API keys: admins, and API keys with the `write` scope (which spec §12
    /// puts on a par with admins for org settings).
    pub fn may_administer(&self) -> bool {
        match self.actor.kind {
            ActorKind::User => self.role == Some(Role::Admin),
            ActorKind::ApiKey => self.scopes.allows(Scope::Write),
        }
    }

    /// The signed-in user's id, when a user (not a key) is calling.
    pub fn user_id(&self) -> Option<&str> {
        (self.actor.kind == ActorKind::User).then_some(self.actor.id.as_str())
    }
}

impl Principal {
    /// The caller's org.
    pub fn org_id(&self) -> &OrgId {
        match self {
            Principal::Reviewer(reviewer) => &reviewer.org_id,
            Principal::Candidate(key) => &key.org_id,
        }
    }

    /// The candidate's key, for a candidate.
    pub fn candidate_key(&self) -> Option<&CandidateKey> {
        match self {
            Principal::Candidate(key) => Some(key),
            Principal::Reviewer(_) => None,
        }
    }

    /// The reviewer, for a reviewer.
    pub fn reviewer(&self) -> Option<&Reviewer> {
        match self {
            Principal::Reviewer(reviewer) => Some(reviewer),
            Principal::Candidate(_) => None,
        }
    }

    /// The sessions this caller may see: the whole org for reviewers, the key's own sessions for candidates.
    pub fn session_scope(&self) -> SessionScope {
        match self {
            Principal::Reviewer(reviewer) => SessionScope::org(reviewer.org_id.clone()),
            Principal::Candidate(key) => {
                SessionScope { org_id: key.org_id.clone(), candidate_key_id: Some(key.id.clone()) }
            }
        }
    }
}
