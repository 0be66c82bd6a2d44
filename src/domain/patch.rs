//! Serde helpers for PATCH bodies: telling "absent" from "null".

use serde::{Deserialize, Deserializer};

/// For a nullable field: absent → `None` (leave as is), `null` →
/// `Some(None)` (clear), a value → `Some(Some(v))`. Use with `default`.
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// For a field that cannot be cleared: absent → `None`, `null` is an
/// error, a value → `Some(v)`. Use with `default`.
pub fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}
