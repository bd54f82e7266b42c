//! One-time link codes: `LINKCODE#<code>`, taken by a conditional delete so that a code links at
//! most one group, and never after it expired (TTL deletion is lazy).

use super::errors::unless_condition_failed;
use super::{DynamoStore, number, table};
use crate::domain::ids::ClientId;
use crate::domain::link_code::LinkCode;
use crate::domain::time::Timestamp;
use crate::ports::store::{LinkCodeStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use std::collections::HashMap;
use table::{PK, SK, TTL_ATTRIBUTE};

const NAME: &str = "link code";
const CLIENT: &str = "ClientId";

fn key(code: &LinkCode) -> (AttributeValue, AttributeValue) {
    (AttributeValue::S(format!("LINKCODE#{code}")), AttributeValue::S("#LINKCODE".into()))
}

fn seconds(t: Timestamp) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0)
}

#[async_trait]
impl LinkCodeStore for DynamoStore {
    async fn create_link_code(
        &self,
        code: &LinkCode,
        client: &ClientId,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let (pk, sk) = key(code);
        let item = HashMap::from([
            (PK.to_owned(), pk),
            (SK.to_owned(), sk),
            ("Entity".to_owned(), AttributeValue::S("link_code".into())),
            (CLIENT.to_owned(), AttributeValue::S(client.to_string())),
            (TTL_ATTRIBUTE.to_owned(), number(seconds(expires_at))),
        ]);
        if self.put_new(item, NAME, code.as_str()).await? {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists { entity: NAME, id: code.to_string() })
        }
    }

    async fn redeem_link_code(
        &self,
        code: &LinkCode,
        now: Timestamp,
    ) -> Result<Option<(ClientId, Timestamp)>, StoreError> {
        let (pk, sk) = key(code);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .condition_expression("#expires >= :now")
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", number(seconds(now)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        // Unknown codes fail the condition too (no attribute to compare).
        let Some(output) = unless_condition_failed(result, NAME, code.as_str())? else { return Ok(None) };
        let old = output.attributes;
        let Some(owner) = old.as_ref().and_then(|item| item.get(CLIENT)).and_then(|v| v.as_s().ok()) else {
            return Ok(None);
        };
        let expires_at = old
            .as_ref()
            .and_then(|item| super::read_number(item, TTL_ATTRIBUTE))
            .and_then(|secs| i64::try_from(secs).ok())
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
            .unwrap_or(now);
        owner.parse().map(|id| Some((id, expires_at))).map_err(|e: crate::domain::ids::IdError| StoreError::Corrupt {
            entity: NAME,
            id: code.to_string(),
            reason: e.to_string(),
        })
    }
}
