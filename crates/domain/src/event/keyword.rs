//! Closed sets of words in the envelope (`actor.type`, `provenance.attribution`, …): one macro, one field reader.

use crate::json::{join_path, JsonObject};
use crate::validation::ValidationErrors;

/// An enum whose values are spelled as fixed lower-case words on the wire.
pub(crate) trait Keyword: Sized {
    /// Every accepted spelling, in the order the spec lists them (used in error messages).
    const NAMES: &'static [&'static str];

    /// The value spelled `name`, if any (exact match, case-sensitive).
    fn from_name(name: &str) -> Option<Self>;
}

/// Declares a `Copy` enum spelled by fixed words, with `as_str`, `parse`, `ALL`, `Display` and [`Keyword`].
///
/// Mark the default variant with `#[default]`; the spec gives every one of these sets a default.
macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every value, in the order the spec lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The value as the API spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Reads the API spelling (exact and case-sensitive, as the spec lists the words).
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::event::keyword::Keyword for $name {
            const NAMES: &'static [&'static str] = &[$($text,)+];

            fn from_name(name: &str) -> Option<Self> {
                Self::parse(name)
            }
        }
    };
}

pub(crate) use keyword_enum;

/// Reads an optional keyword field: absent or `null` is `None`; anything but one of the words is recorded.
pub(crate) fn keyword_field<K: Keyword>(
    object: &JsonObject,
    key: &str,
    errors: &mut ValidationErrors,
    parent: &str,
) -> Option<K> {
    let value = object.get(key).filter(|value| !value.is_null())?;
    let found = value.as_str().and_then(K::from_name);
    if found.is_none() {
        errors.push(join_path(parent, key), format!("must be one of {}", K::NAMES.join(", ")));
    }
    found
}
