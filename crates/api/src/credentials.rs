//! A short-lived in-process cache of authenticated credentials, so the hot ingest path does not pay a database
//! read (and a hop to the blocking pool) on every request.
//!
//! Entries live for a few seconds. Revoking a key or deleting an assessment clears the cache of this process at
//! once; another instance behind the same load balancer may accept a revoked credential until its entries
//! expire: at most [`CREDENTIAL_TTL`] after the revocation, since an entry's age counts from the moment its
//! lookup started, not from when it finished. A lookup that was under way when the cache was cleared is not
//! cached at all (each clear starts a new generation), so it cannot bring back what the clear removed.
//! Expiry (`expiresAt`) is checked on every use, cached or not.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::principal::Principal;

/// How long a looked-up credential is trusted without asking the database again. Spec §10.3 wants a revoked key
/// refused by every instance within 5 seconds; a second's margin covers the lookup itself and the revoking write.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(4);
/// Entries kept at most; past this the cache starts over, which bounds memory under a flood of distinct keys.
const MAX_ENTRIES: usize = 10_000;

/// Credentials by the SHA-256 of what was presented.
#[derive(Debug, Default)]
pub struct CredentialCache {
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// Incremented by every clear.
    generation: u64,
    by_hash: HashMap<String, (Principal, Instant)>,
}

/// When a lookup started: the instant its result's age counts from, and the cache generation it read in.
#[derive(Debug, Clone, Copy)]
pub struct LookupStart {
    at: Instant,
    generation: u64,
}

impl CredentialCache {
    /// Marks the start of a database lookup whose result may be [`CredentialCache::insert`]ed.
    pub fn start_lookup(&self, now: Instant) -> LookupStart {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        LookupStart { at: now, generation: entries.generation }
    }

    /// The principal cached for `credential_hash`, if it is still fresh at `now`.
    pub fn get(&self, credential_hash: &str, now: Instant) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .by_hash
            .get(credential_hash)
            .filter(|(_, fetched)| now.saturating_duration_since(*fetched) < CREDENTIAL_TTL)
            .map(|(principal, _)| principal.clone())
    }

    /// Remembers what a database lookup begun at `started` found, unless the cache was cleared since.
    pub fn insert(&self, credential_hash: String, principal: Principal, started: LookupStart) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.generation != started.generation {
            return;
        }
        if entries.by_hash.len() >= MAX_ENTRIES {
            entries.by_hash.clear();
        }
        entries.by_hash.insert(credential_hash, (principal, started.at));
    }

    /// Forgets everything: called when a credential may just have stopped being valid.
    pub fn clear(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.generation += 1;
        entries.by_hash.clear();
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
        cache.insert("h".into(), reviewer(), cache.start_lookup(start));
        assert_eq!(cache.get("h", start + Duration::from_secs(1)), Some(reviewer()));
        assert_eq!(cache.get("h", start + CREDENTIAL_TTL), None);
        assert_eq!(cache.get("other", start), None);
        cache.clear();
        assert_eq!(cache.get("h", start), None);
    }
}
