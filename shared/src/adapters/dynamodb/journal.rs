//! The audit and error logs: one partition each (`AUDIT`, `ERRORS`), sorted by time. Staff actions
//! and background failures are a few a minute at most: one partition is plenty.

use super::entities::sortable;
use super::errors::{ErrorKind, classify};
use super::{DynamoStore, Item, Query, SortCondition, check_size, table};
use crate::domain::journal::{AuditEntry, ErrorEntry};
use crate::domain::time::Timestamp;
use crate::ports::store::{JournalStore, Page, PageRequest, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use table::{PK, SK};

impl DynamoStore {
    async fn append_entry<T: Serialize>(
        &self,
        partition: &'static str,
        at: Timestamp,
        id: &str,
        entry: &T,
    ) -> Result<(), StoreError> {
        let corrupt = |e: serde_dynamo::Error| StoreError::Corrupt {
            entity: partition,
            id: id.to_owned(),
            reason: e.to_string(),
        };
        let mut item: Item = serde_dynamo::to_item(entry).map_err(corrupt)?;
        item.insert(PK.into(), AttributeValue::S(partition.into()));
        item.insert(SK.into(), AttributeValue::S(format!("{}#{id}", sortable(at))));
        item.insert("Entity".into(), AttributeValue::S(partition.to_lowercase()));
        check_size(partition, &item, id)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match classify(e) {
                ErrorKind::ConditionFailed(_) => Ok(()),
                other => Err(other.into_store_error(partition, id)),
            },
        }
    }

    async fn read_entries<T: DeserializeOwned>(
        &self,
        partition: &'static str,
        from: Timestamp,
        until: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<T>, StoreError> {
        let q = Query {
            index: None,
            partition: partition.into(),
            sort: SortCondition::Between(sortable(from), sortable(until)),
        };
        let (items, next) = self.query_items(&q, page.effective_limit(), page.cursor.as_ref()).await?;
        let entries = items
            .into_iter()
            .map(|item| {
                let id = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt {
                    entity: partition,
                    id,
                    reason: e.to_string(),
                })
            })
            .collect::<Result<Vec<T>, _>>()?;
        Ok(Page { items: entries, next })
    }
}

#[async_trait]
impl JournalStore for DynamoStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.append_entry("AUDIT", entry.at, &entry.id, entry).await
    }

    async fn audit(
        &self,
        from: Timestamp,
        until: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        self.read_entries("AUDIT", from, until, page).await
    }

    async fn append_error(&self, entry: &ErrorEntry) -> Result<(), StoreError> {
        self.append_entry("ERRORS", entry.at, &entry.id, entry).await
    }

    async fn errors(
        &self,
        from: Timestamp,
        until: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<ErrorEntry>, StoreError> {
        self.read_entries("ERRORS", from, until, page).await
    }
}
