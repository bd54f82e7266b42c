//! Staff, clients (with their chat uniqueness records) and stocks.

use super::entities::{CLIENT_LIST, STAFF_LIST, STOCK_LIST, chat_key, client_key, staff_key, stock_key};
use super::{
    Assignment, DynamoStore, Query, SortCondition, VERSION, assign_all, from_item, key_item, number, table, to_item,
};
use crate::domain::client::{ChatBinding, Client};
use crate::domain::ids::{ChatId, ClientId, StaffId, StockId};
use crate::domain::staff::Staff;
use crate::domain::stock::Stock;
use crate::ports::store::{ClientStore, Page, PageRequest, StaffStore, StockStore, StoreError, Versioned};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use table::{PK, SK};

/// The attribute of a chat uniqueness record naming its client.
const CHAT_OWNER: &str = "ClientId";
/// The chat record's copy of its client, written with every change of the client, so that an
/// update from a group finds its client in one read.
const CHAT_CLIENT: &str = "Client";

fn list(partition: &str) -> Query<'static> {
    Query { index: Some(table::GSI1), partition: partition.to_owned(), sort: SortCondition::Any, filter: None }
}

#[async_trait]
impl StaffStore for DynamoStore {
    async fn create_staff(&self, staff: &Staff) -> Result<Versioned<Staff>, StoreError> {
        self.create_entity(staff).await
    }
    async fn get_staff(&self, id: &StaffId) -> Result<Versioned<Staff>, StoreError> {
        self.get_entity(staff_key(id), id.as_str()).await
    }
    async fn update_staff(&self, staff: &Staff, expected_version: u64) -> Result<Versioned<Staff>, StoreError> {
        self.update_entity(staff, expected_version, None).await
    }
    async fn list_staff(&self, page: &PageRequest) -> Result<Page<Versioned<Staff>>, StoreError> {
        self.query_page(list(STAFF_LIST), page).await
    }
}

#[async_trait]
impl StockStore for DynamoStore {
    async fn create_stock(&self, stock: &Stock) -> Result<Versioned<Stock>, StoreError> {
        self.create_entity(stock).await
    }
    async fn get_stock(&self, id: &StockId) -> Result<Versioned<Stock>, StoreError> {
        self.get_entity(stock_key(id), id.as_str()).await
    }
    async fn update_stock(&self, stock: &Stock, expected_version: u64) -> Result<Versioned<Stock>, StoreError> {
        self.update_entity(stock, expected_version, None).await
    }
    async fn list_stocks(&self, page: &PageRequest) -> Result<Page<Versioned<Stock>>, StoreError> {
        self.query_page(list(STOCK_LIST), page).await
    }
}

#[async_trait]
impl ClientStore for DynamoStore {
    async fn create_client(&self, client: &Client) -> Result<Versioned<Client>, StoreError> {
        let mut unlinked = client.clone();
        unlinked.chat = None;
        self.create_entity(&unlinked).await
    }

    async fn get_client(&self, id: &ClientId) -> Result<Versioned<Client>, StoreError> {
        self.get_entity(client_key(id), id.as_str()).await
    }

    async fn update_client(&self, client: &Client, expected_version: u64) -> Result<Versioned<Client>, StoreError> {
        let current = self.get_client(&client.id).await?;
        let Some(binding) = current.value.chat.clone() else {
            return self.update_entity(client, expected_version, None).await;
        };
        if current.version != expected_version {
            return Err(version_conflict(&client.id, expected_version, current.version));
        }
        // The chat record's copy changes with the client, in the same transaction.
        let mut updated = client.clone();
        updated.chat = Some(binding.clone());
        let Assignment { expression, names, values } = assign_all(&updated, Some(expected_version + 1))?;
        let (pk, sk) = client_key(&client.id);
        let update = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk))
            .update_expression(expression)
            .condition_expression("#version = :expected")
            .set_expression_attribute_names(Some(names))
            .expression_attribute_names("#version", VERSION)
            .set_expression_attribute_values(Some(values))
            .expression_attribute_values(":expected", number(expected_version))
            .build()
            .map_err(build_error)?;
        let items = vec![
            claim_chat(&self.table, binding.chat_id, &updated, expected_version + 1)?,
            TransactWriteItem::builder().update(update).build(),
        ];
        self.run_chat_transaction(&client.id, binding.chat_id, expected_version, items).await?;
        Ok(Versioned { value: updated, version: expected_version + 1 })
    }

    async fn get_clients(&self, ids: &[ClientId]) -> Result<Vec<Versioned<Client>>, StoreError> {
        let keys = ids.iter().map(|id| key_item(client_key(id))).collect();
        self.get_all("client", keys).await?.into_iter().map(from_item).collect()
    }

    async fn list_clients(&self, page: &PageRequest) -> Result<Page<Versioned<Client>>, StoreError> {
        self.query_page(list(CLIENT_LIST), page).await
    }

    async fn client_by_chat(&self, chat: ChatId) -> Result<Option<Versioned<Client>>, StoreError> {
        let (pk, sk) = chat_key(chat);
        let item = self.read_item((AttributeValue::S(pk), AttributeValue::S(sk)), "chat", &chat.to_string()).await?;
        let Some(owner) = item.as_ref().and_then(|i| i.get(CHAT_OWNER)).and_then(|v| v.as_s().ok()) else {
            return Ok(None);
        };
        if let Some(copy) = item.as_ref().and_then(|i| i.get(CHAT_CLIENT)).and_then(|v| v.as_m().ok()) {
            return from_item(copy.clone()).map(Some);
        }
        // Linked before chat records held their client.
        let id: ClientId = owner.parse().map_err(|e: crate::domain::ids::IdError| StoreError::Corrupt {
            entity: "chat",
            id: chat.to_string(),
            reason: e.to_string(),
        })?;
        self.find_entity(client_key(&id), id.as_str()).await
    }

    async fn link_chat(
        &self,
        client_id: &ClientId,
        binding: &ChatBinding,
        expected_version: u64,
    ) -> Result<Versioned<Client>, StoreError> {
        let current: Versioned<Client> = self.get_client(client_id).await?;
        if current.version != expected_version {
            return Err(version_conflict(client_id, expected_version, current.version));
        }
        let old_chat = current.value.chat.as_ref().map(|c| c.chat_id).filter(|c| *c != binding.chat_id);
        let binding_value = serde_dynamo::to_attribute_value::<_, AttributeValue>(binding)
            .map_err(|e| StoreError::Corrupt { entity: "client", id: client_id.to_string(), reason: e.to_string() })?;
        let mut linked = current.value.clone();
        linked.chat = Some(binding.clone());
        let mut items = vec![
            claim_chat(&self.table, binding.chat_id, &linked, expected_version + 1)?,
            set_chat(&self.table, client_id, binding_value, expected_version)?,
        ];
        if let Some(old) = old_chat {
            items.push(free_chat(&self.table, old, client_id)?);
        }
        self.run_chat_transaction(client_id, binding.chat_id, expected_version, items).await?;
        Ok(Versioned { value: linked, version: expected_version + 1 })
    }

    async fn unlink_chat(&self, client_id: &ClientId, expected_version: u64) -> Result<Versioned<Client>, StoreError> {
        let current: Versioned<Client> = self.get_client(client_id).await?;
        if current.version != expected_version {
            return Err(version_conflict(client_id, expected_version, current.version));
        }
        let Some(chat) = current.value.chat.as_ref().map(|c| c.chat_id) else {
            return Ok(current);
        };
        let items = vec![
            set_chat(&self.table, client_id, AttributeValue::Null(true), expected_version)?,
            free_chat(&self.table, chat, client_id)?,
        ];
        self.run_chat_transaction(client_id, chat, expected_version, items).await?;
        let mut unlinked = current.value;
        unlinked.chat = None;
        Ok(Versioned { value: unlinked, version: expected_version + 1 })
    }
}

impl DynamoStore {
    /// Runs a link, unlink or update transaction; item 0 or 1 failing its condition tells which rule
    /// broke.
    async fn run_chat_transaction(
        &self,
        client_id: &ClientId,
        chat: ChatId,
        expected_version: u64,
        items: Vec<TransactWriteItem>,
    ) -> Result<(), StoreError> {
        let claims_chat = items.first().is_some_and(|i| i.put.is_some());
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        let err = match result {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if let SdkError::ServiceError(service) = &err
            && let TransactWriteItemsError::TransactionCanceledException(cancelled) = service.err()
        {
            let failed: Vec<usize> = cancelled
                .cancellation_reasons()
                .iter()
                .enumerate()
                .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                .map(|(i, _)| i)
                .collect();
            if claims_chat && failed.contains(&0) {
                let owner = self.client_by_chat(chat).await?.map(|c| c.value.id);
                return Err(StoreError::ChatTaken {
                    chat_id: chat,
                    client_id: owner.unwrap_or_else(|| client_id.clone()),
                });
            }
            if !failed.is_empty() {
                let now = self.get_client(client_id).await.map(|c| c.version).unwrap_or(0);
                return Err(version_conflict(client_id, expected_version, now));
            }
        }
        Err(StoreError::Unavailable(DisplayErrorContext(err).to_string()))
    }
}

fn version_conflict(client: &ClientId, expected: u64, found: u64) -> StoreError {
    StoreError::Conflict {
        entity: "client",
        id: client.to_string(),
        detail: format!("expected version {expected}, found version {found}"),
    }
}

fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("building a DynamoDB request: {e}"))
}

/// The chat's uniqueness record, with a copy of its client at `version`: created, or already ours.
fn claim_chat(table: &str, chat: ChatId, client: &Client, version: u64) -> Result<TransactWriteItem, StoreError> {
    let (pk, sk) = chat_key(chat);
    let put = Put::builder()
        .table_name(table)
        .item(PK, AttributeValue::S(pk))
        .item(SK, AttributeValue::S(sk))
        .item(CHAT_OWNER, AttributeValue::S(client.id.to_string()))
        .item(CHAT_CLIENT, AttributeValue::M(to_item(client, version)?))
        .item("Entity", AttributeValue::S("chat".into()))
        // A freed record (no owner) is taken like an absent one.
        .condition_expression("attribute_not_exists(#owner) OR #owner = :client")
        .expression_attribute_names("#owner", CHAT_OWNER)
        .expression_attribute_values(":client", AttributeValue::S(client.id.to_string()))
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Frees a chat's record by removing its owner (the webhook may not delete); TTL removes the rest.
fn free_chat(table: &str, chat: ChatId, client: &ClientId) -> Result<TransactWriteItem, StoreError> {
    let (pk, sk) = chat_key(chat);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let update = Update::builder()
        .table_name(table)
        .key(PK, AttributeValue::S(pk))
        .key(SK, AttributeValue::S(sk))
        .update_expression("REMOVE #owner, #client SET #expires = :now")
        .condition_expression("attribute_not_exists(#owner) OR #owner = :client")
        .expression_attribute_names("#owner", CHAT_OWNER)
        .expression_attribute_names("#client", CHAT_CLIENT)
        .expression_attribute_names("#expires", super::table::TTL_ATTRIBUTE)
        .expression_attribute_values(":client", AttributeValue::S(client.to_string()))
        .expression_attribute_values(":now", super::number(now))
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn set_chat(
    table: &str,
    client: &ClientId,
    binding: AttributeValue,
    expected_version: u64,
) -> Result<TransactWriteItem, StoreError> {
    let (pk, sk) = client_key(client);
    let update = Update::builder()
        .table_name(table)
        .key(PK, AttributeValue::S(pk))
        .key(SK, AttributeValue::S(sk))
        .update_expression("SET #chat = :chat, #version = :next")
        .condition_expression("#version = :expected")
        .expression_attribute_names("#chat", "chat")
        .expression_attribute_names("#version", VERSION)
        .expression_attribute_values(":chat", binding)
        .expression_attribute_values(":next", number(expected_version + 1))
        .expression_attribute_values(":expected", number(expected_version))
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().update(update).build())
}
