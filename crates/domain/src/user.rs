//! Reviewer accounts (spec §11): the users of an org and their roles, the rules for their addresses and
//! passwords, and the request bodies that create and change them. Hashing passwords is the server's business.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::ids::OrgId;
use crate::json::{expect_object, required_str, string_field};
use crate::random::{random_string, RandomFill, BASE62};
use crate::validation::{looks_like_email, ValidationErrors};

/// Shortest password accepted, in characters (spec §11).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in characters: enough for any passphrase, and a bound on what one sign-in makes
/// the server hash.
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Characters of a generated password (base62: about 119 bits).
pub const GENERATED_PASSWORD_CHARS: usize = 20;
/// Longest display name, in characters.
pub const MAX_USER_NAME_CHARS: usize = 255;
/// Longest e-mail address, in characters.
pub const MAX_EMAIL_CHARS: usize = 320;

/// What a user may do beyond reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Role {
    /// Everything a reviewer may do, and managing users and API keys.
    Admin,
    /// Everything a `write` API key may do.
    Reviewer,
}

impl Role {
    /// Every role, the default (`reviewer`) last.
    pub const ALL: [Role; 2] = [Role::Admin, Role::Reviewer];

    /// The role as the API, the command line and storage spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
        }
    }

    /// Reads a role name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

/// A user as the API shows it: never the password hash.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct User {
    /// Server-generated UUID.
    pub id: String,
    /// The org the user reviews for.
    #[serde(skip)]
    pub org_id: OrgId,
    /// The sign-in address, lower-case.
    pub email: String,
    /// What people call them.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// When the account was created.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub created_at: DateTime<Utc>,
    /// When an admin disabled the account; a disabled user cannot sign in.
    #[serde(with = "crate::time::api_format_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::ApiTimestamp>"))]
    pub disabled_at: Option<DateTime<Utc>>,
}

impl User {
    /// Whether the user may sign in.
    pub fn is_enabled(&self) -> bool {
        self.disabled_at.is_none()
    }
}

/// The canonical form of a sign-in address (trimmed, lower-case), if `text` reads as one.
pub fn normalize_email(text: &str) -> Option<String> {
    let email = text.trim().to_lowercase();
    (looks_like_email(&email) && email.chars().count() <= MAX_EMAIL_CHARS).then_some(email)
}

/// Checks a new password against the policy: 12 to 1024 characters. Says what is wrong, as a sentence fragment.
pub fn check_password(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"))
    } else if length > MAX_PASSWORD_CHARS {
        Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"))
    } else {
        Ok(())
    }
}

/// A fresh password to hand to a new user, drawn from `fill`'s random bytes.
pub fn generate_password<E>(fill: RandomFill<'_, E>) -> Result<String, E> {
    random_string(BASE62, GENERATED_PASSWORD_CHARS, fill)
}

/// The name of a user created without one: the part of the address before the `@`.
pub fn default_name(email: &str) -> String {
    email.split('@').next().unwrap_or(email).to_owned()
}

/// A validated `POST /v1/users` body: `{email, name?, role?, password?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The address, normalised.
    pub email: String,
    /// The name; the address's local part when none was given.
    pub name: String,
    /// `reviewer` unless said otherwise.
    pub role: Role,
    /// The password chosen for them; `None` has the server generate one and show it once.
    pub password: Option<String>,
}

impl NewUser {
    /// Validates the body, reporting every bad field.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = expect_object(body, &mut errors, "") else {
            return Err(errors);
        };
        let email = required_str(object, "email", &mut errors, "").and_then(|text| {
            let email = normalize_email(text);
            if email.is_none() {
                errors.push("email", "must be an e-mail address");
            }
            email
        });
        let name = string_field(object, "name", MAX_USER_NAME_CHARS, &mut errors, "")
            .value()
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty());
        let role = match object.get("role") {
            None | Some(Value::Null) => Some(Role::Reviewer),
            Some(value) => {
                let role = value.as_str().and_then(Role::parse);
                if role.is_none() {
                    errors.push("role", "must be \"admin\" or \"reviewer\"");
                }
                role
            }
        };
        let password =
            string_field(object, "password", MAX_PASSWORD_CHARS, &mut errors, "").value();
        if let Some(Err(problem)) = password.as_deref().map(check_password) {
            errors.push("password", problem);
        }
        match (email, role) {
            (Some(email), Some(role)) if errors.is_empty() => Ok(NewUser {
                name: name.unwrap_or_else(|| default_name(&email)),
                email,
                role,
                password,
            }),
            _ => Err(errors),
        }
    }
}

/// A validated `PATCH /v1/users/:id` body: `{disabled?, role?}`, at least one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UserPatch {
    /// Disable (`true`) or re-enable (`false`) the account.
    pub disabled: Option<bool>,
    /// A new role.
    pub role: Option<Role>,
}

impl UserPatch {
    /// Validates the body.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = expect_object(body, &mut errors, "") else {
            return Err(errors);
        };
        let mut patch = UserPatch::default();
        match object.get("disabled") {
            None => {}
            Some(Value::Bool(disabled)) => patch.disabled = Some(*disabled),
            Some(_) => errors.push("disabled", "must be true or false"),
        }
        match object.get("role") {
            None => {}
            Some(value) => match value.as_str().and_then(Role::parse) {
                Some(role) => patch.role = Some(role),
                None => errors.push("role", "must be \"admin\" or \"reviewer\""),
            },
        }
        if errors.is_empty() && patch == UserPatch::default() {
            errors.push("", "must set disabled or role");
        }
        errors.into_result(patch)
    }
}

/// A validated `POST /v1/me/password` body: `{currentPassword, newPassword}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordChange {
    /// The password now, which the server checks first.
    pub current: String,
    /// The one to set, which must meet [`check_password`].
    pub new: String,
}

impl PasswordChange {
    /// Validates the body.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = expect_object(body, &mut errors, "") else {
            return Err(errors);
        };
        let current = required_str(object, "currentPassword", &mut errors, "").map(str::to_owned);
        let new = required_str(object, "newPassword", &mut errors, "").map(str::to_owned);
        if let Some(Err(problem)) = new.as_deref().map(check_password) {
            errors.push("newPassword", problem);
        }
        match (current, new) {
            (Some(current), Some(new)) if errors.is_empty() => Ok(PasswordChange { current, new }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(result: Result<impl std::fmt::Debug, ValidationErrors>) -> Vec<String> {
        result.unwrap_err().0.into_iter().map(|error| error.path).collect()
    }

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(normalize_email("  Ada@Example.COM "), Some("ada@example.com".into()));
        assert_eq!(normalize_email("ada"), None);
        assert_eq!(normalize_email("a da@example.com"), None);
        assert_eq!(default_name("ada.lovelace@example.com"), "ada.lovelace");
    }

    #[test]
    fn passwords_need_twelve_characters_counted_as_characters() {
        assert!(check_password("eleven-char").is_err());
        assert!(check_password("twelve-chars").is_ok());
        assert!(check_password("ééééééééééé").is_err(), "11 characters, 22 bytes");
        assert!(check_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        let mut counter = 0u8;
        let generated = generate_password(&mut |buf: &mut [u8]| {
            for byte in buf {
                counter = counter.wrapping_add(11);
                *byte = counter;
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!(check_password(&generated).is_ok());
    }

    #[test]
    fn new_users_default_to_reviewers_named_after_their_address() {
        let user = NewUser::parse(&json!({"email": "Grace@Example.com"})).unwrap();
        assert_eq!(
            user,
            NewUser {
                email: "grace@example.com".into(),
                name: "grace".into(),
                role: Role::Reviewer,
                password: None
            }
        );
        let admin = NewUser::parse(
            &json!({"email": "a@b.io", "name": " Ada ", "role": "admin", "password": "correct horse"}),
        )
        .unwrap();
        assert_eq!((admin.name.as_str(), admin.role), ("Ada", Role::Admin));
        assert_eq!(paths(NewUser::parse(&json!({}))), ["email"]);
        assert_eq!(
            paths(NewUser::parse(&json!({"email": "x", "role": "owner", "password": "short"}))),
            ["email", "role", "password"]
        );
    }

    #[test]
    fn patches_and_password_changes_say_what_is_wrong() {
        assert_eq!(
            UserPatch::parse(&json!({"disabled": true})).unwrap(),
            UserPatch { disabled: Some(true), role: None }
        );
        assert_eq!(paths(UserPatch::parse(&json!({}))), [""]);
        assert_eq!(paths(UserPatch::parse(&json!({"disabled": "yes"}))), ["disabled"]);
        assert_eq!(
            PasswordChange::parse(
                &json!({"currentPassword": "old", "newPassword": "a new passphrase"})
            )
            .unwrap()
            .new,
            "a new passphrase"
        );
        assert_eq!(
            paths(PasswordChange::parse(
                &json!({"currentPassword": "old", "newPassword": "short"})
            )),
            ["newPassword"]
        );
    }
}
