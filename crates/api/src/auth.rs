//! Authentication: reading the credential a request presents and finding whose it is (spec §2).
//!
//! Reviewers send `Authorization: Bearer psk_live_…`, or, in a browser, the sign-in cookie (`crate::sign_in`);
//! candidates send their key (`PST-XXXX-XXXX`, any case) or a session token (`pst_sess_…`) as `X-API-Key`. A
//! credential in a header wins over the cookie. Every failure is the same 401, so a caller learns nothing about
//! which part of a credential was wrong.
//!
//! Every credential presented in a header and refused (malformed, unknown, revoked or expired alike, so the limit
//! itself tells none of them apart) counts against the client's address; an address over its limit is refused
//! 429 before its credential is even read (spec §10.3, `crate::rate_limit::FailedAttempts`). A stale cookie is
//! not a guess, and does not count.

use std::time::{Instant, SystemTime};

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use chrono::Utc;
use traceline_domain::actor_ref::ActorRef;
use traceline_domain::api_key::{hash_secret, looks_like_api_key};
use traceline_domain::candidate_key::{looks_like_session_token, normalize_key};
use traceline_domain::time::to_storage_precision;
use traceline_storage::api_keys::ApiKeyGrant;
use traceline_storage::{api_keys, candidate_keys, AnyConnection, StorageError};

use crate::client_address::ClientAddress;
use crate::error::ApiError;
use crate::principal::{Principal, Reviewer};
use crate::rate_limit::Refused;
use crate::sign_in::{authenticate_cookie, cookie_token};
use crate::state::AppState;

/// A credential as presented, classified by its shape before any lookup.
enum Presented {
    ApiKey(String),
    CandidateKey(String),
    SessionToken(String),
}

/// Authenticates the request's credential (spec §2, §11): a cached or stored reviewer key, candidate key or
/// session token, else the sign-in cookie; or 401 with the same body whatever was wrong with it; 429 first for a
/// client address over its limit of failed credentials.
pub(crate) async fn authenticate(request: &HttpRequest) -> Result<Principal, ApiError> {
    let state = app_state(request)?;
    refuse_blocked_client(request, &state)?;
    let presented = match presented_credential(request) {
        // Only a request without any credential header falls back to the cookie: a wrong key is a wrong key.
        Credential::Absent => {
            return match cookie_token(request) {
                Some(token) => authenticate_cookie(&state, request, token).await,
                None => Err(ApiError::Unauthorized),
            }
        }
        Credential::Malformed => return Err(failed(request, &state)),
        Credential::Presented(presented) => presented,
    };
    let cache_key = presented.hash();
    let principal = match state.credentials.get(&cache_key, Instant::now()) {
        Some(principal) => Some(principal),
        None => {
            let lookup = state.credentials.start_lookup(Instant::now());
            let found = state.read(move |connection| look_up(connection, presented)).await?;
            if let Some((principal, touch)) = &found {
                state.credentials.insert(cache_key, principal.clone(), lookup);
                if let Some(key_id) = touch.clone() {
                    record_use(&state, key_id).await;
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
    let client = ClientAddress::of(request);
    let refusal = client.and_then(|client| {
        state.rate_limits.failed_credentials.refusal(client.ip(), SystemTime::now())
    });
    match refusal {
        Some(decision) => Err(ApiError::from(Refused(decision))),
        None => Ok(()),
    }
}

/// Counts a refused credential against the client's address and returns the 401 to answer.
pub(crate) fn failed(request: &HttpRequest, state: &AppState) -> ApiError {
    if let Some(client) = ClientAddress::of(request) {
        state.rate_limits.failed_credentials.record(client.ip(), SystemTime::now());
    }
    ApiError::Unauthorized
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

/// The principal a credential stands for, and, for an API key whose last use is stale, its id, so the use is
/// recorded (`lastUsedAt`, spec §10.3).
fn look_up(
    connection: &mut AnyConnection,
    presented: Presented,
) -> Result<Option<(Principal, Option<String>)>, StorageError> {
    Ok(match presented {
        Presented::ApiKey(secret) => {
            api_keys::find_active_by_hash(connection, &hash_secret(&secret))?.map(|grant| {
                let touch = grant.needs_touch(Utc::now()).then(|| grant.key_id.clone());
                (reviewer_of(grant), touch)
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

fn reviewer_of(grant: ApiKeyGrant) -> Principal {
    Principal::Reviewer(Reviewer {
        actor: ActorRef::api_key(grant.key_id, grant.name),
        org_id: grant.org_id,
        scopes: grant.scopes,
        role: None,
    })
}

/// Writes a key's `lastUsedAt`. A failure is logged, not answered: the request itself is authenticated.
async fn record_use(state: &AppState, key_id: String) {
    let now = to_storage_precision(Utc::now());
    if let Err(error) =
        state.write(move |connection| api_keys::touch(connection, &key_id, now)).await
    {
        log::warn!("could not record the use of an API key: {error}");
    }
}

/// What a request presents as its credential.
enum Credential {
    /// No credential header at all.
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
