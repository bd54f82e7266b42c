//! BatchWriteItem and BatchGetItem with the retries they need: under throttling DynamoDB does part
//! of a batch and hands the rest back (`UnprocessedItems`, `UnprocessedKeys`).

use super::errors::classify;
use super::{DynamoStore, Item};
use crate::ports::store::StoreError;
use aws_sdk_dynamodb::types::{KeysAndAttributes, PutRequest, WriteRequest};
use std::collections::HashMap;
use std::time::Duration;

/// BatchWriteItem takes at most 25 requests.
const BATCH: usize = 25;
/// Attempts at what is left unprocessed, with doubling pauses from 50 ms (6.35 s in all).
const ATTEMPTS: u32 = 8;

impl DynamoStore {
    /// Puts every item, unconditionally: only for records that are immutable and uniquely keyed.
    pub(super) async fn put_all(&self, entity: &'static str, items: Vec<Item>) -> Result<(), StoreError> {
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let requests = items
                .by_ref()
                .take(BATCH)
                .map(|item| {
                    let put = PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.write_batch(entity, requests).await?;
        }
        Ok(())
    }

    async fn write_batch(&self, entity: &'static str, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut pending: HashMap<String, Vec<WriteRequest>> = HashMap::from([(self.table.clone(), requests)]);
        for attempt in 0..ATTEMPTS {
            let output = self
                .client
                .batch_write_item()
                .set_request_items(Some(pending))
                .send()
                .await
                .map_err(|e| classify(e).into_store_error(entity, "batch"))?;
            pending = output.unprocessed_items.unwrap_or_default();
            pending.retain(|_, v| !v.is_empty());
            if pending.is_empty() {
                return Ok(());
            }
            let left: usize = pending.values().map(Vec::len).sum();
            tracing::warn!(attempt, left, entity, "DynamoDB left batch items unprocessed; retrying");
            tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
        }
        Err(StoreError::Unavailable(format!("DynamoDB left {entity} items unprocessed after {ATTEMPTS} attempts")))
    }
}

/// BatchGetItem takes at most 100 keys.
const BATCH_GET: usize = 100;

impl DynamoStore {
    /// The items at `keys` that exist, read strongly consistently, in no particular order.
    pub(super) async fn get_all(&self, entity: &'static str, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            );
            let mut attempt = 0;
            while let Some(request) = pending.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(self.table.clone(), request)
                    .send()
                    .await
                    .map_err(|e| classify(e).into_store_error(entity, "batch"))?;
                found.extend(output.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
                pending =
                    output.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys().is_empty());
                if pending.is_some() {
                    attempt += 1;
                    if attempt >= ATTEMPTS {
                        return Err(StoreError::Unavailable(format!(
                            "DynamoDB left {entity} keys unread after {ATTEMPTS} attempts"
                        )));
                    }
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
            }
        }
        Ok(found)
    }
}
