//! Types that parse once and the rules of the domain: no HTTP, no SQL.
//!
//! A value of one of these types is valid by construction, so the layers
//! above and below never check it again.

pub mod alliance;
pub mod membership;
pub mod organization;
mod slug;
mod text;
mod uscc;

pub use slug::Slug;
pub use text::{ExternalSystem, Name, Url};
pub use uscc::Uscc;

/// An enumeration stored as its snake_case text in the database and sent as
/// the same text over the wire.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::domain::UnknownVariant(s.to_owned())),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

/// Text that names no variant of an enumeration (found only in a damaged
/// database: requests are parsed by serde, which names the variants).
#[derive(Debug, thiserror::Error)]
#[error("unknown variant `{0}`")]
pub struct UnknownVariant(pub String);

/// A resource that carries a version and so an entity tag.
pub trait Versioned {
    /// The strong entity tag of the representation, quotes included.
    fn etag(&self) -> String;
}
