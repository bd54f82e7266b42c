//! The message log: each client's messages in its own partition, sorted by time; messages of chats
//! with no client (the staff group, unknown groups) under the chat.

use super::errors::unless_condition_failed;
use super::journal::Log;
use super::{DynamoStore, table};
use crate::domain::ids::{ClientId, ProcessId};
use crate::domain::message_log::MessageLogEntry;
use crate::domain::time::Timestamp;
use crate::ports::store::{MessageLogStore, Page, PageRequest, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

const NAME: &str = "message";
const PREFIX: &str = "LOG#";

fn partition(entry: &MessageLogEntry) -> String {
    match &entry.client_id {
        Some(client) => format!("CLIENT#{client}"),
        None => format!("CHAT#{}", entry.chat_id),
    }
}

/// A log entry's item, for writes that record it together with what it is about.
pub(super) fn entry_item(entry: &MessageLogEntry) -> Result<super::Item, StoreError> {
    let partition = partition(entry);
    Log { entity: NAME, partition: &partition, prefix: PREFIX }.item(entry.at, &entry.id, entry)
}

/// The transaction item that writes a log entry.
pub(super) fn entry_put(table: &str, entry: &MessageLogEntry) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(entry_item(entry)?))
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

#[async_trait]
impl MessageLogStore for DynamoStore {
    async fn note_answered_process(&self, entry: &MessageLogEntry, process: &ProcessId) -> Result<(), StoreError> {
        let key = Log { entity: NAME, partition: &partition(entry), prefix: PREFIX }.key(entry.at, &entry.id);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("SET #process = :process")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#process", "process_id")
            .expression_attribute_names("#pk", table::PK)
            .expression_attribute_values(":process", AttributeValue::S(process.to_string()))
            .send()
            .await;
        unless_condition_failed(result, NAME, &entry.id).map(|_| ())
    }

    async fn append_messages(&self, entries: &[MessageLogEntry]) -> Result<(), StoreError> {
        let items = entries.iter().map(entry_item).collect::<Result<Vec<_>, _>>()?;
        self.put_all(NAME, items).await
    }

    async fn client_messages(
        &self,
        client: &ClientId,
        from: Timestamp,
        until: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<MessageLogEntry>, StoreError> {
        let partition = format!("CLIENT#{client}");
        self.read_entries(&Log { entity: NAME, partition: &partition, prefix: PREFIX }, from, until, page).await
    }
}
