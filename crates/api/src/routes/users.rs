//! Reviewer accounts over the API (spec §11): admins list, add and disable users; a signed-in user changes their
//! own password. The web UI's settings page calls these routes with its cookie.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use traceline_domain::audit::AuditAction;
use traceline_domain::time::to_storage_precision;
use traceline_domain::user::{
    generate_password, NewUser, PasswordChange, Role, User, UserPatch, MAX_PASSWORD_CHARS,
    MAX_USER_NAME_CHARS, MIN_PASSWORD_CHARS,
};
use traceline_domain::{Scope, ValidationErrors};
use traceline_storage::{sign_ins, users, StorageError};
use uuid::Uuid;

use crate::audit_trail::Audit;
use crate::error::ApiError;
use crate::password::{hash_password, verify_password};
use crate::principal::Principal;
use crate::random::os_random;
use crate::request::json_body;
use crate::routes::{Access, Endpoint};
use crate::sign_in::cookie_token;
use crate::state::AppState;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    let roles = Role::ALL.map(Role::as_str);
    vec![
        Endpoint::new(
            Method::GET,
            "/v1/users",
            "listUsers",
            "The org's users, disabled ones included",
            Access::Reviewer(Scope::Read),
            |route| route.to(list_users),
        )
        .reply::<UserListBody>(200, "The users, in creation order."),
        Endpoint::new(
            Method::POST,
            "/v1/users",
            "createUser",
            "Add a user to the org",
            Access::Admin,
            |route| route.to(create_user),
        )
        .body(
            json!({
                "type": "object",
                "required": ["email"],
                "properties": {
                    "email": {"type": "string", "format": "email"},
                    "name": {"type": ["string", "null"], "maxLength": MAX_USER_NAME_CHARS},
                    "role": {"enum": roles, "default": Role::Reviewer.as_str()},
                    "password": {
                        "type": ["string", "null"],
                        "minLength": MIN_PASSWORD_CHARS,
                        "maxLength": MAX_PASSWORD_CHARS,
                        "description": "Generated, and returned once, when absent.",
                    },
                },
            }),
            json!({"email": "grace@example.com", "name": "Grace Hopper", "role": Role::Reviewer.as_str()}),
        )
        .reply::<CreatedUserBody>(201, "The user, with the generated password when none was given.")
        .carries_secret()
        .creates(201, "id", "$response.body#/user/id")
        .refusal(409, "A user with this address exists (in any org)."),
        Endpoint::new(
            Method::PATCH,
            "/v1/users/{id}",
            "updateUser",
            "Disable or re-enable a user, or change their role",
            Access::Admin,
            |route| route.to(update_user),
        )
        .body(
            json!({
                "type": "object",
                "properties": {"disabled": {"type": "boolean"}, "role": {"enum": roles}},
            }),
            json!({"disabled": true}),
        )
        .reply::<UserBody>(200, "The user.")
        .refusal(409, "An admin cannot disable themselves or give up their own admin role."),
        Endpoint::new(
            Method::POST,
            "/v1/me/password",
            "changePassword",
            "Change the signed-in user's password",
            Access::SignedIn,
            |route| route.to(change_password),
        )
        .body(
            json!({
                "type": "object",
                "required": ["currentPassword", "newPassword"],
                "properties": {
                    "currentPassword": {"type": "string"},
                    "newPassword": {
                        "type": "string",
                        "minLength": MIN_PASSWORD_CHARS,
                        "maxLength": MAX_PASSWORD_CHARS,
                    },
                },
            }),
            json!({"currentPassword": "the password today", "newPassword": "a longer passphrase"}),
        )
        .reply::<OkBody>(200, "Changed; the user's other sign-ins have ended."),
    ]
}

/// `{users}`.
#[derive(Serialize, JsonSchema)]
struct UserListBody {
    users: Vec<User>,
}

/// `{user}`.
#[derive(Serialize, JsonSchema)]
struct UserBody {
    user: User,
}

/// `{user, password?}`.
#[derive(Serialize, JsonSchema)]
struct CreatedUserBody {
    user: User,
    /// The generated password, shown only this once; absent when the request chose one.
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

/// `{"ok": true}`.
#[derive(Serialize, JsonSchema)]
struct OkBody {
    ok: bool,
}

fn user_not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::not_found("user"),
        other => other,
    }
}

async fn list_users(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let found = state.read(move |connection| users::list(connection, &org_id)).await?;
    Ok(HttpResponse::Ok().json(UserListBody { users: found }))
}

async fn create_user(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request = NewUser::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let generated = match request.password {
        Some(_) => None,
        None => Some(
            generate_password(&mut os_random).map_err(|error| ApiError::Internal(error.into()))?,
        ),
    };
    let password = request.password.clone().or_else(|| generated.clone()).unwrap_or_default();
    let hash = web::block(move || hash_password(&password))
        .await?
        .map_err(|error| ApiError::Internal(error.into()))?;
    let user = User {
        id: Uuid::now_v7().to_string(),
        org_id: principal.org_id().clone(),
        email: request.email,
        name: request.name,
        role: request.role,
        created_at: to_storage_precision(Utc::now()),
        disabled_at: None,
    };
    let stored = user.clone();
    let email = user.email.clone();
    let audit = Audit::by(&principal, user.created_at);
    let created = move |connection: &mut traceline_storage::AnyConnection| {
        users::insert(connection, &stored, &hash)?;
        let details = json!({"role": stored.role.as_str()});
        audit.record(connection, AuditAction::UserCreated, &stored.id, details)
    };
    state.write(created).await.map_err(|error| match error {
        ApiError::Conflict(_) => {
            ApiError::Conflict(format!("a user with the address {email} already exists"))
        }
        other => other,
    })?;
    Ok(HttpResponse::Created().json(CreatedUserBody { user, password: generated }))
}

/// What an update can run into besides storage errors.
enum Updated {
    User(Box<User>),
    Own(&'static str),
}

async fn update_user(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let patch = UserPatch::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let org_id = principal.org_id().clone();
    let own = principal.reviewer().and_then(|reviewer| reviewer.user_id()).map(str::to_owned);
    let id = path.into_inner();
    let now = to_storage_precision(Utc::now());
    let audit = Audit::by(&principal, now);
    let updated = state
        .write(move |connection| {
            // An admin locking themselves out would leave the org with nobody to let them back in.
            if own.as_deref() == Some(id.as_str()) {
                if patch.disabled == Some(true) {
                    return Ok(Updated::Own("you cannot disable your own account"));
                }
                if patch.role == Some(Role::Reviewer) {
                    return Ok(Updated::Own("you cannot give up your own admin role"));
                }
            }
            let user = users::update(connection, &org_id, &id, &patch, now)?;
            let details = json!({
                "disabled": patch.disabled,
                "role": patch.role.map(Role::as_str),
            });
            audit.record(connection, AuditAction::UserUpdated, &id, details)?;
            Ok(Updated::User(Box::new(user)))
        })
        .await
        .map_err(user_not_found)?;
    match updated {
        Updated::User(user) => Ok(HttpResponse::Ok().json(UserBody { user: *user })),
        Updated::Own(message) => Err(ApiError::Conflict(message.to_owned())),
    }
}

async fn change_password(
    principal: Principal,
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let change = PasswordChange::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let user_id = principal
        .reviewer()
        .and_then(|reviewer| reviewer.user_id())
        .map(str::to_owned)
        .ok_or(ApiError::Forbidden("this route is for users signed in to the web UI"))?;
    let lookup = user_id.clone();
    let current_hash =
        state.read(move |connection| users::password_hash(connection, &lookup)).await?;
    let new_hash = web::block(move || {
        if verify_password(&change.current, &current_hash) {
            hash_password(&change.new).map(Some)
        } else {
            Ok(None)
        }
    })
    .await?
    .map_err(|error| ApiError::Internal(error.into()))?
    .ok_or_else(|| {
        ApiError::invalid_body(ValidationErrors::one("currentPassword", "is not your password"))
    })?;
    // The browser that made the change stays signed in; every other sign-in of the user ends.
    let keep = cookie_token(&request).map(|token| traceline_domain::api_key::hash_secret(&token));
    let audit = Audit::by(&principal, to_storage_precision(Utc::now()));
    state
        .write(move |connection| {
            users::set_password_hash(connection, &user_id, &new_hash)?;
            sign_ins::delete_others(connection, &user_id, keep.as_deref())?;
            audit.record(connection, AuditAction::UserPasswordChanged, &user_id, json!({}))?;
            Ok::<(), StorageError>(())
        })
        .await?;
    Ok(HttpResponse::Ok().json(OkBody { ok: true }))
}
