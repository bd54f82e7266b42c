//! Processes and their per-client trackers: one item collection per process.

use super::entities::{
    Entity, PROCESS_LIST, TRACKER_PREFIX, open_tracker_list, process_key,
    processes_of_stock_partition, tracker_key,
};
use super::errors::classify;
use super::{DynamoStore, Query, SortCondition, from_item, table, to_item};
use crate::domain::ids::{ClientId, ProcessId, StockId};
use crate::domain::process::Process;
use crate::domain::tracker::{Tracker, TrackerState};
use crate::ports::store::{Page, PageRequest, ProcessStore, StoreError, TrackerStore, Versioned};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use std::collections::HashMap;
use std::time::Duration;

/// BatchWriteItem takes at most 25 requests.
const BATCH: usize = 25;
/// Attempts at the items DynamoDB leaves unprocessed under throttling, with doubling pauses.
const BATCH_ATTEMPTS: u32 = 8;

#[async_trait]
impl ProcessStore for DynamoStore {
    async fn create_process(&self, process: &Process) -> Result<Versioned<Process>, StoreError> {
        self.create_entity(process).await
    }

    async fn get_process(&self, id: &ProcessId) -> Result<Versioned<Process>, StoreError> {
        self.get_entity(process_key(id), id.as_str()).await
    }

    async fn update_process(
        &self,
        process: &Process,
        expected_version: u64,
    ) -> Result<Versioned<Process>, StoreError> {
        self.update_entity(process, expected_version, None).await
    }

    async fn list_processes(
        &self,
        page: &PageRequest,
    ) -> Result<Page<Versioned<Process>>, StoreError> {
        let q = Query {
            index: Some(table::GSI1),
            partition: PROCESS_LIST.into(),
            sort: SortCondition::Any,
        };
        self.query_page(q, page).await
    }

    async fn processes_of_stock(
        &self,
        stock: &StockId,
        page: &PageRequest,
    ) -> Result<Page<Versioned<Process>>, StoreError> {
        let q = Query {
            index: Some(table::GSI2),
            partition: processes_of_stock_partition(stock),
            sort: SortCondition::BeginsWith("PROCESS#".into()),
        };
        self.query_page(q, page).await
    }
}

#[async_trait]
impl TrackerStore for DynamoStore {
    async fn create_tracker(&self, tracker: &Tracker) -> Result<Versioned<Tracker>, StoreError> {
        self.create_entity(tracker).await
    }

    async fn put_trackers(&self, trackers: &[Tracker]) -> Result<(), StoreError> {
        for chunk in trackers.chunks(BATCH) {
            let requests = chunk
                .iter()
                .map(|t| {
                    let put = PutRequest::builder()
                        .set_item(Some(to_item(t, 1)?))
                        .build()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.batch_write(requests).await?;
        }
        Ok(())
    }

    async fn get_tracker(
        &self,
        process: &ProcessId,
        client: &ClientId,
    ) -> Result<Versioned<Tracker>, StoreError> {
        self.get_entity(tracker_key(process, client), &format!("{process}/{client}"))
            .await
    }

    async fn trackers_of_process(
        &self,
        process: &ProcessId,
    ) -> Result<Vec<Versioned<Tracker>>, StoreError> {
        let q = Query {
            index: None,
            partition: process_key(process).0,
            sort: SortCondition::BeginsWith(TRACKER_PREFIX.into()),
        };
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let (items, next) = self.query_items(&q, 1_000, cursor.as_ref()).await?;
            for item in items {
                all.push(from_item(item)?);
            }
            match next {
                Some(c) => cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    async fn transition_tracker(
        &self,
        tracker: &Tracker,
        expected_state: TrackerState,
        expected_version: u64,
    ) -> Result<Versioned<Tracker>, StoreError> {
        let state = AttributeValue::S(expected_state.as_str().to_owned());
        self.update_entity(tracker, expected_version, Some(("state", state)))
            .await
    }

    async fn trackers_in_state(
        &self,
        state: TrackerState,
        page: &PageRequest,
    ) -> Result<Page<Versioned<Tracker>>, StoreError> {
        let q = Query {
            index: Some(table::GSI1),
            partition: open_tracker_list(state),
            sort: SortCondition::Any,
        };
        self.query_page(q, page).await
    }
}

impl DynamoStore {
    /// Writes up to 25 requests, retrying what DynamoDB leaves unprocessed.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut pending: HashMap<String, Vec<WriteRequest>> =
            HashMap::from([(self.table.clone(), requests)]);
        for attempt in 0..BATCH_ATTEMPTS {
            let output = self
                .client
                .batch_write_item()
                .set_request_items(Some(pending))
                .send()
                .await
                .map_err(|e| classify(e).into_store_error(Tracker::NAME, "batch"))?;
            pending = output.unprocessed_items.unwrap_or_default();
            pending.retain(|_, v| !v.is_empty());
            if pending.is_empty() {
                return Ok(());
            }
            let left: usize = pending.values().map(Vec::len).sum();
            tracing::warn!(
                attempt,
                left,
                "DynamoDB left batch items unprocessed; retrying"
            );
            tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
        }
        Err(StoreError::Unavailable(format!(
            "DynamoDB left items unprocessed after {BATCH_ATTEMPTS} attempts"
        )))
    }
}
