//! 统一社会信用代码 (Unified Social Credit Code), GB 32100-2015.

use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// An 18-character Unified Social Credit Code whose check character is right.
/// Input is accepted in either case and kept upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(into = "String")]
#[schema(value_type = String, example = "91120116MA05JR6K3W", pattern = "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")]
pub struct Uscc(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("a Unified Social Credit Code has 18 characters, not {0}")]
    Length(usize),
    #[error("character {position} ('{found}') is not allowed in a Unified Social Credit Code")]
    Character { position: usize, found: char },
    #[error("check character is '{found}' but the code requires '{expected}'")]
    Checksum { found: char, expected: char },
}

impl Uscc {
    pub fn parse(input: &str) -> Result<Self, UsccError> {
        let code = input.trim().to_ascii_uppercase();
        let count = code.chars().count();
        if count != 18 {
            return Err(UsccError::Length(count));
        }
        let mut values = [0u32; 18];
        for (i, c) in code.chars().enumerate() {
            values[i] = value_of(c).ok_or(UsccError::Character {
                position: i + 1,
                found: c,
            })?;
        }
        let expected = ALPHABET[check_value(&values[..17]) as usize] as char;
        let found = code.as_bytes()[17] as char;
        if found != expected {
            return Err(UsccError::Checksum { found, expected });
        }
        Ok(Uscc(code))
    }

    /// The check character for the first 17 characters of a code.
    pub fn check_char(first17: &str) -> Option<char> {
        let values: Option<Vec<u32>> = first17.chars().map(value_of).collect();
        let values = values.filter(|v| v.len() == 17)?;
        Some(ALPHABET[check_value(&values) as usize] as char)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn value_of(c: char) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|p| p as u32)
}

/// Weights are 3^(i-1) mod 31; the check value is (31 - sum mod 31) mod 31.
fn check_value(values: &[u32]) -> u32 {
    let mut weight = 1u32;
    let mut sum = 0u32;
    for v in values {
        sum += v * weight;
        weight = weight * 3 % 31;
    }
    (31 - sum % 31) % 31
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Uscc> for String {
    fn from(u: Uscc) -> String {
        u.0
    }
}

impl<'de> serde::Deserialize<'de> for Uscc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Uscc::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_valid_code_in_either_case() {
        let first = "91120116MA05JR6K3";
        let valid = format!("{first}{}", Uscc::check_char(first).unwrap());
        assert_eq!(Uscc::parse(&valid).unwrap().as_str(), valid);
        assert_eq!(Uscc::parse(&valid.to_lowercase()).unwrap().as_str(), valid);
    }

    #[test]
    fn known_published_code_verifies() {
        // 91350100M000100Y43 is the worked example used in GB 32100 guides.
        assert!(Uscc::parse("91350100M000100Y43").is_ok());
    }

    #[test]
    fn rejects_wrong_check_length_and_letters() {
        assert!(matches!(
            Uscc::parse("91350100M000100Y44"),
            Err(UsccError::Checksum { .. })
        ));
        assert_eq!(Uscc::parse("9135"), Err(UsccError::Length(4)));
        // I, O, S, V and Z are not in the alphabet.
        assert!(matches!(
            Uscc::parse("91350100I000100Y43"),
            Err(UsccError::Character {
                position: 9,
                found: 'I'
            })
        ));
    }
}
