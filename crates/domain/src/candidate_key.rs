//! Candidate keys (`PST-XXXX-XXXX`), their life cycle, and the session tokens redeemed from them.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::api_key::hash_secret;
use crate::ids::OrgId;
use crate::json::{as_integer, expect_object, join_path, string_field, JsonObject};
use crate::random::{random_string, RandomFill, BASE62};
use crate::signing::{InvalidPublicKey, PublicKey};
use crate::validation::{looks_like_email, ValidationErrors};

/// The symbols of a candidate key: no 0/O, 1/I/L, so keys survive being read aloud or retyped.
pub const KEY_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Prefix of every session token.
pub const SESSION_TOKEN_PREFIX: &str = "pst_sess_";
/// Most keys one request may create.
pub const MAX_KEYS_PER_REQUEST: i64 = 50;
/// Most live keys (unrevoked, pending or active, not expired) one assessment may hold at once.
pub const MAX_LIVE_KEYS_PER_ASSESSMENT: i64 = 500;
/// Longest candidate name, in characters.
pub const MAX_CANDIDATE_NAME_CHARS: usize = 255;
/// Longest candidate e-mail address, in characters.
pub const MAX_CANDIDATE_EMAIL_CHARS: usize = 320;

/// Where a candidate is in the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum KeyStatus {
    /// Issued, not yet redeemed.
    Pending,
    /// Redeemed; the candidate is working.
    Active,
    /// The candidate said they are done.
    Completed,
    /// Pending or active past `expiresAt`. Never stored: derived when read.
    Expired,
    /// The reviewer marked a hire.
    Hired,
    /// The reviewer decided against the candidate.
    Rejected,
}

impl KeyStatus {
    /// The status as the API and storage spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Pending => "pending",
            KeyStatus::Active => "active",
            KeyStatus::Completed => "completed",
            KeyStatus::Expired => "expired",
            KeyStatus::Hired => "hired",
            KeyStatus::Rejected => "rejected",
        }
    }

    /// Reads a stored status (never `expired`, which is derived).
    pub fn parse_stored(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(KeyStatus::Pending),
            "active" => Some(KeyStatus::Active),
            "completed" => Some(KeyStatus::Completed),
            "hired" => Some(KeyStatus::Hired),
            "rejected" => Some(KeyStatus::Rejected),
            _ => None,
        }
    }

    /// Whether sessions of keys in this status belong to their assessment's cohort (spec §7, §10.1): the
    /// candidate is done, one way or another.
    pub fn in_cohort(self) -> bool {
        matches!(
            self,
            KeyStatus::Completed | KeyStatus::Expired | KeyStatus::Hired | KeyStatus::Rejected
        )
    }

    /// Whether the reviewer has decided on the candidate (hired or rejected).
    pub fn is_decision(self) -> bool {
        matches!(self, KeyStatus::Hired | KeyStatus::Rejected)
    }

    /// Whether the candidate's part is over: completed, or decided on by a reviewer. Such a key cannot be
    /// redeemed again, and its record is closed (spec §10.1): its credentials may still read, but every write
    /// with them is refused and nothing is stored.
    pub fn is_finished(self) -> bool {
        matches!(self, KeyStatus::Completed) || self.is_decision()
    }

    /// Every status a key can be stored with (`expired` is derived, never stored).
    pub const STORED: [KeyStatus; 5] = [
        KeyStatus::Pending,
        KeyStatus::Active,
        KeyStatus::Completed,
        KeyStatus::Hired,
        KeyStatus::Rejected,
    ];

    /// The statuses a reviewer may set with `PATCH /v1/assessments/:id/keys/:keyId` (spec §8, §10.1).
    pub const DECISIONS: [KeyStatus; 2] = [KeyStatus::Hired, KeyStatus::Rejected];

    /// The decision named `text` (`hired` or `rejected`), if it is one.
    pub fn parse_decision(text: &str) -> Option<Self> {
        Self::DECISIONS.into_iter().find(|status| status.as_str() == text)
    }

    /// The stored statuses that read as [`KeyStatus::Expired`] once `expiresAt` has passed.
    pub fn expires(self) -> bool {
        matches!(self, KeyStatus::Pending | KeyStatus::Active)
    }
}

/// The cohort rule of spec §7 as storage queries it: the keys whose stored status puts them in the cohort at any
/// time, and the stored statuses that join it once `expiresAt` has passed.
pub fn cohort_rule() -> (Vec<&'static str>, Vec<&'static str>) {
    let always = KeyStatus::STORED.iter().filter(|status| status.in_cohort());
    let once_expired = KeyStatus::STORED
        .iter()
        .filter(|status| status.expires() && KeyStatus::Expired.in_cohort());
    (
        always.map(|status| status.as_str()).collect(),
        once_expired.map(|status| status.as_str()).collect(),
    )
}

/// A candidate key as reviewers see it; [`CandidateKey::at`] gives the KeyObject of spec §8.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CandidateKey {
    /// Server-generated UUID.
    pub id: String,
    /// The owning org.
    #[serde(skip)]
    pub org_id: OrgId,
    /// The assessment it grants.
    pub assessment_id: String,
    /// `PST-XXXX-XXXX`, upper-case.
    pub key: String,
    /// Who it was issued to.
    pub candidate_name: Option<String>,
    /// Their e-mail.
    pub candidate_email: Option<String>,
    /// The status as stored (`pending`, `active`, `completed` or `hired`); shown as of a moment, by
    /// [`CandidateKey::at`].
    #[serde(skip)]
    pub stored_status: KeyStatus,
    /// The first session created through the key, while it exists.
    pub session_id: Option<String>,
    /// When it stops authenticating (and, while pending or active, reads as expired).
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub expires_at: DateTime<Utc>,
    /// When it was first redeemed.
    #[serde(with = "crate::time::api_format_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::ApiTimestamp>"))]
    pub redeemed_at: Option<DateTime<Utc>>,
    /// When the candidate completed.
    #[serde(with = "crate::time::api_format_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::ApiTimestamp>"))]
    pub completed_at: Option<DateTime<Utc>>,
    /// When it was issued.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub created_at: DateTime<Utc>,
}

/// KeyObject of spec §8: a key with its status as of a moment (a pending key past `expiresAt` reads expired).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KeyAt<'a> {
    /// The key.
    #[serde(flatten)]
    pub key: &'a CandidateKey,
    /// Its status at that moment.
    pub status: KeyStatus,
}

impl CandidateKey {
    /// The status at `now`: a pending or active key past `expiresAt` reads as expired.
    pub fn status_at(&self, now: DateTime<Utc>) -> KeyStatus {
        match self.stored_status {
            KeyStatus::Pending | KeyStatus::Active if self.expires_at <= now => KeyStatus::Expired,
            status => status,
        }
    }

    /// The key as the API shows it at `now`.
    pub fn at(&self, now: DateTime<Utc>) -> KeyAt<'_> {
        KeyAt { key: self, status: self.status_at(now) }
    }

    /// Whether the key still authenticates at `now` (revoked keys are never loaded as credentials).
    pub fn authenticates_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

/// Generates a fresh `PST-XXXX-XXXX` key.
pub fn generate_key<E>(fill: RandomFill<'_, E>) -> Result<String, E> {
    let body = random_string(KEY_ALPHABET, 8, fill)?;
    Ok(format!("PST-{}-{}", &body[..4], &body[4..]))
}

/// The canonical (upper-case) form of something presented as a candidate key, if it has the key's shape.
pub fn normalize_key(presented: &str) -> Option<String> {
    let upper = presented.trim().to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let shaped = bytes.len() == 13
        && upper.starts_with("PST-")
        && bytes[8] == b'-'
        && bytes[4..8].iter().chain(&bytes[9..]).all(|b| KEY_ALPHABET.contains(b));
    shaped.then_some(upper)
}

/// A freshly generated session token and the hash it is stored under.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// Generates `pst_sess_` followed by 40 base62 characters.
    pub fn generate<E>(fill: RandomFill<'_, E>) -> Result<Self, E> {
        Ok(Self(format!("{SESSION_TOKEN_PREFIX}{}", random_string(BASE62, 40, fill)?)))
    }

    /// The token, shown to the candidate once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The stored hash.
    pub fn hash(&self) -> String {
        hash_secret(&self.0)
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

/// Whether a presented credential has the shape of a session token.
pub fn looks_like_session_token(presented: &str) -> bool {
    presented
        .strip_prefix(SESSION_TOKEN_PREFIX)
        .is_some_and(|rest| rest.len() >= 32 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// One key to issue: who it is for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyHolder {
    /// The candidate's name.
    pub name: Option<String>,
    /// The candidate's e-mail.
    pub email: Option<String>,
}

/// Validates `{count: 1–50, candidateNames?: [..count], candidateEmails?: [..count]}`; entry i of each array
/// belongs to key i.
pub fn parse_key_request(body: &Value) -> Result<Vec<KeyHolder>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Some(object) = expect_object(body, &mut errors, "") else {
        return Err(errors);
    };
    let count = match object.get("count").and_then(as_integer) {
        Some(count) if (1..=MAX_KEYS_PER_REQUEST).contains(&count) => count,
        _ => {
            errors
                .push("count", format!("must be a whole number from 1 to {MAX_KEYS_PER_REQUEST}"));
            0
        }
    };
    let names =
        optional_strings(object, "candidateNames", count, MAX_CANDIDATE_NAME_CHARS, &mut errors);
    let emails =
        optional_strings(object, "candidateEmails", count, MAX_CANDIDATE_EMAIL_CHARS, &mut errors);
    for (index, email) in emails.iter().enumerate() {
        if let Some(email) = email {
            if !looks_like_email(email) {
                errors.push(
                    join_path("candidateEmails", &index.to_string()),
                    "must be an e-mail address",
                );
            }
        }
    }
    let holders = (0..usize::try_from(count).unwrap_or(0))
        .map(|i| KeyHolder {
            name: names.get(i).cloned().flatten(),
            email: emails.get(i).cloned().flatten(),
        })
        .collect();
    errors.into_result(holders)
}

fn optional_strings(
    object: &JsonObject,
    key: &str,
    count: i64,
    max_chars: usize,
    errors: &mut ValidationErrors,
) -> Vec<Option<String>> {
    let items = match object.get(key) {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.push(key, "must be an array of strings");
            return Vec::new();
        }
    };
    if i64::try_from(items.len()).unwrap_or(i64::MAX) > count {
        errors.push(key, "must not have more entries than count");
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Null => None,
            Value::String(text) if text.chars().count() <= max_chars => Some(text.clone()),
            _ => {
                errors.push(
                    join_path(key, &index.to_string()),
                    format!("must be a string of at most {max_chars} characters"),
                );
                None
            }
        })
        .collect()
}

/// A validated `POST /v1/candidate/redeem` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedeemRequest {
    /// The canonical key, or `None` for a value that cannot be a key (answered like an unknown key).
    pub key: Option<String>,
    /// A name replacing the one the key was issued with.
    pub candidate_name: Option<String>,
    /// The Ed25519 public key the candidate's client will sign its events with (spec §10.2).
    pub signing_key: Option<PublicKey>,
}

/// Validates `POST /v1/candidate/redeem`: `{key, candidateName?, signingPubKey?}`.
pub fn parse_redeem_request(body: &Value) -> Result<RedeemRequest, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let Some(object) = expect_object(body, &mut errors, "") else {
        return Err(errors);
    };
    let key = match object.get("key") {
        Some(Value::String(presented)) => normalize_key(presented),
        _ => {
            errors.push("key", "is required and must be a string");
            None
        }
    };
    let candidate_name =
        string_field(object, "candidateName", MAX_CANDIDATE_NAME_CHARS, &mut errors, "").value();
    let signing_key = match object.get("signingPubKey") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => PublicKey::parse(text)
            .map_err(|error| errors.push("signingPubKey", error.to_string()))
            .ok(),
        Some(_) => {
            errors.push("signingPubKey", InvalidPublicKey::Encoding.to_string());
            None
        }
    };
    errors.into_result(RedeemRequest { key, candidate_name, signing_key })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use serde_json::json;

    use super::*;

    fn counter() -> impl FnMut(&mut [u8]) -> Result<(), ()> {
        let mut next = 0u8;
        move |buf: &mut [u8]| {
            for byte in buf {
                next = next.wrapping_add(37);
                *byte = next;
            }
            Ok(())
        }
    }

    #[test]
    fn decided_keys_are_in_the_cohort_and_stored_statuses_round_trip() {
        for status in KeyStatus::STORED {
            assert_eq!(KeyStatus::parse_stored(status.as_str()), Some(status));
        }
        assert_eq!(KeyStatus::parse_stored("expired"), None, "expired is derived, never stored");
        let (always, once_expired) = cohort_rule();
        assert_eq!(always, ["completed", "hired", "rejected"]);
        assert_eq!(once_expired, ["pending", "active"]);
        assert_eq!(KeyStatus::parse_decision("rejected"), Some(KeyStatus::Rejected));
        assert_eq!(KeyStatus::parse_decision("completed"), None);
        assert!(KeyStatus::Rejected.is_finished() && !KeyStatus::Active.is_finished());
    }

    #[test]
    fn a_count_written_with_a_point_is_an_integer() {
        assert_eq!(parse_key_request(&json!({"count": 2.0})).unwrap().len(), 2);
        assert!(parse_key_request(&json!({"count": 2.5})).is_err());
    }

    #[test]
    fn generated_keys_have_the_shape_and_alphabet() {
        let key = generate_key(&mut counter()).unwrap();
        assert_eq!(normalize_key(&key), Some(key.clone()));
        assert_eq!(normalize_key(&key.to_lowercase()), Some(key.clone()));
        assert_eq!(normalize_key(" pst-abcd-efgh "), Some("PST-ABCD-EFGH".into()));
        assert_eq!(normalize_key("PST-ABC0-EFGH"), None, "0 is not in the alphabet");
        assert_eq!(normalize_key("PST-ABCDEFGH"), None);
        let token = SessionToken::generate(&mut counter()).unwrap();
        assert!(looks_like_session_token(token.expose()));
        assert!(!format!("{token:?}").contains(SESSION_TOKEN_PREFIX));
    }

    #[test]
    fn expiry_is_read_time() {
        let now = Utc::now();
        let mut key = CandidateKey {
            id: "k".into(),
            org_id: OrgId::new("o"),
            assessment_id: "a".into(),
            key: "PST-AAAA-BBBB".into(),
            candidate_name: None,
            candidate_email: None,
            stored_status: KeyStatus::Pending,
            session_id: None,
            expires_at: now,
            redeemed_at: None,
            completed_at: None,
            created_at: now - Duration::days(7),
        };
        assert_eq!(key.status_at(now - Duration::seconds(1)), KeyStatus::Pending);
        assert_eq!(key.status_at(now), KeyStatus::Expired);
        key.stored_status = KeyStatus::Active;
        assert_eq!(key.status_at(now), KeyStatus::Expired);
        key.stored_status = KeyStatus::Completed;
        assert_eq!(key.status_at(now), KeyStatus::Completed);
        key.stored_status = KeyStatus::Hired;
        assert_eq!(key.status_at(now + Duration::days(9)), KeyStatus::Hired);
        key.stored_status = KeyStatus::Rejected;
        assert_eq!(key.status_at(now + Duration::days(9)), KeyStatus::Rejected);
        assert!(!key.authenticates_at(now));
    }

    #[test]
    fn completing_and_deciding_close_the_record() {
        let closing: Vec<KeyStatus> =
            KeyStatus::STORED.into_iter().filter(|status| status.is_finished()).collect();
        assert_eq!(closing, [KeyStatus::Completed, KeyStatus::Hired, KeyStatus::Rejected]);
        assert!(!KeyStatus::Expired.is_finished(), "an expired key does not authenticate at all");
    }

    #[test]
    fn key_requests_pair_names_and_emails_by_index() {
        let holders = parse_key_request(
            &json!({"count": 3, "candidateNames": ["Ada", null], "candidateEmails": ["a@x.io"]}),
        )
        .unwrap();
        assert_eq!(holders.len(), 3);
        assert_eq!(
            holders[0],
            KeyHolder { name: Some("Ada".into()), email: Some("a@x.io".into()) }
        );
        assert_eq!(holders[1], KeyHolder::default());
        let paths = |body: Value| -> Vec<String> {
            parse_key_request(&body).unwrap_err().0.into_iter().map(|e| e.path).collect()
        };
        assert_eq!(paths(json!({})), ["count"]);
        assert_eq!(paths(json!({"count": 51})), ["count"]);
        assert_eq!(paths(json!({"count": 1, "candidateNames": ["a", "b"]})), ["candidateNames"]);
        assert_eq!(paths(json!({"count": 1, "candidateEmails": ["nope"]})), ["candidateEmails.0"]);
        assert_eq!(paths(json!({"count": 2, "candidateNames": [1]})), ["candidateNames.0"]);
    }

    #[test]
    fn redeem_requests_normalise_the_key() {
        let parsed = parse_redeem_request(&json!({"key": "pst-abcd-efgh"})).unwrap();
        assert_eq!((parsed.key.as_deref(), parsed.candidate_name), (Some("PST-ABCD-EFGH"), None));
        let parsed =
            parse_redeem_request(&json!({"key": "garbage", "candidateName": "Ada"})).unwrap();
        assert_eq!((parsed.key, parsed.candidate_name.as_deref()), (None, Some("Ada")));
        assert!(parse_redeem_request(&json!({})).is_err());
    }

    #[test]
    fn redeem_requests_check_the_signing_key() {
        let key = crate::signing::SecretSeed::from_bytes([3; 32]).public_key();
        let body = json!({"key": "PST-ABCD-EFGH", "signingPubKey": key.to_base64()});
        assert_eq!(parse_redeem_request(&body).unwrap().signing_key, Some(key));
        for bad in [json!("AAAA"), json!(32), json!("!!")] {
            let errors =
                parse_redeem_request(&json!({"key": "PST-ABCD-EFGH", "signingPubKey": bad}))
                    .unwrap_err();
            assert_eq!(errors.0[0].path, "signingPubKey");
        }
    }
}
