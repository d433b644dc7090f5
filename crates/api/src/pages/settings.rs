//! `/settings`: the org's users and API keys (admins add, disable, create and revoke; everyone sees them), and a
//! signed-in user's own password. The forms call `/v1/users`, `/v1/api-keys` and `/v1/me/password`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use traceline_domain::user::{Role, MIN_PASSWORD_CHARS};
use traceline_storage::{api_keys, users};

use super::format;
use super::layout::Layout;
use super::render::{html, PageError};
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    users: Vec<UserRow>,
    keys: Vec<KeyRow>,
    /// The viewer manages users and keys.
    admin: bool,
    /// The viewer is a signed-in user (who has a password to change).
    signed_in: bool,
    roles: [&'static str; 2],
    min_password: usize,
}

struct UserRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    since: String,
    enabled: bool,
    is_viewer: bool,
}

struct KeyRow {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    created: String,
    last_used: String,
    revoked: Option<String>,
}

/// `GET /settings`.
pub(super) async fn show(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let org_id = principal.org_id().clone();
    let (found_users, found_keys) = state
        .read(move |connection| {
            Ok((users::list(connection, &org_id)?, api_keys::list(connection, &org_id)?))
        })
        .await?;
    let reviewer = principal.reviewer();
    let viewer_id = reviewer.and_then(|reviewer| reviewer.user_id()).map(str::to_owned);
    let page = SettingsPage {
        layout: Layout::new("/settings", Some(&principal)),
        users: found_users
            .into_iter()
            .map(|user| UserRow {
                is_viewer: viewer_id.as_deref() == Some(user.id.as_str()),
                enabled: user.is_enabled(),
                role: user.role.as_str(),
                since: format::moment(user.created_at),
                id: user.id,
                name: user.name,
                email: user.email,
            })
            .collect(),
        keys: found_keys
            .into_iter()
            .map(|key| KeyRow {
                name: key.name.clone().unwrap_or_else(|| "Unnamed key".to_owned()),
                prefix: key
                    .prefix
                    .clone()
                    .map(|prefix| format!("{prefix}…"))
                    .unwrap_or_else(|| "—".to_owned()),
                scopes: key.scopes.names().join(", "),
                created: format::moment(key.created_at),
                last_used: key.last_used_at.map_or_else(|| "never".to_owned(), format::moment),
                revoked: key.revoked_at.map(format::moment),
                id: key.id,
            })
            .collect(),
        admin: reviewer.is_some_and(|reviewer| reviewer.may_administer()),
        signed_in: viewer_id.is_some(),
        roles: Role::ALL.map(Role::as_str),
        min_password: MIN_PASSWORD_CHARS,
    };
    html(StatusCode::OK, &page)
}
