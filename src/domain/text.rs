//! Small text types that requests parse into.

use std::fmt;

macro_rules! text_newtype {
    ($(#[$meta:meta])* $name:ident, $parse:expr, $err:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
        #[serde(into = "String")]
        $(#[$meta])*
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<Self, &'static str> {
                let parse: fn(&str) -> Option<String> = $parse;
                parse(input).map($name).ok_or($err)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

text_newtype!(
    /// A human name or title: trimmed, 1–200 characters, no control characters.
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$", example = "天津经济技术开发区生物医药产教联合体")]
    Name,
    |s| {
        let t = s.trim();
        let n = t.chars().count();
        ((1..=200).contains(&n) && !t.chars().any(char::is_control)).then(|| t.to_owned())
    },
    "must be 1-200 characters of text without control characters"
);

text_newtype!(
    /// An absolute `http` or `https` URL with a host, at most 2048
    /// characters, kept as written (parsed by the `url` crate to check it).
    #[schema(value_type = String, max_length = 2048, pattern = r"^https?://[^\s/?#\u0000-\u001f\u007f-\u009f]+[^\s\u0000-\u001f\u007f-\u009f]*$", example = "https://www.teda.gov.cn/")]
    Url,
    |s| {
        let t = s.trim();
        let parsed = url::Url::parse(t).ok()?;
        let web = matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some_and(|h| !h.is_empty());
        let clean = !t.chars().any(|c| c.is_whitespace() || c.is_control());
        (web && clean && t.chars().count() <= 2048).then(|| t.to_owned())
    },
    "must be an absolute http(s) URL of at most 2048 characters"
);

text_newtype!(
    /// The name of a member organisation's own system (`hr-system`, `jwxt`):
    /// 1–64 ASCII letters, digits, `-`, `_` or `.`.
    #[schema(value_type = String, min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$", example = "kailaiying-hr")]
    ExternalSystem,
    |s| {
        ((1..=64).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .then(|| s.to_owned())
    },
    "must be 1-64 ASCII letters, digits, '-', '_' or '.'"
);

text_newtype!(
    /// A change event type, `<resource_type>.<created|updated|deleted>`
    /// (and `posting.published`).
    #[schema(value_type = String, max_length = 72, pattern = r"^[a-z_]{1,64}\.(created|updated|deleted|published)$", example = "membership.created")]
    EventType,
    |s| super::change::is_event_type(s).then(|| s.to_owned()),
    "must be an event type like `membership.created`"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  南开大学 ").unwrap().as_str(), "南开大学");
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"字".repeat(200)).is_ok());
        assert!(Name::parse(&"字".repeat(201)).is_err());
        assert!(Name::parse("a\u{0}b").is_err());
    }

    #[test]
    fn urls_need_a_scheme_and_host() {
        assert!(Url::parse("https://example.org/a?b=1").is_ok());
        assert!(Url::parse("ftp://example.org").is_err());
        assert!(Url::parse("https://").is_err());
        assert!(Url::parse("https://a b").is_err());
        assert!(Url::parse("http://[abc").is_err());
        assert!(Url::parse("https://天津.中国/路径").is_ok());
    }
}
