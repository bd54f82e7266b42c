//! Idempotency records, after Powertools' design: a conditional put takes the key when it is absent,
//! expired, released, or held by an attempt whose deadline passed; completion stores the result; a
//! failed attempt releases the record (an update: the webhook may not delete) so a retry can run. A Telegram update's record is kept when its
//! attempt fails (marked failed, with its count of attempts), so the redelivery that takes it over
//! knows how many came before. TTL deletion is lazy, so an expired record is treated as absent
//! here rather than trusted to be gone.

use super::errors::{ErrorKind, classify};
use super::messages::entry_put;
use super::{DynamoStore, Item, number, read_number, table};
use crate::domain::message_log::MessageLogEntry;
use crate::domain::time::Timestamp;
use crate::ports::store::{IdempotencyClaim, IdempotencyRequest, IdempotencyStore, StoreError, UpdateClaim};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::DateTime;
use std::collections::HashMap;
use table::{PK, SK, TTL_ATTRIBUTE};

const NAME: &str = "idempotency record";
const STATUS: &str = "Status";
const IN_PROGRESS: &str = "INPROGRESS";
const COMPLETED: &str = "COMPLETED";
const IN_PROGRESS_UNTIL: &str = "InProgressUntil";
const PAYLOAD_HASH: &str = "PayloadHash";
const RESULT: &str = "Result";
const OWNER: &str = "Owner";
const FAILED: &str = "FAILED";
const ATTEMPTS: &str = "Attempts";
const LAST_ERROR: &str = "LastError";
/// A first delivery takes a key nobody has, or whose record expired.
const FRESH: &str = "attribute_not_exists(#pk) OR #expires < :now_s";
/// A key may be taken when nobody has it, its record expired, or the attempt holding it overran.
const CLAIMABLE: &str = "attribute_not_exists(#pk) OR #expires < :now_s OR #status = :released \
     OR (#status = :in_progress AND #until < :now_ms)";
const RELEASED: &str = "RELEASED";

fn key(k: &str) -> (AttributeValue, AttributeValue) {
    (AttributeValue::S(format!("IDEMPOTENCY#{k}")), AttributeValue::S("#IDEMPOTENCY".into()))
}

fn epoch_seconds(t: Timestamp) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0)
}

fn epoch_millis(t: Timestamp) -> u64 {
    u64::try_from(t.timestamp_millis()).unwrap_or(0)
}

/// The record a claim writes, with the names and values of [`CLAIMABLE`]: put alone (a claim) or
/// in a transaction (an accepted update).
struct ClaimWrite {
    item: Item,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn claim_write(request: &IdempotencyRequest, fields: Vec<(&str, AttributeValue)>) -> ClaimWrite {
    let (pk, sk) = key(&request.key);
    let mut item = Item::from([
        (PK.to_owned(), pk),
        (SK.to_owned(), sk),
        ("Entity".to_owned(), AttributeValue::S("idempotency".into())),
        (TTL_ATTRIBUTE.to_owned(), number(epoch_seconds(request.expires_at))),
    ]);
    item.extend(fields.into_iter().map(|(name, value)| (name.to_owned(), value)));
    if let Some(hash) = &request.payload_hash {
        item.insert(PAYLOAD_HASH.to_owned(), AttributeValue::S(hash.clone()));
    }
    let names = [("#pk", PK), ("#expires", TTL_ATTRIBUTE), ("#status", STATUS), ("#until", IN_PROGRESS_UNTIL)];
    let values = [
        (":now_s", number(epoch_seconds(request.now))),
        (":now_ms", number(epoch_millis(request.now))),
        (":in_progress", AttributeValue::S(IN_PROGRESS.into())),
        (":released", AttributeValue::S(RELEASED.into())),
    ];
    ClaimWrite {
        item,
        names: names.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        values: values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    }
}

fn string(item: &Item, attr: &str) -> Option<String> {
    item.get(attr).and_then(|v| v.as_s().ok()).cloned()
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn claim(&self, request: &IdempotencyRequest) -> Result<IdempotencyClaim, StoreError> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let write = claim_write(
            request,
            vec![
                (STATUS, AttributeValue::S(IN_PROGRESS.into())),
                (OWNER, AttributeValue::S(token.clone())),
                (IN_PROGRESS_UNTIL, number(epoch_millis(request.in_progress_until))),
            ],
        );
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(write.item))
            .condition_expression(CLAIMABLE)
            .set_expression_attribute_names(Some(write.names))
            .set_expression_attribute_values(Some(write.values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let old = match put.send().await {
            Ok(_) => return Ok(IdempotencyClaim::Acquired { token }),
            Err(e) => match classify(e) {
                ErrorKind::ConditionFailed(Some(old)) => old,
                // The condition failed but the engine did not return the record: read it.
                ErrorKind::ConditionFailed(None) => self.read_record(&request.key).await?.ok_or_else(|| {
                    StoreError::Unavailable(format!("{NAME} {} vanished during its claim", request.key))
                })?,
                other => return Err(other.into_store_error(NAME, &request.key)),
            },
        };
        Ok(taken(&old, request))
    }

    async fn begin_update(
        &self,
        request: &IdempotencyRequest,
        log: &[MessageLogEntry],
    ) -> Result<UpdateClaim, StoreError> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let (pk, sk) = key(&request.key);
        let mut item = Item::from([
            (PK.to_owned(), pk),
            (SK.to_owned(), sk),
            ("Entity".to_owned(), AttributeValue::S("idempotency".into())),
            (TTL_ATTRIBUTE.to_owned(), number(epoch_seconds(request.expires_at))),
            (STATUS.to_owned(), AttributeValue::S(IN_PROGRESS.into())),
            (OWNER.to_owned(), AttributeValue::S(token.clone())),
            (IN_PROGRESS_UNTIL.to_owned(), number(epoch_millis(request.in_progress_until))),
            (ATTEMPTS.to_owned(), number(1)),
        ]);
        if let Some(hash) = &request.payload_hash {
            item.insert(PAYLOAD_HASH.to_owned(), AttributeValue::S(hash.clone()));
        }
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(FRESH)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(":now_s", number(epoch_seconds(request.now)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let record = put.build().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().put(record).build()];
        for entry in log {
            items.push(entry_put(&self.table, entry)?);
        }
        // Sent twice at most: a write whose answer was lost may have landed, and the second try
        // then finds the record it wrote (its own token) instead of holding the update until its
        // deadline.
        let mut tries = 0;
        let err = loop {
            tries += 1;
            let err = match self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                Ok(_) => return Ok(UpdateClaim::Taken { token, attempt: 1 }),
                Err(e) => e,
            };
            let cancelled =
                matches!(err.as_service_error(), Some(TransactWriteItemsError::TransactionCanceledException(_)));
            if cancelled || tries == 2 {
                break err;
            }
            tracing::warn!(error = %DisplayErrorContext(&err), "taking the update failed; trying once more");
        };
        let refused = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
                .cancellation_reasons()
                .first()
                .filter(|r| r.code() == Some("ConditionalCheckFailed"))
                .map(|r| r.item().cloned()),
            _ => None,
        };
        let old = match refused {
            Some(Some(old)) => old,
            Some(None) => self
                .read_record(&request.key)
                .await?
                .ok_or_else(|| StoreError::Unavailable(format!("{NAME} {} vanished during its begin", request.key)))?,
            None => return Err(StoreError::Unavailable(DisplayErrorContext(err).to_string())),
        };
        if string(&old, OWNER).as_deref() == Some(token.as_str()) {
            let attempt = read_number(&old, ATTEMPTS).and_then(|n| u32::try_from(n).ok()).unwrap_or(1);
            return Ok(UpdateClaim::Taken { token, attempt });
        }
        match taken(&old, request) {
            IdempotencyClaim::Completed { .. } => Ok(UpdateClaim::Done),
            IdempotencyClaim::PayloadMismatch => Ok(UpdateClaim::PayloadMismatch),
            IdempotencyClaim::InProgress { until } if until >= request.now && !given_back(&old) => {
                Ok(UpdateClaim::InProgress { until })
            }
            // An earlier attempt failed, or was abandoned (a crash, a timeout) and overran.
            _ => self.take_over(request, &old, token).await,
        }
    }

    async fn fail_update(&self, key_str: &str, token: &str, reason: &str) -> Result<(), StoreError> {
        self.held(key_str, token)
            .update_expression("SET #status = :failed, #error = :reason")
            .expression_attribute_names("#error", LAST_ERROR)
            .expression_attribute_values(":failed", AttributeValue::S(FAILED.into()))
            .expression_attribute_values(":reason", AttributeValue::S(reason.chars().take(1000).collect()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| lost_lock(classify(e), key_str))
    }

    async fn complete(
        &self,
        key_str: &str,
        token: &str,
        result: Option<&str>,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut update = self
            .held(key_str, token)
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(":completed", AttributeValue::S(COMPLETED.into()))
            .expression_attribute_values(":expires", number(epoch_seconds(expires_at)));
        update = match result {
            Some(r) => update
                .update_expression("SET #status = :completed, #expires = :expires, #result = :result")
                .expression_attribute_names("#result", RESULT)
                .expression_attribute_values(":result", AttributeValue::S(r.to_owned())),
            None => update.update_expression("SET #status = :completed, #expires = :expires"),
        };
        update.send().await.map(|_| ()).map_err(|e| lost_lock(classify(e), key_str))
    }

    async fn release(&self, key_str: &str, token: &str) -> Result<(), StoreError> {
        self.held(key_str, token)
            .update_expression("SET #status = :released REMOVE #owner")
            .expression_attribute_values(":released", AttributeValue::S(RELEASED.into()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| lost_lock(classify(e), key_str))
    }
}

/// The lock was gone (never claimed, expired and deleted) or taken over by another attempt.
fn lost_lock(kind: ErrorKind, key_str: &str) -> StoreError {
    match kind {
        ErrorKind::ConditionFailed(None) => StoreError::NotFound { entity: NAME, id: key_str.to_owned() },
        ErrorKind::ConditionFailed(Some(_)) => StoreError::Conflict {
            entity: NAME,
            id: key_str.to_owned(),
            detail: "another attempt holds or finished it".into(),
        },
        other => other.into_store_error(NAME, key_str),
    }
}

/// What a taken key's record says about it.
fn taken(old: &Item, request: &IdempotencyRequest) -> IdempotencyClaim {
    if let (Some(stored), Some(given)) = (string(old, PAYLOAD_HASH), &request.payload_hash)
        && &stored != given
    {
        return IdempotencyClaim::PayloadMismatch;
    }
    if string(old, STATUS).as_deref() == Some(COMPLETED) {
        return IdempotencyClaim::Completed { result: string(old, RESULT) };
    }
    let until = read_number(old, IN_PROGRESS_UNTIL)
        .and_then(|ms| i64::try_from(ms).ok())
        .and_then(DateTime::from_timestamp_millis)
        .unwrap_or(request.now);
    IdempotencyClaim::InProgress { until }
}

/// A record its last attempt gave back: failed (an update) or released (a lock).
fn given_back(record: &Item) -> bool {
    matches!(string(record, STATUS).as_deref(), Some(FAILED | RELEASED))
}

impl DynamoStore {
    /// An update of the record at `key_str` on condition that the attempt holding `token` still
    /// holds it: completing, failing and releasing all start here.
    fn held(
        &self,
        key_str: &str,
        token: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let (pk, sk) = key(key_str);
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .condition_expression("#status = :in_progress AND #owner = :token")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_values(":in_progress", AttributeValue::S(IN_PROGRESS.into()))
            .expression_attribute_values(":token", AttributeValue::S(token.to_owned()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
    }

    /// Takes over an update's record from the attempt that failed or overran, if no other
    /// attempt took it first (then that one is in progress).
    async fn take_over(
        &self,
        request: &IdempotencyRequest,
        old: &Item,
        token: String,
    ) -> Result<UpdateClaim, StoreError> {
        let (pk, sk) = key(&request.key);
        let old_status = string(old, STATUS).unwrap_or_default();
        // A record without an owner (released) is matched by its status and its absent owner.
        let (owner_is, old_owner) = match string(old, OWNER) {
            Some(owner) => ("#status = :old_status AND #owner = :old_owner", Some(owner)),
            None => ("#status = :old_status AND attribute_not_exists(#owner)", None),
        };
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .condition_expression(owner_is)
            .set_expression_attribute_values(
                old_owner.map(|o| HashMap::from([(":old_owner".to_owned(), AttributeValue::S(o))])),
            )
            .update_expression("SET #status = :in_progress, #owner = :token, #until = :until ADD #attempts :one")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_names("#until", IN_PROGRESS_UNTIL)
            .expression_attribute_names("#attempts", ATTEMPTS)
            .expression_attribute_values(":old_status", AttributeValue::S(old_status))
            .expression_attribute_values(":in_progress", AttributeValue::S(IN_PROGRESS.into()))
            .expression_attribute_values(":token", AttributeValue::S(token.clone()))
            .expression_attribute_values(":until", number(epoch_millis(request.in_progress_until)))
            .expression_attribute_values(":one", number(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await;
        match updated {
            Ok(out) => {
                let attempt = out
                    .attributes()
                    .and_then(|a| read_number(a, ATTEMPTS))
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(2);
                Ok(UpdateClaim::Taken { token, attempt })
            }
            Err(e) => match classify(e) {
                ErrorKind::ConditionFailed(_) => Ok(UpdateClaim::InProgress { until: request.in_progress_until }),
                other => Err(other.into_store_error(NAME, &request.key)),
            },
        }
    }

    async fn read_record(&self, key_str: &str) -> Result<Option<Item>, StoreError> {
        self.read_item(key(key_str), NAME, key_str).await
    }
}
