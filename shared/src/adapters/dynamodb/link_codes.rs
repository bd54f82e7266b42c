//! One-time link codes: `LINKCODE#<code>`, taken by a conditional update (`Taken`; the webhook
//! may not delete) so that a code links at most one group, and never after it expired (TTL
//! deletion is lazy). Each client's latest code is
//! named on `LINKCODE#CLIENT#<client>`: issuing a code revokes the client's earlier ones (a leaked
//! code stops working once a new one is issued), and a code that links revokes the rest.

use super::errors::{classify, unless_condition_failed};
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
/// Set when the code linked a group: it links no other.
const TAKEN: &str = "Taken";
/// On a client's latest-code record: the code that may still link, or [`SPENT`].
const LATEST: &str = "Code";
/// No code of the client may link: the latest one did.
const SPENT: &str = "-";

fn key(code: &LinkCode) -> (AttributeValue, AttributeValue) {
    (AttributeValue::S(format!("LINKCODE#{code}")), AttributeValue::S("#LINKCODE".into()))
}

fn latest_key(client: &ClientId) -> (AttributeValue, AttributeValue) {
    (AttributeValue::S(format!("LINKCODE#CLIENT#{client}")), AttributeValue::S("#LINKCODE".into()))
}

fn seconds(t: Timestamp) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0)
}

impl DynamoStore {
    /// Names the client's only code that may link ([`SPENT`]: none), until `expires_at`, after
    /// which every earlier code has expired too and the record is not needed.
    async fn set_latest(&self, client: &ClientId, code: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        let (pk, sk) = latest_key(client);
        let latest = HashMap::from([
            (PK.to_owned(), pk),
            (SK.to_owned(), sk),
            ("Entity".to_owned(), AttributeValue::S("latest link code".into())),
            (LATEST.to_owned(), AttributeValue::S(code.to_owned())),
            (TTL_ATTRIBUTE.to_owned(), number(seconds(expires_at))),
        ]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(latest))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(e).into_store_error(NAME, client.as_str()))
    }
}

#[async_trait]
impl LinkCodeStore for DynamoStore {
    async fn create_link_code(
        &self,
        code: &LinkCode,
        client: &ClientId,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        // The latest code first: a failure between the two writes leaves every code revoked (staff
        // issue another), never an earlier one valid.
        self.set_latest(client, code.as_str(), expires_at).await?;
        let (pk, sk) = key(code);
        let item = HashMap::from([
            (PK.to_owned(), pk),
            (SK.to_owned(), sk),
            ("Entity".to_owned(), AttributeValue::S("link_code".into())),
            (CLIENT.to_owned(), AttributeValue::S(client.to_string())),
            (TTL_ATTRIBUTE.to_owned(), number(seconds(expires_at))),
        ]);
        // A taken code's record waits for TTL: the same code may be issued (or given back) over it.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR attribute_exists(#taken)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#taken", TAKEN)
            .send()
            .await;
        match unless_condition_failed(result, NAME, code.as_str())? {
            Some(_) => Ok(()),
            None => Err(StoreError::AlreadyExists { entity: NAME, id: code.to_string() }),
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
            .update_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .update_expression("SET #taken = :now")
            .condition_expression("#expires >= :now AND attribute_not_exists(#taken)")
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_names("#taken", TAKEN)
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
        let owner: ClientId = owner.parse().map_err(|e: crate::domain::ids::IdError| StoreError::Corrupt {
            entity: NAME,
            id: code.to_string(),
            reason: e.to_string(),
        })?;
        // Only the client's latest code links, once; a client without the record has codes issued
        // before it existed, which stay valid until they expire.
        let (pk, sk) = latest_key(&owner);
        let spent = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .update_expression("SET #latest = :spent")
            .condition_expression("attribute_not_exists(#latest) OR #latest = :code")
            .expression_attribute_names("#latest", LATEST)
            .expression_attribute_values(":spent", AttributeValue::S(SPENT.into()))
            .expression_attribute_values(":code", AttributeValue::S(code.to_string()))
            .send()
            .await;
        if unless_condition_failed(spent, NAME, code.as_str())?.is_none() {
            tracing::warn!(client = %owner, "a revoked link code was tried");
            return Ok(None);
        }
        Ok(Some((owner, expires_at)))
    }

    async fn revoke_link_codes(&self, client: &ClientId, until: Timestamp) -> Result<(), StoreError> {
        self.set_latest(client, SPENT, until).await
    }
}
