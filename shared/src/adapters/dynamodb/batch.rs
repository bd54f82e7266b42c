//! BatchWriteItem with the retries it needs: under throttling DynamoDB accepts part of a batch and
//! hands the rest back as `UnprocessedItems`.

use super::errors::classify;
use super::{DynamoStore, Item};
use crate::ports::store::StoreError;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
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
