//! Time-ordered, append-only entries: the message log (in each client's or chat's partition, under
//! `LOG#`), the audit log (`AUDIT`) and the error log (`ERRORS`). Staff actions and background
//! failures are a few a minute at most: one partition each is plenty.

use super::entities::sortable;
use super::{DynamoStore, Item, Query, SortCondition, check_size, table};
use crate::domain::journal::{AuditEntry, ErrorEntry};
use crate::domain::time::Timestamp;
use crate::ports::store::{JournalStore, Page, PageRequest, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use table::{PK, SK};

/// Where entries of one kind live: their partition and sort-key prefix (`<prefix><time>#<id>`).
pub(super) struct Log<'a> {
    pub entity: &'static str,
    pub partition: &'a str,
    pub prefix: &'static str,
}

impl Log<'_> {
    /// The key of the entry `id` written at `at`.
    pub fn key(&self, at: Timestamp, id: &str) -> Item {
        Item::from([
            (PK.into(), AttributeValue::S(self.partition.to_owned())),
            (SK.into(), AttributeValue::S(format!("{}{}#{id}", self.prefix, sortable(at)))),
        ])
    }

    /// The entry as an item; immutable and uniquely keyed, so writing it twice stores it once.
    pub fn item<T: Serialize>(&self, at: Timestamp, id: &str, entry: &T) -> Result<Item, StoreError> {
        let corrupt = |e: serde_dynamo::Error| StoreError::Corrupt {
            entity: self.entity,
            id: id.to_owned(),
            reason: e.to_string(),
        };
        let mut item: Item = serde_dynamo::to_item(entry).map_err(corrupt)?;
        item.extend(self.key(at, id));
        item.insert("Entity".into(), AttributeValue::S(self.entity.into()));
        check_size(self.entity, &item, id)?;
        Ok(item)
    }
}

impl DynamoStore {
    pub(super) async fn append_entry<T: Serialize>(
        &self,
        log: &Log<'_>,
        at: Timestamp,
        id: &str,
        entry: &T,
    ) -> Result<(), StoreError> {
        // The same entry written twice (a retried request) is already there.
        self.put_new(log.item(at, id, entry)?, log.entity, id).await.map(|_| ())
    }

    /// Entries with `from <= at < until`, oldest first: sort keys are `<prefix><time>#<id>`, so
    /// `<prefix><from>` sorts before every entry at `from` and `<prefix><until>` before every entry
    /// at `until`, and BETWEEN gives exactly that range.
    pub(super) async fn read_entries<T: DeserializeOwned>(
        &self,
        log: &Log<'_>,
        from: Timestamp,
        until: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<T>, StoreError> {
        let bounds = SortCondition::Between(
            format!("{}{}", log.prefix, sortable(from)),
            format!("{}{}", log.prefix, sortable(until)),
        );
        let q = Query { index: None, partition: log.partition.to_owned(), sort: bounds, filter: None };
        let (items, next) = self.query_items(&q, page.effective_limit(), page.cursor.as_ref()).await?;
        let entries = items
            .into_iter()
            .map(|item| {
                let id = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt {
                    entity: log.entity,
                    id,
                    reason: e.to_string(),
                })
            })
            .collect::<Result<Vec<T>, _>>()?;
        Ok(Page { items: entries, next })
    }
}

/// The audit log's partition key. `template.yaml` denies every function any update or delete of an
/// item under it (a test checks the two agree): entries are only ever added, with a conditional put.
pub const AUDIT_PARTITION: &str = "AUDIT";
/// The error log's partition key, append-only in the same way.
pub const ERROR_PARTITION: &str = "ERRORS";

const AUDIT: Log<'static> = Log { entity: "audit", partition: AUDIT_PARTITION, prefix: "" };
const ERRORS: Log<'static> = Log { entity: "error", partition: ERROR_PARTITION, prefix: "" };

#[async_trait]
impl JournalStore for DynamoStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.append_entry(&AUDIT, entry.at, &entry.id, entry).await
    }

    async fn audit(
        &self,
        from: Timestamp,
        until: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        self.read_entries(&AUDIT, from, until, page).await
    }

    async fn append_error(&self, entry: &ErrorEntry) -> Result<(), StoreError> {
        self.append_entry(&ERRORS, entry.at, &entry.id, entry).await
    }

    async fn errors(
        &self,
        from: Timestamp,
        until: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<ErrorEntry>, StoreError> {
        self.read_entries(&ERRORS, from, until, page).await
    }
}
