//! Orgs: the tenants that own everything else.

use chrono::{DateTime, Utc};

use crate::ids::OrgId;

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Opaque id.
    pub id: OrgId,
    /// Display name.
    pub name: OrgName,
    /// When the operator created it.
    pub created_at: DateTime<Utc>,
}

/// Why an org name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("org name must be 1-255 characters and not only blanks")]
pub struct InvalidOrgName;

/// An org's display name: 1–255 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgName(String);

impl OrgName {
    /// Trims and checks a name.
    pub fn parse(text: &str) -> Result<Self, InvalidOrgName> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.chars().count() > 255 {
            Err(InvalidOrgName)
        } else {
            Ok(Self(trimmed.to_owned()))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(OrgName::parse("  Acme ").unwrap().as_str(), "Acme");
        assert_eq!(OrgName::parse("   "), Err(InvalidOrgName));
        assert_eq!(OrgName::parse(&"x".repeat(256)), Err(InvalidOrgName));
    }
}
