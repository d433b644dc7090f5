//! A short-lived in-process cache of authenticated credentials, so the hot ingest path does not pay a database
//! read (and a hop to the blocking pool) on every request.
//!
//! Entries live for a few seconds. Revoking a key or deleting an assessment clears the cache of this process at
//! once; another instance behind the same load balancer may accept a revoked credential until its entries
//! expire (at most [`CREDENTIAL_TTL`]). Expiry (`expiresAt`) is checked on every use, cached or not.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::principal::Principal;

/// How long a looked-up credential is trusted without asking the database again.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(5);
/// Entries kept at most; past this the cache starts over, which bounds memory under a flood of distinct keys.
const MAX_ENTRIES: usize = 10_000;

/// Credentials by the SHA-256 of what was presented.
#[derive(Debug, Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl CredentialCache {
    /// The principal cached for `credential_hash`, if it is still fresh at `now`.
    pub fn get(&self, credential_hash: &str, now: Instant) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(credential_hash)
            .filter(|(_, fetched)| now.saturating_duration_since(*fetched) < CREDENTIAL_TTL)
            .map(|(principal, _)| principal.clone())
    }

    /// Remembers what a database lookup found.
    pub fn insert(&self, credential_hash: String, principal: Principal, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(credential_hash, (principal, now));
    }

    /// Forgets everything: called when a credential may just have stopped being valid.
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

#[cfg(test)]
mod tests {
    use traceline_domain::actor_ref::ActorRef;
    use traceline_domain::{OrgId, Scopes};

    use super::*;
    use crate::principal::Reviewer;

    fn reviewer() -> Principal {
        Principal::Reviewer(Reviewer {
            org_id: OrgId::new("org"),
            scopes: Scopes::READ,
            actor: ActorRef::api_key("key-1", "CI"),
            role: None,
        })
    }

    #[test]
    fn entries_expire_and_clear() {
        let cache = CredentialCache::default();
        let start = Instant::now();
        cache.insert("h".into(), reviewer(), start);
        assert_eq!(cache.get("h", start + Duration::from_secs(1)), Some(reviewer()));
        assert_eq!(cache.get("h", start + CREDENTIAL_TTL), None);
        assert_eq!(cache.get("other", start), None);
        cache.clear();
        assert_eq!(cache.get("h", start), None);
    }
}
