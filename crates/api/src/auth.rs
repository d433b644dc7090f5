//! Authentication: reading the credential a request presents and finding whose it is (spec §2).
//!
//! Reviewers send `Authorization: Bearer psk_live_…`; candidates send their key (`PST-XXXX-XXXX`, any case) or a
//! session token (`pst_sess_…`) as `X-API-Key`. Every failure is the same 401, so a caller learns nothing about
//! which part of a credential was wrong.
//!
//! Every credential presented and refused (malformed, unknown, revoked or expired alike, so the limit itself
//! tells nothing apart) counts against the client's address; an address over its limit is refused 429 before
//! its credential is even read (spec §10.3, `crate::rate_limit`).

use std::time::{Instant, SystemTime};

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use chrono::Utc;
use traceline_domain::api_key::{hash_secret, looks_like_api_key, ApiKey};
use traceline_domain::audit::AuditActor;
use traceline_domain::candidate_key::{looks_like_session_token, normalize_key};
use traceline_domain::time::to_storage_precision;
use traceline_storage::{api_keys, candidate_keys, AnyConnection, StorageError};

use crate::client_address::ClientAddress;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::AppState;

/// A credential as presented, classified by its shape before any lookup.
enum Presented {
    ApiKey(String),
    CandidateKey(String),
    SessionToken(String),
}

/// Authenticates the request's credential (spec §2): a cached or stored reviewer key, candidate key or session
/// token, or 401 with the same body whatever was wrong with it; 429 first for a client address over its limit of
/// failed credentials.
pub(crate) async fn authenticate(request: &HttpRequest) -> Result<Principal, ApiError> {
    let state = app_state(request)?;
    refuse_blocked_client(request, &state)?;
    let presented = match presented_credential(request) {
        Credential::Absent => return Err(ApiError::Unauthorized),
        Credential::Malformed => return Err(failed(request, &state)),
        Credential::Presented(presented) => presented,
    };
    let cache_key = presented.hash();
    let principal = match state.credentials.get(&cache_key, Instant::now()) {
        Some(principal) => Some(principal),
        None => {
            let lookup = state.credentials.start_lookup(Instant::now());
            let found = state.read(move |connection| look_up(connection, presented)).await?;
            if let Some((principal, key)) = &found {
                state.credentials.insert(cache_key, principal.clone(), lookup);
                if let Some(key) = key {
                    record_use(&state, key).await;
                }
            }
            found.map(|(principal, _)| principal)
        }
    };
    match principal {
        Some(Principal::Candidate(key)) if !key.authenticates_at(Utc::now()) => {
            Err(failed(request, &state))
        }
        Some(principal) => Ok(principal),
        None => Err(failed(request, &state)),
    }
}

/// The application's state, which every app built by `create_app` has.
pub(crate) fn app_state(request: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state is missing")))
}

/// 429 for a client address that has used up its failed credential checks.
pub(crate) fn refuse_blocked_client(
    request: &HttpRequest,
    state: &AppState,
) -> Result<(), ApiError> {
    match ClientAddress::of(request) {
        Some(client) => {
            Ok(state.rate_limits.check_auth_failures(client.ip(), SystemTime::now())?)
        }
        None => Ok(()),
    }
}

/// Counts a refused credential against the client's address and returns the 401 to answer.
pub(crate) fn failed(request: &HttpRequest, state: &AppState) -> ApiError {
    if let Some(client) = ClientAddress::of(request) {
        state.rate_limits.count_auth_failure(client.ip(), SystemTime::now());
    }
    ApiError::Unauthorized
}

/// Writes that an API key was used when the stored time is more than a minute old: one write a minute per key
/// at most, since lookups are cached. A failure to write it is logged, never a reason to refuse the request.
async fn record_use(state: &AppState, key: &ApiKey) {
    let now = to_storage_precision(Utc::now());
    if !api_keys::use_is_stale(key, now) {
        return;
    }
    let id = key.id.clone();
    if let Err(error) = state.write(move |connection| api_keys::touch(connection, &id, now)).await {
        log::warn!("could not record the use of an API key: {error}");
    }
}

impl Presented {
    /// The SHA-256 of the credential as matched (candidate keys in canonical case), its cache and lookup key.
    fn hash(&self) -> String {
        match self {
            Presented::ApiKey(secret) => hash_secret(secret),
            Presented::CandidateKey(key) => hash_secret(key),
            Presented::SessionToken(token) => hash_secret(token),
        }
    }
}

/// The principal a credential stands for, with the API key behind a reviewer (whose use is recorded).
fn look_up(
    connection: &mut AnyConnection,
    presented: Presented,
) -> Result<Option<(Principal, Option<ApiKey>)>, StorageError> {
    Ok(match presented {
        Presented::ApiKey(secret) => {
            api_keys::find_active_by_hash(connection, &hash_secret(&secret))?.map(|key| {
                let principal = Principal::Reviewer {
                    org_id: key.org_id.clone(),
                    scopes: key.scopes,
                    actor: AuditActor::api_key(key.id.clone(), key.display_name()),
                };
                (principal, Some(key))
            })
        }
        Presented::CandidateKey(key) => candidate_keys::find_by_key(connection, &key)?
            .map(|key| (Principal::Candidate(key), None)),
        Presented::SessionToken(token) => {
            candidate_keys::find_by_token_hash(connection, &hash_secret(&token))?
                .map(|key| (Principal::Candidate(key), None))
        }
    })
}

/// What a request presents as its credential.
enum Credential {
    /// No credential at all.
    Absent,
    /// A header that cannot hold any credential: a scheme other than Bearer, bytes that are not text, a token of
    /// no known shape.
    Malformed,
    /// A credential of a known shape, to look up.
    Presented(Presented),
}

/// Reads the credential: the bearer token if there is an `Authorization` header, else `X-API-Key`. Candidate
/// credentials are also accepted as bearer tokens, since some clients only know how to send those.
fn presented_credential(request: &HttpRequest) -> Credential {
    let header_text = |name| request.headers().get(name).map(|value| value.to_str().map(str::trim));
    let raw = match header_text(header::AUTHORIZATION) {
        Some(Err(_)) => return Credential::Malformed,
        // A header with no token (`Authorization:` or a bare `Bearer`) presents no credential: clients and API
        // tools send one by default, and it must not hide the candidate's X-API-Key. One that carries a token,
        // even a wrong one, is the credential, and is judged as such.
        Some(Ok(value)) if !value.is_empty() && !value.eq_ignore_ascii_case("bearer") => {
            match value.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                    token.trim().to_owned()
                }
                _ => return Credential::Malformed,
            }
        }
        _ => match header_text(header::HeaderName::from_static("x-api-key")) {
            None => return Credential::Absent,
            Some(Err(_)) => return Credential::Malformed,
            Some(Ok("")) => return Credential::Absent,
            Some(Ok(value)) => value.to_owned(),
        },
    };
    if looks_like_api_key(&raw) {
        Credential::Presented(Presented::ApiKey(raw))
    } else if looks_like_session_token(&raw) {
        Credential::Presented(Presented::SessionToken(raw))
    } else {
        normalize_key(&raw).map_or(Credential::Malformed, |key| {
            Credential::Presented(Presented::CandidateKey(key))
        })
    }
}
