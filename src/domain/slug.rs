use std::fmt;

/// A URL-safe handle for an alliance or an organisation: lower-case ASCII
/// letters, digits and single hyphens, 2–64 characters, starting with a
/// letter (so it never looks like an id, which starts with a digit).
/// A slug does not change once given: tokens and clients hold on to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(into = "String")]
#[schema(value_type = String, example = "teda-biomedicine", pattern = "^[a-z][a-z0-9]*(-[a-z0-9]+)*$", min_length = 2, max_length = 64)]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a slug is 2-64 lower-case letters, digits and single hyphens, starting with a letter")]
pub struct SlugError;

impl Slug {
    pub fn parse(input: &str) -> Result<Self, SlugError> {
        let ok = (2..=64).contains(&input.len())
            && input.starts_with(|c: char| c.is_ascii_lowercase())
            && !input.ends_with('-')
            && !input.contains("--")
            && input
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Slug(input.to_owned()))
        } else {
            Err(SlugError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl<'de> serde::Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Slug::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::Slug;

    #[test]
    fn slugs() {
        for good in ["teda-biomedicine", "ab", "a1-b2"] {
            assert!(Slug::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a",
            "A-b",
            "1abc",
            "a--b",
            "a-",
            "-a",
            "a_b",
            "天津",
            &"a".repeat(65),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
