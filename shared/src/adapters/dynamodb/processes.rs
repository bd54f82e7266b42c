//! Processes and their per-client trackers: one item collection per process.

use super::entities::{
    Entity, PROCESS_LIST, TRACKER_PREFIX, client_trackers_partition, open_tracker_list, process_key,
    processes_of_stock_partition, stock_key, tracker_key,
};
use super::messages::entry_put;
use super::staff_feed::card_counts;
use super::{
    Assignment, DynamoStore, ENTITY, Item, Query, SortCondition, VERSION, assign_all, conflict, from_item, key_item,
    number, table, to_item,
};
use crate::domain::ids::{ClientId, ProcessId, StockId};
use crate::domain::message_log::MessageLogEntry;
use crate::domain::process::Process;
use crate::domain::stock::Stock;
use crate::domain::tracker::{Tracker, TrackerState};
use crate::ports::store::{Page, PageRequest, ProcessBundle, ProcessStore, StoreError, TrackerStore, Versioned};
use async_trait::async_trait;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
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
        let q =
            Query { index: Some(table::GSI1), partition: PROCESS_LIST.into(), sort: SortCondition::Any, filter: None };
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
            filter: None,
        };
        self.query_page(q, page).await
    }
}

#[async_trait]
impl TrackerStore for DynamoStore {
    async fn process_bundle(
        &self,
        process: &ProcessId,
        stock: Option<&StockId>,
        tracker_of: Option<&ClientId>,
    ) -> Result<ProcessBundle, StoreError> {
        let mut keys = vec![key_item(process_key(process))];
        keys.extend(stock.map(|s| key_item(stock_key(s))));
        keys.extend(tracker_of.map(|c| key_item(tracker_key(process, c))));
        let (mut found_process, mut found_stock, mut found_tracker) = (None, None, None);
        for item in self.get_all(Process::NAME, keys).await? {
            match item.get(ENTITY).and_then(|e| e.as_s().ok()).map(String::as_str) {
                Some(Process::NAME) => found_process = Some(from_item(item)?),
                Some(Stock::NAME) => found_stock = Some(from_item(item)?),
                Some(Tracker::NAME) => found_tracker = Some(from_item(item)?),
                _ => {}
            }
        }
        let process =
            found_process.ok_or_else(|| StoreError::NotFound { entity: Process::NAME, id: process.to_string() })?;
        if let (Some(id), None) = (stock, &found_stock) {
            return Err(StoreError::NotFound { entity: Stock::NAME, id: id.to_string() });
        }
        Ok(ProcessBundle { process, stock: found_stock, tracker: found_tracker })
    }

    async fn create_tracker(&self, tracker: &Tracker) -> Result<Versioned<Tracker>, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(tracker, 1)?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            card_counts(&self.table, &tracker.process_id, &[(tracker.state(), 1)])?,
        ];
        match self.run_tracker_transaction(items).await? {
            None => Ok(Versioned { value: tracker.clone(), version: 1 }),
            Some(_) => Err(StoreError::AlreadyExists { entity: Tracker::NAME, id: tracker.id() }),
        }
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
        // A draft's trackers move only here, so its counts can be taken as they now are.
        let mut counts = std::collections::BTreeMap::new();
        for tracker in self.trackers_of_process(process).await? {
            *counts.entry(tracker.value.state()).or_insert(0) += 1;
        }
        self.set_counts(process, &counts).await
    }

    async fn remove_pending_tracker(&self, process: &ProcessId, client: &ClientId) -> Result<(), StoreError> {
        let (pk, sk) = tracker_key(process, client);
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", AttributeValue::S(TrackerState::Pending.as_str().into()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            card_counts(&self.table, process, &[(TrackerState::Pending, -1)])?,
        ];
        match self.run_tracker_transaction(items).await? {
            // Already gone: fine.
            None | Some(None) => Ok(()),
            Some(Some(_)) => Err(StoreError::Conflict {
                entity: Tracker::NAME,
                id: format!("{process}/{client}"),
                detail: "has moved on from pending".into(),
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
            filter: None,
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

    async fn trackers_page(
        &self,
        process: &ProcessId,
        state: Option<TrackerState>,
        page: &PageRequest,
    ) -> Result<Page<Versioned<Tracker>>, StoreError> {
        let q = Query {
            index: None,
            partition: process_key(process).0,
            sort: SortCondition::BeginsWith(TRACKER_PREFIX.into()),
            filter: state.map(|s| ("state", AttributeValue::S(s.as_str().to_owned()))),
        };
        self.query_page(q, page).await
    }

    async fn transition_tracker(
        &self,
        tracker: &Tracker,
        expected_state: TrackerState,
        expected_version: u64,
    ) -> Result<Versioned<Tracker>, StoreError> {
        self.transition_tracker_logged(tracker, expected_state, expected_version, &[]).await
    }

    async fn transition_tracker_logged(
        &self,
        tracker: &Tracker,
        expected_state: TrackerState,
        expected_version: u64,
        log: &[MessageLogEntry],
    ) -> Result<Versioned<Tracker>, StoreError> {
        let state = AttributeValue::S(expected_state.as_str().to_owned());
        let moved = tracker.state() != expected_state;
        if !moved && log.is_empty() {
            return self.update_entity(tracker, expected_version, Some(("state", state))).await;
        }
        let Assignment { expression, names, values } = assign_all(tracker, Some(expected_version + 1))?;
        let (pk, sk) = tracker_key(&tracker.process_id, &tracker.client_id);
        let update = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .update_expression(expression)
            .condition_expression("#version = :expected AND #state = :state")
            .set_expression_attribute_names(Some(names))
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_names("#state", "state")
            .set_expression_attribute_values(Some(values))
            .expression_attribute_values(":expected", number(expected_version))
            .expression_attribute_values(":state", state)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        if moved {
            items.push(card_counts(&self.table, &tracker.process_id, &[(expected_state, -1), (tracker.state(), 1)])?);
        }
        for entry in log {
            items.push(entry_put(&self.table, entry)?);
        }
        match self.run_tracker_transaction(items).await? {
            None => Ok(Versioned { value: tracker.clone(), version: expected_version + 1 }),
            Some(None) => Err(StoreError::NotFound { entity: Tracker::NAME, id: tracker.id() }),
            Some(Some(old)) => Err(conflict::<Tracker>(&tracker.id(), expected_version, &old)),
        }
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
            filter: None,
        };
        self.query_page(q, page).await
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
            filter: None,
        };
        self.query_page(q, page).await
    }
}

/// TransactWriteItems takes at most 100 items.
const TRANSACTION: usize = 100;
/// Attempts at a transaction that collided with another one on the same item (two trackers of
/// one process moving at once both count on its card): not a conflict of ours, so it is retried.
const COLLISIONS: u32 = 8;

impl DynamoStore {
    /// Runs a transaction whose first item is a tracker's conditional write: `None` when it was
    /// written, `Some(old item, if returned)` when the tracker's condition failed.
    async fn run_tracker_transaction(&self, items: Vec<TransactWriteItem>) -> Result<Option<Option<Item>>, StoreError> {
        for attempt in 0..COLLISIONS {
            let err = match self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                Ok(_) => return Ok(None),
                Err(e) => e,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() {
                let reasons = cancelled.cancellation_reasons();
                if let Some(first) = reasons.first().filter(|r| r.code() == Some("ConditionalCheckFailed")) {
                    return Ok(Some(first.item().cloned()));
                }
                if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                    tokio::time::sleep(std::time::Duration::from_millis(5 << attempt.min(5))).await;
                    continue;
                }
            }
            if err.as_service_error().is_some_and(|e| e.meta().code() == Some("TransactionConflictException")) {
                tokio::time::sleep(std::time::Duration::from_millis(5 << attempt.min(5))).await;
                continue;
            }
            return Err(StoreError::Unavailable(DisplayErrorContext(err).to_string()));
        }
        Err(StoreError::Unavailable(format!("a tracker's transaction kept colliding ({COLLISIONS} attempts)")))
    }
}

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
