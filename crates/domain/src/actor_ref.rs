//! Who acted for an org: a signed-in user or an org API key. Scores and hiring decisions carry it, and so will
//! the audit log's entries (spec §10.4, `actor: {type, id, name}`).

/// Whether a person or a key acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ActorKind {
    /// An org API key (`psk_live_…`).
    ApiKey,
    /// A user signed in to the web UI.
    User,
}

impl ActorKind {
    /// The kind as the API and storage spell it (`apiKey`, `user`).
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::ApiKey => "apiKey",
            ActorKind::User => "user",
        }
    }

    /// Reads a stored kind.
    pub fn parse(text: &str) -> Option<Self> {
        [ActorKind::ApiKey, ActorKind::User].into_iter().find(|kind| kind.as_str() == text)
    }
}

/// `{type, id, name}`: who acted, with the name they had when they did, so a record still reads right after the
/// user is renamed or the key revoked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ActorRef {
    /// A user or an API key.
    #[serde(rename = "type")]
    pub kind: ActorKind,
    /// The user's or the key's id.
    pub id: String,
    /// The user's name, or the key's.
    pub name: String,
}

impl ActorRef {
    /// A signed-in user.
    pub fn user(id: impl Into<String>, name: impl Into<String>) -> Self {
        ActorRef { kind: ActorKind::User, id: id.into(), name: name.into() }
    }

    /// An org API key, named as [`api_key_name`](crate::api_key_record::api_key_name) names it.
    pub fn api_key(id: impl Into<String>, name: impl Into<String>) -> Self {
        ActorRef { kind: ActorKind::ApiKey, id: id.into(), name: name.into() }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn serialises_as_the_audit_logs_actor() {
        let actor = ActorRef::user("u-1", "Grace");
        assert_eq!(
            serde_json::to_value(&actor).unwrap(),
            json!({"type": "user", "id": "u-1", "name": "Grace"})
        );
        assert_eq!(serde_json::to_value(ActorKind::ApiKey).unwrap(), json!("apiKey"));
        for kind in [ActorKind::ApiKey, ActorKind::User] {
            assert_eq!(ActorKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ActorKind::parse("candidate"), None);
    }
}
