//! Pace records: one small item per record (`PACE#bot`, `PACE#chat:<id>`), a numeric field per
//! limit holding its theoretical arrival time, so concurrent Lambda instances share Telegram's
//! limits. A reservation is planned from the values this process last saw and written in one
//! request (a conditional update, or a transaction when it spans records) whose conditions fail
//! when another sender moved a limit meanwhile; the failure hands back the values as they are,
//! and the sender plans again. Nothing is read first in the common case.

use super::{DynamoStore, Item, number, read_number, table};
use crate::domain::pacing::{Bounds, Expect, FieldWrite, Limit, LimitKey, PacePlan, plan};
use crate::domain::time::Timestamp;
use crate::ports::pacer::{PaceStore, Reservation, Window};
use crate::ports::store::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use chrono::DateTime;
use std::collections::HashMap;
use table::{PK, SK, TTL_ATTRIBUTE};

/// The limits' values as this process last saw them.
pub(super) type Known = HashMap<LimitKey, u64>;

const NAME: &str = "pace record";
/// Plan-and-write rounds before giving up: each round that fails learns the values that beat it,
/// so only a sender racing many others needs more than two.
const ROUNDS: u32 = 50;

fn millis(t: Timestamp) -> u64 {
    u64::try_from(t.timestamp_millis()).unwrap_or(0)
}

fn timestamp(ms: u64) -> Timestamp {
    i64::try_from(ms).ok().and_then(DateTime::from_timestamp_millis).unwrap_or_default()
}

fn key(record: &str) -> (AttributeValue, AttributeValue) {
    (AttributeValue::S(format!("PACE#{record}")), AttributeValue::S("#PACE".into()))
}

/// How a planned write of one record came out.
enum Outcome {
    Written,
    /// Another sender got there first: the record as it is now (`None`: absent, or unknown).
    Refused(Vec<(String, Option<Item>)>),
}

/// The update of one record: every field set to its planned value, on condition that each still
/// holds what the plan expected.
struct RecordUpdate {
    expression: String,
    condition: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn record_update(writes: &[FieldWrite]) -> RecordUpdate {
    let mut sets = Vec::new();
    let mut conditions = Vec::new();
    let mut names = HashMap::from([("#ttl".to_owned(), TTL_ATTRIBUTE.to_owned()), ("#e".to_owned(), "Entity".into())]);
    let mut values = HashMap::from([(":e".to_owned(), AttributeValue::S("pace".into()))]);
    let mut latest = 0;
    for (i, write) in writes.iter().enumerate() {
        let (name, new, expected) = (format!("#f{i}"), format!(":n{i}"), format!(":x{i}"));
        names.insert(name.clone(), write.field.to_owned());
        values.insert(new.clone(), number(write.new));
        sets.push(format!("{name} = {new}"));
        conditions.push(match write.expect {
            Expect::AtMost(at_most) => {
                values.insert(expected.clone(), number(at_most));
                format!("(attribute_not_exists({name}) OR {name} <= {expected})")
            }
            Expect::Equals(equals) => {
                values.insert(expected.clone(), number(equals));
                format!("{name} = {expected}")
            }
        });
        latest = latest.max(write.new);
    }
    // Idle records disappear a day after their last slot.
    values.insert(":ttl".into(), number(latest / 1_000 + 86_400));
    RecordUpdate {
        expression: format!("SET {}, #ttl = :ttl, #e = :e", sets.join(", ")),
        condition: conditions.join(" AND "),
        names,
        values,
    }
}

impl DynamoStore {
    /// Writes a plan in one request.
    async fn write_plan(&self, plan: &PacePlan) -> Result<Outcome, StoreError> {
        if let [(record, writes)] = plan.writes.iter().collect::<Vec<_>>().as_slice() {
            return self.update_record(record, writes).await;
        }
        let mut items = Vec::with_capacity(plan.writes.len());
        for (record, writes) in &plan.writes {
            let u = record_update(writes);
            let (pk, sk) = key(record);
            let update = Update::builder()
                .table_name(&self.table)
                .key(PK, pk)
                .key(SK, sk)
                .update_expression(u.expression)
                .condition_expression(u.condition)
                .set_expression_attribute_names(Some(u.names))
                .set_expression_attribute_values(Some(u.values))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Outcome::Written),
            Err(e) => match refused_records(&e, plan) {
                Some(refused) => Ok(Outcome::Refused(refused)),
                None => Err(StoreError::Unavailable(DisplayErrorContext(e).to_string())),
            },
        }
    }

    async fn update_record(&self, record: &str, writes: &[FieldWrite]) -> Result<Outcome, StoreError> {
        let u = record_update(writes);
        let (pk, sk) = key(record);
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .update_expression(u.expression)
            .condition_expression(u.condition)
            .set_expression_attribute_names(Some(u.names))
            .set_expression_attribute_values(Some(u.values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Outcome::Written),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                let item = match e.err() {
                    UpdateItemError::ConditionalCheckFailedException(failed) => failed.item().cloned(),
                    _ => None,
                };
                Ok(Outcome::Refused(vec![(record.to_owned(), item)]))
            }
            Err(e) => Err(StoreError::Unavailable(DisplayErrorContext(e).to_string())),
        }
    }

    /// Learns a record's values from what a refusal handed back, or reads it when it handed back
    /// nothing (an engine that does not return the item, or a transaction that collided).
    async fn learn(
        &self,
        known: &mut Known,
        fields: &[&'static str],
        record: &str,
        item: Option<Item>,
    ) -> Result<(), StoreError> {
        let item = match item {
            Some(item) => Some(item),
            None => self.read_item(key(record), NAME, record).await?,
        };
        for field in fields {
            match item.as_ref().and_then(|i| read_number(i, field)) {
                Some(value) => known.insert((record.to_owned(), *field), value),
                None => known.remove(&(record.to_owned(), *field)),
            };
        }
        Ok(())
    }
}

/// The records a cancelled transaction names as refused, with their values when it gave them;
/// `None` when it failed for another reason.
fn refused_records<R>(
    err: &SdkError<TransactWriteItemsError, R>,
    plan: &PacePlan,
) -> Option<Vec<(String, Option<Item>)>> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            let reasons = cancelled.cancellation_reasons();
            let contention = reasons
                .iter()
                .all(|r| matches!(r.code(), None | Some("None" | "ConditionalCheckFailed" | "TransactionConflict")));
            if !contention {
                return None;
            }
            // Reasons come in the order of the transaction's items: the plan's records, sorted.
            Some(
                plan.writes
                    .keys()
                    .zip(reasons)
                    .filter(|(_, r)| matches!(r.code(), Some("ConditionalCheckFailed" | "TransactionConflict")))
                    .map(|(record, r)| (record.clone(), r.item().cloned()))
                    .collect(),
            )
        }
        Some(e) if e.meta().code() == Some("TransactionConflictException") => {
            Some(plan.writes.keys().map(|r| (r.clone(), None)).collect())
        }
        _ => None,
    }
}

/// 1–8 ms, growing a little with the rounds, so senders of several processes spread out.
async fn contention_pause(round: u32) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let micros = 1_000 + u64::from(nanos % 1_000) * u64::from(round.min(7) + 1);
    tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
}

#[async_trait]
impl PaceStore for DynamoStore {
    async fn reserve(
        &self,
        sends: &[Vec<Limit>],
        not_before: Timestamp,
        window: Window,
    ) -> Result<Reservation, StoreError> {
        let bounds = Bounds { first_by: window.first_by.map(millis), own_by: window.own_by.map(millis) };
        let mut known = self.pace.lock().await;
        for round in 0..ROUNDS {
            let plan = plan(sends, &known, millis(not_before), bounds);
            let reservation = Reservation {
                slots: plan.slots.iter().map(|s| s.map(timestamp)).collect(),
                next: plan.next.map(timestamp),
            };
            if plan.writes.is_empty() {
                return Ok(reservation);
            }
            match self.write_plan(&plan).await? {
                Outcome::Written => {
                    for (record, writes) in &plan.writes {
                        for write in writes {
                            known.insert((record.clone(), write.field), write.new);
                        }
                    }
                    return Ok(reservation);
                }
                Outcome::Refused(records) => {
                    let collided = records.iter().any(|(_, item)| item.is_none());
                    for (record, item) in records {
                        let fields: Vec<&'static str> =
                            plan.writes.get(&record).map(|w| w.iter().map(|f| f.field).collect()).unwrap_or_default();
                        self.learn(&mut known, &fields, &record, item).await?;
                    }
                    if collided {
                        contention_pause(round).await;
                    }
                }
            }
        }
        Err(StoreError::Conflict {
            entity: NAME,
            id: "pace".into(),
            detail: format!("still contended after {ROUNDS} rounds"),
        })
    }

    async fn advance(&self, limit: &Limit, tat: Timestamp) -> Result<(), StoreError> {
        let wanted = millis(tat);
        let mut known = self.pace.lock().await;
        let (pk, sk) = key(&limit.record);
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .update_expression("SET #f = :t, #ttl = :ttl, #e = :e")
            .condition_expression("attribute_not_exists(#f) OR #f < :t")
            .expression_attribute_names("#f", limit.field)
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_names("#e", "Entity")
            .expression_attribute_values(":t", number(wanted))
            .expression_attribute_values(":ttl", number(wanted / 1_000 + 86_400))
            .expression_attribute_values(":e", AttributeValue::S("pace".into()))
            .send()
            .await;
        match sent {
            Ok(_) => {
                known.insert((limit.record.clone(), limit.field), wanted);
                Ok(())
            }
            // Already at or past it.
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(())
            }
            Err(e) => Err(StoreError::Unavailable(DisplayErrorContext(e).to_string())),
        }
    }
}
