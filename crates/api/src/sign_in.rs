//! Signing in with a password and the `traceline_session` cookie that follows (spec §11): checking a password,
//! starting and ending a sign-in, and authenticating the cookie on later requests, pages and `/v1/*` alike.

use std::net::IpAddr;
use std::time::SystemTime;

use actix_web::http::header;
use actix_web::HttpRequest;
use chrono::Utc;
use traceline_domain::actor_ref::ActorRef;
use traceline_domain::api_key::hash_secret;
use traceline_domain::sign_in::{looks_like_sign_in_token, SignInToken, COOKIE_NAME, MAX_AGE};
use traceline_domain::time::to_storage_precision;
use traceline_domain::user::{normalize_email, User, MAX_PASSWORD_CHARS};
use traceline_domain::Scopes;
use traceline_storage::{sign_ins, users};

use crate::error::ApiError;
use crate::origin::{changes_state, is_same_origin};
use crate::password::{verify_decoy, verify_password};
use crate::principal::{Principal, Reviewer};
use crate::random::os_random;
use crate::rate_limit::{RateDecision, Refused};
use crate::state::AppState;

/// The token in the request's sign-in cookie, if it sent one.
pub(crate) fn cookie_token(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim().to_owned())
}

/// Authenticates the sign-in cookie's token: the signed-in user as a reviewer of their org with read and write.
/// A state-changing request must also come from the same origin (403 otherwise), checked before any lookup.
pub(crate) async fn authenticate_cookie(
    state: &AppState,
    request: &HttpRequest,
    token: String,
) -> Result<Principal, ApiError> {
    if changes_state(request.method())
        && !is_same_origin(request, state.settings.public_url.as_deref())
    {
        return Err(ApiError::Forbidden(
            "a request signed in with the cookie must come from Traceline's own pages",
        ));
    }
    let (user, _) = current_user(state, token).await?.ok_or(ApiError::Unauthorized)?;
    Ok(Principal::Reviewer(Reviewer {
        org_id: user.org_id.clone(),
        scopes: Scopes::READ_WRITE,
        actor: ActorRef::user(&user.id, &user.name),
        role: Some(user.role),
    }))
}

/// The user signed in under `token` and the token's hash, if the sign-in is still current; records the use
/// (at most once a minute, see `SignInSpan::needs_touch`).
pub(crate) async fn current_user(
    state: &AppState,
    token: String,
) -> Result<Option<(User, String)>, ApiError> {
    if !looks_like_sign_in_token(&token) {
        return Ok(None);
    }
    let token_hash = hash_secret(&token);
    let lookup = token_hash.clone();
    let Some((user, span)) =
        state.read(move |connection| sign_ins::find(connection, &lookup)).await?
    else {
        return Ok(None);
    };
    let now = to_storage_precision(Utc::now());
    if !span.is_current(now) {
        return Ok(None);
    }
    if span.needs_touch(now) {
        let touched = token_hash.clone();
        // Losing one touch only moves the idle deadline a minute earlier: not worth failing the request for.
        if let Err(error) =
            state.write(move |connection| sign_ins::touch(connection, &touched, now)).await
        {
            log::warn!("could not record the use of a sign-in: {error}");
        }
    }
    Ok(Some((user, token_hash)))
}

/// Why a sign-in was refused.
#[derive(Debug)]
pub(crate) enum SignInRefused {
    /// Wrong address or wrong password: one answer for both.
    Mismatch,
    /// The right password for a disabled account.
    Disabled,
    /// Too many failures from this address; carries the limit's decision for `Retry-After`.
    TooManyFailures(RateDecision),
    /// The server could not decide.
    Failed(ApiError),
}

/// A successful sign-in: the token for the cookie.
pub(crate) struct SignedIn {
    /// The token for the cookie.
    pub(crate) token: SignInToken,
}

/// Checks `email` and `password` and starts a sign-in. Failures count against the client's address (spec
/// §10.3), and an address over the limit is refused before anything is checked.
pub(crate) async fn sign_in(
    state: &AppState,
    client: Option<IpAddr>,
    email: &str,
    password: String,
) -> Result<SignedIn, SignInRefused> {
    let failures = &state.rate_limits.failed_credentials;
    if let Some(refusal) = client.and_then(|client| failures.refusal(client, SystemTime::now())) {
        return Err(SignInRefused::TooManyFailures(refusal));
    }
    let found = match normalize_email(email) {
        Some(email) => state
            .read(move |connection| users::find_by_email(connection, &email))
            .await
            .map_err(SignInRefused::Failed)?,
        None => None,
    };
    let matched = actix_web::web::block(move || match &found {
        // Over-long passwords are refused before hashing, like a wrong one.
        Some(_) if password.chars().count() > MAX_PASSWORD_CHARS => None,
        Some((user, hash)) if verify_password(&password, hash) => Some(user.clone()),
        Some(_) => None,
        None => {
            verify_decoy(&password);
            None
        }
    })
    .await
    .map_err(|error| SignInRefused::Failed(error.into()))?;
    let Some(user) = matched else {
        if let Some(client) = client {
            failures.record(client, SystemTime::now());
        }
        return Err(SignInRefused::Mismatch);
    };
    if !user.is_enabled() {
        return Err(SignInRefused::Disabled);
    }
    let token = SignInToken::generate(&mut os_random)
        .map_err(|error| SignInRefused::Failed(ApiError::Internal(error.into())))?;
    let token_hash = token.hash();
    let now = to_storage_precision(Utc::now());
    state
        .write(move |connection| sign_ins::insert(connection, &token_hash, &user.id, now))
        .await
        .map_err(SignInRefused::Failed)?;
    Ok(SignedIn { token })
}

impl From<SignInRefused> for ApiError {
    fn from(refused: SignInRefused) -> Self {
        match refused {
            SignInRefused::Mismatch | SignInRefused::Disabled => ApiError::Unauthorized,
            SignInRefused::TooManyFailures(decision) => Refused(decision).into(),
            SignInRefused::Failed(error) => error,
        }
    }
}

/// Ends the sign-in under `token`, if there is one.
pub(crate) async fn sign_out(state: &AppState, token: &str) -> Result<(), ApiError> {
    let token_hash = hash_secret(token);
    state.write(move |connection| sign_ins::delete(connection, &token_hash)).await
}

/// The `Set-Cookie` value that hands a browser its sign-in: `HttpOnly`, `SameSite=Strict`, `Path=/`, and
/// `Secure` when the server is reached over HTTPS. It lives as long as a sign-in can (the server ends idle ones
/// sooner).
pub(crate) fn session_cookie(state: &AppState, token: &SignInToken) -> String {
    cookie(state, token.expose(), MAX_AGE.num_seconds())
}

/// The `Set-Cookie` value that makes a browser forget its sign-in.
pub(crate) fn cleared_cookie(state: &AppState) -> String {
    cookie(state, "", 0)
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.settings.served_over_https() { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}
