//! The message log: each client's messages in its own partition, sorted by time; messages of chats
//! with no client (the staff group, unknown groups) under the chat.

use super::entities::sortable;
use super::errors::{ErrorKind, classify};
use super::{DynamoStore, Item, Query, SortCondition, check_size, table};
use crate::domain::ids::ClientId;
use crate::domain::message_log::MessageLogEntry;
use crate::domain::time::Timestamp;
use crate::ports::store::{MessageLogStore, Page, PageRequest, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use table::{PK, SK};

const NAME: &str = "message";

fn partition(entry: &MessageLogEntry) -> String {
    match &entry.client_id {
        Some(client) => format!("CLIENT#{client}"),
        None => format!("CHAT#{}", entry.chat_id),
    }
}

fn log_sort_key(at: Timestamp) -> String {
    format!("LOG#{}", sortable(at))
}

/// Entries are immutable and uniquely keyed, so writing one twice stores it once.
fn log_item(entry: &MessageLogEntry) -> Result<Item, StoreError> {
    let corrupt =
        |e: serde_dynamo::Error| StoreError::Corrupt { entity: NAME, id: entry.id.clone(), reason: e.to_string() };
    let mut item: Item = serde_dynamo::to_item(entry).map_err(corrupt)?;
    item.insert(PK.into(), AttributeValue::S(partition(entry)));
    item.insert(SK.into(), AttributeValue::S(format!("{}#{}", log_sort_key(entry.at), entry.id)));
    item.insert("Entity".into(), AttributeValue::S(NAME.into()));
    check_size(NAME, &item, &entry.id)?;
    Ok(item)
}

#[async_trait]
impl MessageLogStore for DynamoStore {
    async fn append_message(&self, entry: &MessageLogEntry) -> Result<(), StoreError> {
        let corrupt =
            |e: serde_dynamo::Error| StoreError::Corrupt { entity: NAME, id: entry.id.clone(), reason: e.to_string() };
        let mut item: Item = serde_dynamo::to_item(entry).map_err(corrupt)?;
        item.insert(PK.into(), AttributeValue::S(partition(entry)));
        item.insert(SK.into(), AttributeValue::S(format!("{}#{}", log_sort_key(entry.at), entry.id)));
        item.insert("Entity".into(), AttributeValue::S(NAME.into()));
        check_size(NAME, &item, &entry.id)?;
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
            // The same entry written twice (a retried request): it is already there.
            Err(e) => match classify(e) {
                ErrorKind::ConditionFailed(_) => Ok(()),
                other => Err(other.into_store_error(NAME, &entry.id)),
            },
        }
    }

    async fn append_messages(&self, entries: &[MessageLogEntry]) -> Result<(), StoreError> {
        let items = entries.iter().map(log_item).collect::<Result<Vec<_>, _>>()?;
        self.put_all(NAME, items).await
    }

    async fn client_messages(
        &self,
        client: &ClientId,
        from: Timestamp,
        until: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<MessageLogEntry>, StoreError> {
        // Sort keys are `LOG#<time>#<id>`: `LOG#<from>` sorts before every entry at `from` and
        // `LOG#<until>` before every entry at `until`, so BETWEEN gives from <= at < until.
        let q = Query {
            index: None,
            partition: format!("CLIENT#{client}"),
            sort: SortCondition::Between(log_sort_key(from), log_sort_key(until)),
        };
        let (items, next) = self.query_items(&q, page.effective_limit(), page.cursor.as_ref()).await?;
        let entries = items
            .into_iter()
            .map(|item| {
                let id = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt {
                    entity: NAME,
                    id,
                    reason: e.to_string(),
                })
            })
            .collect::<Result<Vec<MessageLogEntry>, _>>()?;
        Ok(Page { items: entries, next })
    }
}
