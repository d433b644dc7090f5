//! Who may call a route, stated once per route in the route table (`crate::routes`) and the page table
//! (`crate::pages`) and enforced from there: every non-public route is wrapped in [`enforce`], which
//! authenticates the caller and applies the route's rule before the handler runs (and before its body is read).
//! Handlers then take the [`Principal`] (or the narrower [`Candidate`]) as already judged. API routes answer a
//! refusal with JSON, pages with a page: the rule is the same, only its [`Refuse`] differs.

use std::future::{ready, Ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use traceline_domain::candidate_key::CandidateKey;
use traceline_domain::Scope;

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::principal::Principal;

/// A route's access rule: published as `x-access` in the OpenAPI document, enforced by [`enforce`], and the
/// source of every expected status in the tenancy matrix test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// No credential is read.
    Public,
    /// Reviewers whose key has the scope; candidates get 403.
    Reviewer(Scope),
    /// Reviewers whose key has the scope, and candidates within their own sessions.
    Shared(Scope),
    /// Candidate credentials only; reviewers get 403.
    Candidate,
    /// Admin users, and API keys with the `write` scope (spec §11, §12); other reviewers and candidates get 403.
    Admin,
    /// Users signed in to the web UI; API keys and candidates get 403.
    SignedIn,
}

impl Access {
    /// The rule's name in the document's `x-access`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::Reviewer(Scope::Read) => "reviewer:read",
            Access::Reviewer(Scope::Write) => "reviewer:write",
            Access::Shared(Scope::Read) => "shared:read",
            Access::Shared(Scope::Write) => "shared:write",
            Access::Candidate => "candidate",
            Access::Admin => "admin",
            Access::SignedIn => "user",
        }
    }

    /// Whether `principal` may call a route with this rule: 403 with the reason when not.
    pub(crate) fn permits(self, principal: &Principal) -> Result<(), ApiError> {
        let scope_of = |scopes: &traceline_domain::Scopes, scope: Scope| {
            if scopes.allows(scope) {
                Ok(())
            } else {
                Err(ApiError::Forbidden(match scope {
                    Scope::Read => "this API key lacks the read scope",
                    Scope::Write => "this API key lacks the write scope",
                }))
            }
        };
        match (self, principal) {
            (Access::Public, _) | (Access::Shared(_), Principal::Candidate(_)) => Ok(()),
            (Access::Reviewer(scope) | Access::Shared(scope), Principal::Reviewer(reviewer)) => {
                scope_of(&reviewer.scopes, scope)
            }
            (Access::Reviewer(_) | Access::Admin | Access::SignedIn, Principal::Candidate(_)) => {
                Err(ApiError::Forbidden("candidate credentials cannot use this route"))
            }
            (Access::Candidate, Principal::Candidate(_)) => Ok(()),
            (Access::Candidate, Principal::Reviewer(_)) => {
                Err(ApiError::Forbidden("this route takes a candidate credential"))
            }
            (Access::Admin, Principal::Reviewer(reviewer)) => {
                if reviewer.may_administer() {
                    Ok(())
                } else if reviewer.user_id().is_some() {
                    Err(ApiError::Forbidden("only admins may manage users and API keys"))
                } else {
                    scope_of(&reviewer.scopes, Scope::Write)
                }
            }
            (Access::SignedIn, Principal::Reviewer(reviewer)) => match reviewer.user_id() {
                Some(_) => Ok(()),
                None => Err(ApiError::Forbidden("this route is for users signed in to the web UI")),
            },
        }
    }
}

/// How a route answers a caller its rule refuses (401 or 403): JSON for the API, a page (or the sign-in form)
/// for pages.
pub(crate) type Refuse = fn(&HttpRequest, ApiError) -> HttpResponse;

/// The API's way: the error's JSON body.
pub(crate) fn refuse_with_json(_: &HttpRequest, refusal: ApiError) -> HttpResponse {
    actix_web::ResponseError::error_response(&refusal)
}

/// Authenticates the caller of a route with rule `access` and applies the rule, leaving the [`Principal`] in the
/// request for the handler; answers 401 or 403 itself otherwise, through `refuse`. Public routes pass straight
/// through.
pub(crate) async fn enforce<B: MessageBody + 'static>(
    access: Access,
    refuse: Refuse,
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if access != Access::Public {
        let admitted = match authenticate(request.request()).await {
            Ok(principal) => access.permits(&principal).map(|()| principal),
            Err(refused) => Err(refused),
        };
        match admitted {
            Ok(principal) => {
                request.extensions_mut().insert(principal);
            }
            // Answered here as a response, like every other error, so outer middleware sees it as one.
            Err(refused) => {
                let response = refuse(request.request(), refused);
                return Ok(request.into_response(response).map_into_right_body());
            }
        }
    }
    Ok(next.call(request).await?.map_into_left_body())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    /// The principal `enforce` admitted. A handler on a route without a rule has none: that is a fault of
    /// the route table, answered 500 rather than served unchecked.
    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(request.extensions().get::<Principal>().cloned().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "no access rule admitted a caller to {}",
                request.path()
            ))
        }))
    }
}

/// The candidate admitted to a [`Access::Candidate`] route.
pub(crate) struct Candidate(pub(crate) CandidateKey);

impl FromRequest for Candidate {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = request.extensions().get::<Principal>().and_then(|p| p.candidate_key().cloned());
        ready(key.map(Candidate).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("{} is not a candidate route", request.path()))
        }))
    }
}
