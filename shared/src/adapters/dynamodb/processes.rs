//! Processes and their per-client trackers: one item collection per process.

use super::entities::{
    Entity, PROCESS_LIST, TRACKER_PREFIX, client_trackers_partition, open_tracker_list, process_key,
    processes_of_stock_partition, tracker_key,
};
use super::{Assignment, DynamoStore, Query, SortCondition, VERSION, assign_all, from_item, number, table};
use crate::domain::ids::{ClientId, ProcessId, StockId};
use crate::domain::process::Process;
use crate::domain::tracker::{Tracker, TrackerState};
use crate::ports::store::{Page, PageRequest, ProcessStore, StoreError, TrackerStore, Versioned};
use async_trait::async_trait;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use table::{PK, SK};

#[async_trait]
impl ProcessStore for DynamoStore {
    async fn create_process(&self, process: &Process) -> Result<Versioned<Process>, StoreError> {
        self.create_entity(process).await
    }

    async fn get_process(&self, id: &ProcessId) -> Result<Versioned<Process>, StoreError> {
        self.get_entity(process_key(id), id.as_str()).await
    }

    async fn update_process(&self, process: &Process, expected_version: u64) -> Result<Versioned<Process>, StoreError> {
        self.update_entity(process, expected_version, None).await
    }

    async fn list_processes(&self, page: &PageRequest) -> Result<Page<Versioned<Process>>, StoreError> {
        let q = Query { index: Some(table::GSI1), partition: PROCESS_LIST.into(), sort: SortCondition::Any };
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

    async fn save_draft_trackers(
        &self,
        process: &ProcessId,
        expected_process_version: u64,
        trackers: &[Tracker],
    ) -> Result<(), StoreError> {
        if let Some(stray) = trackers.iter().find(|t| &t.process_id != process) {
            return Err(StoreError::Conflict {
                entity: Tracker::NAME,
                id: stray.id(),
                detail: format!("belongs to another process than {process}"),
            });
        }
        for chunk in trackers.chunks(TRANSACTION - 1) {
            let mut items = vec![draft_check(&self.table, process, expected_process_version)?];
            for tracker in chunk {
                items.push(replace_pending(&self.table, tracker)?);
            }
            let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
            if let Err(err) = result {
                return Err(draft_save_error(err, process, expected_process_version, chunk));
            }
        }
        Ok(())
    }

    async fn remove_pending_tracker(&self, process: &ProcessId, client: &ClientId) -> Result<(), StoreError> {
        let (pk, sk) = tracker_key(process, client);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .condition_expression("attribute_not_exists(#pk) OR #state = :pending")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", AttributeValue::S(TrackerState::Pending.as_str().into()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err(match super::errors::classify(e) {
                super::errors::ErrorKind::ConditionFailed(_) => StoreError::Conflict {
                    entity: Tracker::NAME,
                    id: format!("{process}/{client}"),
                    detail: "has moved on from pending".into(),
                },
                other => other.into_store_error(Tracker::NAME, &format!("{process}/{client}")),
            }),
        }
    }

    async fn get_tracker(&self, process: &ProcessId, client: &ClientId) -> Result<Versioned<Tracker>, StoreError> {
        self.get_entity(tracker_key(process, client), &format!("{process}/{client}")).await
    }

    async fn trackers_of_process(&self, process: &ProcessId) -> Result<Vec<Versioned<Tracker>>, StoreError> {
        let q = Query {
            index: None,
            partition: process_key(process).0,
            sort: SortCondition::BeginsWith(TRACKER_PREFIX.into()),
        };
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let (items, next) = self.query_items(&q, self.read_page_size, cursor.as_ref()).await?;
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
        self.update_entity(tracker, expected_version, Some(("state", state))).await
    }

    async fn trackers_of_client(
        &self,
        client: &ClientId,
        page: &PageRequest,
    ) -> Result<Page<Versioned<Tracker>>, StoreError> {
        let q = Query {
            index: Some(table::GSI2),
            partition: client_trackers_partition(client),
            sort: SortCondition::BeginsWith(TRACKER_PREFIX.into()),
        };
        self.query_page(q, page).await
    }

    async fn trackers_in_state(
        &self,
        state: TrackerState,
        page: &PageRequest,
    ) -> Result<Page<Versioned<Tracker>>, StoreError> {
        let q = Query { index: Some(table::GSI1), partition: open_tracker_list(state), sort: SortCondition::Any };
        self.query_page(q, page).await
    }
}

/// TransactWriteItems takes at most 100 items.
const TRANSACTION: usize = 100;

fn draft_check(table: &str, process: &ProcessId, version: u64) -> Result<TransactWriteItem, StoreError> {
    let (pk, sk) = process_key(process);
    let check = ConditionCheck::builder()
        .table_name(table)
        .key(PK, AttributeValue::S(pk))
        .key(SK, AttributeValue::S(sk))
        .condition_expression("#state = :draft AND #version = :version")
        .expression_attribute_names("#state", "state")
        .expression_attribute_names("#version", VERSION)
        .expression_attribute_values(":draft", AttributeValue::S("draft".into()))
        .expression_attribute_values(":version", number(version))
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// Creates the tracker or replaces it while it is still pending; its version only ever grows.
fn replace_pending(table: &str, tracker: &Tracker) -> Result<TransactWriteItem, StoreError> {
    let (pk, sk) = tracker_key(&tracker.process_id, &tracker.client_id);
    let Assignment { expression, names, values } = assign_all(tracker, None)?;
    let update = Update::builder()
        .table_name(table)
        .key(PK, AttributeValue::S(pk))
        .key(SK, AttributeValue::S(sk))
        .update_expression(format!("{expression} ADD #version :one"))
        .condition_expression("attribute_not_exists(#pk) OR #state = :pending")
        .set_expression_attribute_names(Some(names))
        .expression_attribute_names("#version", VERSION)
        .expression_attribute_names("#pk", PK)
        .expression_attribute_names("#state", "state")
        .set_expression_attribute_values(Some(values))
        .expression_attribute_values(":one", number(1))
        .expression_attribute_values(":pending", AttributeValue::S(TrackerState::Pending.as_str().into()))
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// Says which condition of a draft save failed: the process (item 0) or a tracker.
fn draft_save_error(
    err: SdkError<TransactWriteItemsError, HttpResponse>,
    process: &ProcessId,
    version: u64,
    chunk: &[Tracker],
) -> StoreError {
    if let SdkError::ServiceError(service) = &err
        && let TransactWriteItemsError::TransactionCanceledException(cancelled) = service.err()
    {
        let failed = cancelled.cancellation_reasons().iter().position(|r| r.code() == Some("ConditionalCheckFailed"));
        match failed {
            Some(0) => {
                return StoreError::Conflict {
                    entity: Process::NAME,
                    id: process.to_string(),
                    detail: format!("is no longer a draft at version {version}"),
                };
            }
            Some(i) => {
                let id = chunk.get(i - 1).map(Entity::id).unwrap_or_default();
                return StoreError::Conflict { entity: Tracker::NAME, id, detail: "has moved on from pending".into() };
            }
            None => {}
        }
    }
    StoreError::Unavailable(DisplayErrorContext(err).to_string())
}
