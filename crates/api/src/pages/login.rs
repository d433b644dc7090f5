//! `/login` and `/logout` (spec §11): the sign-in form, checking it, and ending a sign-in. These are plain form
//! posts, so signing in works without JavaScript.

use std::net::IpAddr;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::layout::Layout;
use super::render::{html, see_other, PageError};
use crate::client_address::ClientAddress;
use crate::error::ApiError;
use crate::origin::is_same_origin;
use crate::request::query_params;
use crate::sign_in::{
    cleared_cookie, cookie_token, current_user, session_cookie, sign_in, sign_out as end,
    SignInRefused,
};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    /// Where to go after signing in (a path on this server).
    next: String,
    /// The address typed, kept after a failed attempt.
    email: String,
    problem: Option<String>,
}

/// `GET /login?next=`: the form, or straight on when the browser is already signed in.
pub(super) async fn form(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let params = query_params(request.query_string())?;
    let next = safe_next(params.get("next").map(String::as_str));
    if let Some(token) = cookie_token(&request) {
        if current_user(&state, token).await?.is_some() {
            return Ok(see_other(&next));
        }
    }
    page(StatusCode::OK, next, String::new(), None)
}

/// `POST /login`: checks the address and password; on success sets the cookie and goes on to `next`.
pub(super) async fn submit(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    if !is_same_origin(&request, state.settings.public_url.as_deref()) {
        return Err(ApiError::Forbidden("sign in from Traceline's own sign-in page").into());
    }
    let form = std::str::from_utf8(&body)
        .map_err(|_| PageError(ApiError::invalid_body(Default::default())))
        .and_then(|text| query_params(text).map_err(PageError))?;
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let (email, password, next) =
        (field("email"), field("password"), safe_next(form.get("next").map(String::as_str)));
    match sign_in(&state, client_address(&request), &email, password).await {
        Ok(signed_in) => {
            let mut response = see_other(&next);
            let cookie = HeaderValue::from_str(&session_cookie(&state, &signed_in.token))
                .map_err(|error| PageError(ApiError::Internal(error.into())))?;
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Err(SignInRefused::Mismatch) => {
            page(StatusCode::UNAUTHORIZED, next, email, Some("Wrong email or password.".to_owned()))
        }
        Err(SignInRefused::Disabled) => page(
            StatusCode::FORBIDDEN,
            next,
            email,
            Some(
                "This account is disabled. An admin of your organisation can enable it again."
                    .to_owned(),
            ),
        ),
        Err(SignInRefused::TooManyFailures(decision)) => {
            let minutes = decision.retry_after_secs.div_ceil(60);
            let mut response = page(
                StatusCode::TOO_MANY_REQUESTS,
                next,
                email,
                Some(format!(
                    "Too many failed sign-ins from your network. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                )),
            )?;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(decision.retry_after_secs));
            Ok(response)
        }
        Err(SignInRefused::Failed(error)) => Err(error.into()),
    }
}

/// `POST /logout`: ends the sign-in and forgets the cookie.
pub(super) async fn sign_out(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    if !is_same_origin(&request, state.settings.public_url.as_deref()) {
        return Err(ApiError::Forbidden("sign out from Traceline's own pages").into());
    }
    if let Some(token) = cookie_token(&request) {
        end(&state, &token).await?;
    }
    let mut response = see_other("/login");
    let cookie = HeaderValue::from_str(&cleared_cookie(&state))
        .map_err(|error| PageError(ApiError::Internal(error.into())))?;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

fn page(
    status: StatusCode,
    next: String,
    email: String,
    problem: Option<String>,
) -> Result<HttpResponse, PageError> {
    html(status, &LoginPage { layout: Layout::new("/login", None), next, email, problem })
}

/// Where to go after signing in: a path on this server, never another site (`//evil.example`, `/\evil`).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The address failed sign-ins are counted against: the client's, as `TRACELINE_TRUSTED_PROXIES` lets the
/// forwarding headers name it (the TCP peer otherwise).
fn client_address(request: &HttpRequest) -> Option<IpAddr> {
    ClientAddress::of(request).map(ClientAddress::ip)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next(Some("/sessions/1?x=2#evt-3")), "/sessions/1?x=2#evt-3");
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
