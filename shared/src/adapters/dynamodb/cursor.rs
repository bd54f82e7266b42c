//! Page cursors: DynamoDB's `LastEvaluatedKey`, base64url-encoded JSON. Opaque to callers, and
//! checked on the way back in so that a cursor from one list cannot walk another.

use crate::ports::store::{Cursor, StoreError};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::{BTreeMap, HashMap};

pub fn encode(key: &HashMap<String, AttributeValue>) -> Option<Cursor> {
    let strings: BTreeMap<&str, &str> =
        key.iter().map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str()))).collect::<Option<_>>()?;
    let json = serde_json::to_vec(&strings).ok()?;
    Some(Cursor(URL_SAFE_NO_PAD.encode(json)))
}

/// Decodes a cursor for a query whose partition attribute `partition_attr` has value
/// `partition_value` and whose key attributes are exactly `attrs`.
pub fn decode(
    cursor: &Cursor,
    attrs: &[&str],
    partition_attr: &str,
    partition_value: &str,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.0.as_bytes()).map_err(|_| StoreError::InvalidCursor)?;
    let map: BTreeMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    let same_keys = map.len() == attrs.len() && attrs.iter().all(|a| map.contains_key(*a));
    if !same_keys || map.get(partition_attr).map(String::as_str) != Some(partition_value) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(map.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> HashMap<String, AttributeValue> {
        [("PK", "CLIENT#a"), ("SK", "#CLIENT"), ("GSI1PK", "CLIENT"), ("GSI1SK", "a")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
            .collect()
    }

    const ATTRS: [&str; 4] = ["PK", "SK", "GSI1PK", "GSI1SK"];

    #[test]
    fn cursors_round_trip() {
        let cursor = encode(&key()).unwrap();
        assert!(cursor.0.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(decode(&cursor, &ATTRS, "GSI1PK", "CLIENT").unwrap(), key());
    }

    #[test]
    fn foreign_or_forged_cursors_are_refused() {
        let cursor = encode(&key()).unwrap();
        assert_eq!(decode(&cursor, &ATTRS, "GSI1PK", "STOCK"), Err(StoreError::InvalidCursor));
        assert_eq!(decode(&cursor, &["PK", "SK"], "PK", "CLIENT#a"), Err(StoreError::InvalidCursor));
        for junk in ["", "!!!", "e30", "bm90IGpzb24"] {
            assert_eq!(decode(&Cursor(junk.into()), &ATTRS, "GSI1PK", "CLIENT"), Err(StoreError::InvalidCursor));
        }
    }
}
