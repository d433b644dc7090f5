//! Who is calling: the credential extractor and the access rules every route applies (spec §2).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use traceline_domain::api_key::{hash_secret, looks_like_api_key};
use traceline_domain::{OrgId, Scope, Scopes};
use traceline_storage::api_keys;
use traceline_storage::sessions::SessionScope;

use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A hiring team's reviewer, by org API key.
    Reviewer {
        /// The key's org.
        org_id: OrgId,
        /// What the key may do.
        scopes: Scopes,
    },
}

impl Principal {
    /// The caller's org.
    pub fn org_id(&self) -> &OrgId {
        match self {
            Principal::Reviewer { org_id, .. } => org_id,
        }
    }

    /// Refuses with 403 unless the caller holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        match self {
            Principal::Reviewer { scopes, .. } if scopes.allows(scope) => Ok(()),
            Principal::Reviewer { .. } => Err(ApiError::Forbidden(match scope {
                Scope::Read => "this API key lacks the read scope",
                Scope::Write => "this API key lacks the write scope",
            })),
        }
    }

    /// The sessions this caller may see.
    pub fn session_scope(&self) -> SessionScope {
        SessionScope::org(self.org_id().clone())
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(request);
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("application state is missing"))
            })?;
            let token = token.ok_or(ApiError::Unauthorized)?;
            if !looks_like_api_key(&token) {
                return Err(ApiError::Unauthorized);
            }
            let secret_hash = hash_secret(&token);
            let grant = state
                .read(move |connection| api_keys::find_active_by_hash(connection, &secret_hash))
                .await?;
            let grant = grant.ok_or(ApiError::Unauthorized)?;
            Ok(Principal::Reviewer { org_id: grant.org_id, scopes: grant.scopes })
        })
    }
}

/// The token of an `Authorization: Bearer …` header; the scheme is matched case-insensitively (RFC 9110).
fn bearer_token(request: &HttpRequest) -> Option<String> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}
