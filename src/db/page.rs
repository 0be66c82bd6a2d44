//! Keyset pagination: results in id order (ids are UUIDv7, so that is
//! creation order), the cursor is the last id seen, hex-encoded.

use crate::error::{ApiError, FieldError};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A validated page request: how many, and after which id.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<String>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            let message = format!("limit must be between 1 and {MAX_LIMIT}");
            return Err(ApiError::BadRequest {
                detail: message.clone(),
                errors: vec![FieldError::new("limit", "out_of_range", message)],
            });
        }
        let after = cursor.filter(|c| !c.is_empty()).map(decode).transpose()?;
        Ok(PageRequest { limit, after })
    }

    /// Turns `limit + 1` fetched rows into a page and its next cursor.
    pub fn finish<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> &str) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode(id_of(r)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// Hex of the last id. Any even-length lower-case hex string decodes (to
/// some position in the order), so a cursor that matches the documented
/// pattern is never refused; anything else is a 400.
fn encode(id: &str) -> String {
    hex::encode(id)
}

fn decode(cursor: &str) -> Result<String, ApiError> {
    // Lower case only, as the pattern in the description says.
    let lower = cursor
        .bytes()
        .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    let bytes = (lower && cursor.len() <= 128)
        .then(|| hex::decode(cursor).ok())
        .flatten();
    bytes
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .ok_or_else(|| ApiError::BadRequest {
            detail: "the cursor is not one this service gave out".into(),
            errors: vec![FieldError::new(
                "cursor",
                "invalid",
                "use next_cursor from a previous page",
            )],
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = "01a20af2-ade5-748a-af33-443d0bedf3e4";
        assert_eq!(decode(&encode(id)).unwrap(), id);
        assert!(decode("abc").is_err());
        assert!(decode("zz").is_err());
        assert!(decode("ÿÿ").is_err());
        assert_eq!(decode("ff").unwrap(), "\u{fffd}");
    }
}
