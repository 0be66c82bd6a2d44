//! Types that parse once and the rules of the domain: no HTTP, no SQL.
//!
//! A value of one of these types is valid by construction, so the layers
//! above and below never check it again.

pub mod account;
pub mod activity;
pub mod alliance;
pub mod audit;
pub mod change;
pub mod council;
pub mod import_report;
pub mod kpi;
pub mod membership;
pub mod organization;
pub mod patch;
pub mod platform;
pub mod posting;
pub mod posting_summary;
pub mod report;
pub mod role;
mod slug;
mod text;
mod uscc;
pub mod webhook;

pub use slug::Slug;
pub use text::{EventType, ExternalSystem, Name, Url};
pub use uscc::Uscc;

/// An enumeration stored as its snake_case text in the database and sent as
/// the same text over the wire.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        // `rename_all` rather than a `rename` per variant: utoipa does not see
        // a literal passed through this macro. The `spelled_alike` test keeps
        // serde's spelling and `as_str` the same.
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
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

/// A representation with names of people in it, which a viewer token gets
/// masked: names are personal information (PIPL), and viewer tokens may be
/// anyone's when the operator makes the dashboard public.
pub trait PersonalData: Sized {
    /// The representation with each person's name masked.
    fn masked(self) -> Self;
}

impl<T: PersonalData> PersonalData for Vec<T> {
    fn masked(self) -> Self {
        self.into_iter().map(PersonalData::masked).collect()
    }
}

/// A person's name cut to its first character: 王芳 → 王*, Zhang Wei →
/// Z**** ***.
pub fn mask_person_name(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .into_iter()
        .chain(chars.map(|c| if c.is_whitespace() { c } else { '*' }))
        .collect()
}

/// A resource that carries a version and so an entity tag.
pub trait Versioned {
    /// The strong entity tag of the representation, quotes included.
    fn etag(&self) -> String;
}

#[cfg(test)]
mod tests {
    use super::alliance::{AllianceKind, AllianceStatus, DocumentKind, Sector};
    use super::membership::{MembershipRole, MembershipStatus};
    use super::organization::OrganizationKind;
    use super::role::Role;

    fn spelled_alike<
        T: serde::Serialize + std::fmt::Display + std::str::FromStr + PartialEq + std::fmt::Debug,
    >(
        all: &[T],
    ) {
        for v in all {
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                serde_json::Value::String(v.to_string())
            );
            assert_eq!(v.to_string().parse::<T>().ok().as_ref(), Some(v));
        }
    }

    #[test]
    fn serde_and_the_database_spell_every_variant_alike() {
        spelled_alike(AllianceKind::ALL);
        spelled_alike(AllianceStatus::ALL);
        spelled_alike(Sector::ALL);
        spelled_alike(DocumentKind::ALL);
        spelled_alike(OrganizationKind::ALL);
        spelled_alike(super::organization::CertificationLevel::ALL);
        spelled_alike(super::organization::RegistrationCategory::ALL);
        spelled_alike(MembershipRole::ALL);
        spelled_alike(MembershipStatus::ALL);
        spelled_alike(super::membership::MembershipChangeField::ALL);
        spelled_alike(Role::ALL);
        spelled_alike(super::kpi::KpiUnit::ALL);
        spelled_alike(super::kpi::KpiDirection::ALL);
        spelled_alike(super::kpi::KpiValueType::ALL);
        spelled_alike(super::kpi::ActivityFigure::ALL);
        spelled_alike(super::council::Position::ALL);
        spelled_alike(super::activity::ActivityKind::ALL);
        spelled_alike(super::activity::ResearchStatus::ALL);
        spelled_alike(super::platform::PlatformKind::ALL);
        spelled_alike(super::platform::PlatformStatus::ALL);
        spelled_alike(super::webhook::SubscriptionStatus::ALL);
        spelled_alike(super::webhook::DeliveryStatus::ALL);
    }
}
