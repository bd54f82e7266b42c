//! The one Store implementation: a single DynamoDB table (see `docs/data-model.md`). The same code
//! runs against AWS, AWS's DynamoDB Local and the embedded dynoxide engine.

mod batch;
mod bot;
mod clients;
pub mod cursor;
mod entities;
mod errors;
mod idempotency;
mod jobs;
mod journal;
mod link_codes;
mod messages;
mod pacing;
mod processes;
mod staff_feed;
pub mod table;

use crate::ports::store::{Page, PageRequest, StoreError, Versioned};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use entities::{Entity, Keys};
use errors::{ErrorKind, classify};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use table::{GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, PK, SK};

pub use journal::{AUDIT_PARTITION, ERROR_PARTITION};
pub use table::{TABLE, TableDefinition};

type Item = HashMap<String, AttributeValue>;

/// The attribute holding a record's version.
const VERSION: &str = "Version";
/// The attribute naming what kind of record an item is, for people reading the table.
const ENTITY: &str = "Entity";

/// DynamoDB's item size limit.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The DynamoDB store. Cheap to clone; build it once per process and share it.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Items per request when a method reads a whole collection.
    read_page_size: u32,
    /// One pace reservation in flight per process (clones share it), holding the limits' values
    /// this process last saw: senders of one process queue here instead of failing each other's
    /// conditional writes, and plan from what they know instead of reading it first.
    pace: std::sync::Arc<tokio::sync::Mutex<pacing::Known>>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into(), read_page_size: 1_000, pace: Default::default() }
    }

    /// Reads whole collections in smaller pages (tests use it to cross page boundaries).
    pub fn with_read_page_size(mut self, items: u32) -> Self {
        self.read_page_size = items.max(1);
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes `item` unless its key is taken: `Ok(false)` when it is. Every create is this.
    async fn put_new(&self, item: Item, entity: &'static str, id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        Ok(errors::unless_condition_failed(result, entity, id)?.is_some())
    }

    async fn create_entity<E: Entity>(&self, entity: &E) -> Result<Versioned<E>, StoreError> {
        if self.put_new(to_item(entity, 1)?, E::NAME, &entity.id()).await? {
            Ok(Versioned { value: entity.clone(), version: 1 })
        } else {
            Err(StoreError::AlreadyExists { entity: E::NAME, id: entity.id() })
        }
    }

    async fn get_entity<E: Entity>(&self, keys: (String, String), id: &str) -> Result<Versioned<E>, StoreError> {
        self.find_entity(keys, id).await?.ok_or_else(|| StoreError::NotFound { entity: E::NAME, id: id.to_owned() })
    }

    async fn find_entity<E: Entity>(
        &self,
        (pk, sk): (String, String),
        id: &str,
    ) -> Result<Option<Versioned<E>>, StoreError> {
        let item = self.read_item((AttributeValue::S(pk), AttributeValue::S(sk)), E::NAME, id).await?;
        item.map(|item| from_item(item)).transpose()
    }

    /// The item at (`pk`, `sk`), read strongly consistently: what was written last.
    async fn read_item(
        &self,
        (pk, sk): (AttributeValue, AttributeValue),
        entity: &'static str,
        id: &str,
    ) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(e).into_store_error(entity, id))?;
        Ok(output.item)
    }

    /// Removes the item at (`pk`, `sk`); a missing one is fine.
    async fn remove_item(
        &self,
        (pk, sk): (AttributeValue, AttributeValue),
        entity: &'static str,
        id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(e).into_store_error(entity, id))
    }

    /// Replaces a record's attributes if it is still at `expected_version` (and, when given, the
    /// extra condition holds). Attributes named in `E::PRESERVED` keep their stored values.
    async fn update_entity<E: Entity>(
        &self,
        entity: &E,
        expected_version: u64,
        extra_condition: Option<(&str, AttributeValue)>,
    ) -> Result<Versioned<E>, StoreError> {
        let Assignment { expression, mut names, mut values } = assign_all(entity, Some(expected_version + 1))?;
        let keys = entity.keys();
        names.insert("#version".into(), VERSION.into());
        values.insert(":expected".into(), number(expected_version));
        let mut condition = "#version = :expected".to_owned();
        if let Some((attr, value)) = extra_condition {
            names.insert("#extra".into(), attr.to_owned());
            values.insert(":extra".into(), value);
            condition.push_str(" AND #extra = :extra");
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys.pk))
            .key(SK, AttributeValue::S(keys.sk))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => match output.attributes {
                Some(item) => from_item(item),
                None => Err(StoreError::Unavailable(format!("{} update returned no attributes", E::NAME))),
            },
            Err(e) => Err(match classify(e) {
                ErrorKind::ConditionFailed(None) => StoreError::NotFound { entity: E::NAME, id: entity.id() },
                ErrorKind::ConditionFailed(Some(old)) => conflict::<E>(&entity.id(), expected_version, &old),
                other => other.into_store_error(E::NAME, &entity.id()),
            }),
        }
    }

    /// One page of a query on the table or an index. One item more than the page is read, so
    /// that a page that ends the list says so (DynamoDB alone cannot tell when a page ends exactly
    /// at the last item).
    async fn query_page<E: Entity>(&self, q: Query<'_>, page: &PageRequest) -> Result<Page<Versioned<E>>, StoreError> {
        let limit = page.effective_limit() as usize;
        let (mut items, mut next) = self.query_items(&q, page.effective_limit() + 1, page.cursor.as_ref()).await?;
        if items.len() > limit {
            items.truncate(limit);
            let mut attrs = vec![PK, SK];
            match q.index {
                None => {}
                Some(table::GSI1) => attrs.extend([GSI1_PK, GSI1_SK]),
                Some(_) => attrs.extend([GSI2_PK, GSI2_SK]),
            }
            next = items.last().and_then(|last| {
                let key: Item = attrs.iter().filter_map(|a| Some(((*a).to_owned(), last.get(*a)?.clone()))).collect();
                cursor::encode(&key)
            });
        }
        let items = items.into_iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next })
    }

    async fn query_items(
        &self,
        q: &Query<'_>,
        limit: u32,
        cursor: Option<&crate::ports::store::Cursor>,
    ) -> Result<(Vec<Item>, Option<crate::ports::store::Cursor>), StoreError> {
        let (pk_attr, sk_attr) = match q.index {
            None => (PK, SK),
            Some(table::GSI1) => (GSI1_PK, GSI1_SK),
            Some(_) => (GSI2_PK, GSI2_SK),
        };
        let start = match cursor {
            None => None,
            Some(c) => {
                let mut attrs = vec![PK, SK];
                if q.index.is_some() {
                    attrs.extend([pk_attr, sk_attr]);
                }
                Some(cursor::decode(c, &attrs, pk_attr, &q.partition)?)
            }
        };
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.map(str::to_owned))
            .expression_attribute_names("#pk", pk_attr)
            .expression_attribute_values(":pk", AttributeValue::S(q.partition.clone()))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .consistent_read(q.index.is_none());
        let key_condition = match &q.sort {
            SortCondition::Any => "#pk = :pk".to_owned(),
            SortCondition::AtMost(to) => {
                request = request
                    .expression_attribute_names("#sk", sk_attr)
                    .expression_attribute_values(":to", AttributeValue::S(to.clone()));
                "#pk = :pk AND #sk <= :to".to_owned()
            }
            SortCondition::BeginsWith(prefix) => {
                request = request
                    .expression_attribute_names("#sk", sk_attr)
                    .expression_attribute_values(":sk", AttributeValue::S(prefix.clone()));
                "#pk = :pk AND begins_with(#sk, :sk)".to_owned()
            }
            SortCondition::Between(from, to) => {
                request = request
                    .expression_attribute_names("#sk", sk_attr)
                    .expression_attribute_values(":from", AttributeValue::S(from.clone()))
                    .expression_attribute_values(":to", AttributeValue::S(to.clone()));
                "#pk = :pk AND #sk BETWEEN :from AND :to".to_owned()
            }
        };
        if let Some((attr, value)) = &q.filter {
            request = request
                .filter_expression("#filter = :filter")
                .expression_attribute_names("#filter", *attr)
                .expression_attribute_values(":filter", value.clone());
        }
        let output = request
            .key_condition_expression(key_condition)
            .send()
            .await
            .map_err(|e| classify(e).into_store_error("query", &q.partition))?;
        let next = output.last_evaluated_key.as_ref().and_then(cursor::encode);
        Ok((output.items.unwrap_or_default(), next))
    }
}

enum SortCondition {
    Any,
    AtMost(String),
    BeginsWith(String),
    Between(String, String),
}

struct Query<'a> {
    index: Option<&'a str>,
    partition: String,
    sort: SortCondition,
    /// Only items whose attribute holds this value (applied by DynamoDB after it read a page).
    filter: Option<(&'static str, AttributeValue)>,
}

/// The key attributes of an item, for batch reads.
fn key_item((pk, sk): (String, String)) -> Item {
    HashMap::from([(PK.to_owned(), AttributeValue::S(pk)), (SK.to_owned(), AttributeValue::S(sk))])
}

fn number(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn read_number(item: &Item, attr: &str) -> Option<u64> {
    item.get(attr).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

fn conflict<E: Entity>(id: &str, expected: u64, old: &Item) -> StoreError {
    let found = read_number(old, VERSION).map_or("no version".to_owned(), |v| format!("version {v}"));
    let mut detail = format!("expected version {expected}, found {found}");
    if let Some(state) = E::state_of(old) {
        detail.push_str(&format!(" in state {state}"));
    }
    StoreError::Conflict { entity: E::NAME, id: id.to_owned(), detail }
}

/// An update expression that sets every attribute of an entity (but its key and the attributes it
/// preserves) and removes the index keys it no longer has.
struct Assignment {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

/// `version`: the version to write, or `None` to leave `Version` out of the assignment.
fn assign_all<E: Entity>(entity: &E, version: Option<u64>) -> Result<Assignment, StoreError> {
    let keys = entity.keys();
    let mut item = to_item(entity, version.unwrap_or(0))?;
    item.remove(PK);
    item.remove(SK);
    if version.is_none() {
        item.remove(VERSION);
    }
    for preserved in E::PRESERVED {
        item.remove(*preserved);
    }
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut sets = Vec::new();
    for (i, (name, value)) in item.into_iter().enumerate() {
        names.insert(format!("#a{i}"), name);
        values.insert(format!(":a{i}"), value);
        sets.push(format!("#a{i} = :a{i}"));
    }
    let mut removes = Vec::new();
    for retired in E::RETIRED {
        let placeholder = format!("#r{}", removes.len());
        names.insert(placeholder.clone(), (*retired).to_owned());
        removes.push(placeholder);
    }
    for (present, attrs) in [(keys.gsi1.is_some(), [GSI1_PK, GSI1_SK]), (keys.gsi2.is_some(), [GSI2_PK, GSI2_SK])] {
        if !present {
            for attr in attrs {
                let placeholder = format!("#r{}", removes.len());
                names.insert(placeholder.clone(), attr.to_owned());
                removes.push(placeholder);
            }
        }
    }
    let mut expression = format!("SET {}", sets.join(", "));
    if !removes.is_empty() {
        expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
    }
    Ok(Assignment { expression, names, values })
}

/// The entity's attributes plus its keys, version and kind.
fn to_item<E: Entity>(entity: &E, version: u64) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(entity).map_err(|e| StoreError::Corrupt {
        entity: E::NAME,
        id: entity.id(),
        reason: e.to_string(),
    })?;
    let Keys { pk, sk, gsi1, gsi2 } = entity.keys();
    item.insert(PK.into(), AttributeValue::S(pk));
    item.insert(SK.into(), AttributeValue::S(sk));
    if let Some((p, s)) = gsi1 {
        item.insert(GSI1_PK.into(), AttributeValue::S(p));
        item.insert(GSI1_SK.into(), AttributeValue::S(s));
    }
    if let Some((p, s)) = gsi2 {
        item.insert(GSI2_PK.into(), AttributeValue::S(p));
        item.insert(GSI2_SK.into(), AttributeValue::S(s));
    }
    item.insert(VERSION.into(), number(version));
    item.insert(ENTITY.into(), AttributeValue::S(E::NAME.into()));
    check_size(E::NAME, &item, &entity.id())?;
    Ok(item)
}

fn from_item<E: Entity + DeserializeOwned>(item: Item) -> Result<Versioned<E>, StoreError> {
    let describe = |item: &Item| {
        let pk = item.get(PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        let sk = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        format!("{pk}/{sk}")
    };
    let version = read_number(&item, VERSION).ok_or_else(|| StoreError::Corrupt {
        entity: E::NAME,
        id: describe(&item),
        reason: "no version".into(),
    })?;
    let id = describe(&item);
    let value: E = serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt {
        entity: E::NAME,
        id,
        reason: e.to_string(),
    })?;
    Ok(Versioned { value, version })
}

/// Refuses an item DynamoDB would refuse, with its size, before sending it.
fn check_size(entity: &'static str, item: &Item, id: &str) -> Result<(), StoreError> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge { entity, id: id.to_owned(), size, limit: MAX_ITEM_BYTES });
    }
    Ok(())
}

/// DynamoDB's item size: attribute names plus values, as its documentation counts them.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}
