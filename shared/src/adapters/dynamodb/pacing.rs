//! Pace buckets: one small item per limit (`PACE#<key>`) holding its theoretical arrival time,
//! changed only by compare-and-set, so concurrent Lambda instances share Telegram's limits.

use super::{DynamoStore, number, read_number, table};
use crate::domain::pacing::{Rate, reserve_all};
use crate::domain::time::Timestamp;
use crate::ports::pacer::PaceStore;
use crate::ports::store::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use chrono::DateTime;
use table::{PK, SK, TTL_ATTRIBUTE};

const NAME: &str = "pace bucket";
const TAT: &str = "Tat";
/// Compare-and-set rounds before giving up, with jittered pauses between them: enough for
/// hundreds of senders on the bot's bucket at 09:00.
const ROUNDS: u32 = 400;

fn millis(t: Timestamp) -> u64 {
    u64::try_from(t.timestamp_millis()).unwrap_or(0)
}

fn timestamp(ms: u64) -> Timestamp {
    i64::try_from(ms).ok().and_then(DateTime::from_timestamp_millis).unwrap_or_default()
}

impl DynamoStore {
    async fn read_tat(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let at = (AttributeValue::S(format!("PACE#{key}")), AttributeValue::S("#PACE".into()));
        Ok(self.read_item(at, NAME, key).await?.as_ref().and_then(|i| read_number(i, TAT)))
    }

    /// The transaction item that sets the bucket to `new` if it still holds `old`.
    fn swap_item(&self, key: &str, old: Option<u64>, new: u64) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .item(PK, AttributeValue::S(format!("PACE#{key}")))
            .item(SK, AttributeValue::S("#PACE".into()))
            .item("Entity", AttributeValue::S("pace".into()))
            .item(TAT, number(new))
            // Idle buckets disappear a day after their last slot.
            .item(TTL_ATTRIBUTE, number(new / 1_000 + 86_400))
            .expression_attribute_names("#tat", TAT);
        put = match old {
            None => put.condition_expression("attribute_not_exists(#tat)"),
            Some(old) => put.condition_expression("#tat = :old").expression_attribute_values(":old", number(old)),
        };
        let put = put.build().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Sets the bucket to `new` if it still holds `old`; `false` when another sender got there first.
    async fn swap_tat(&self, key: &str, old: Option<u64>, new: u64) -> Result<bool, StoreError> {
        let item = self.swap_item(key, old, new)?;
        match self.client.transact_write_items().transact_items(item).send().await {
            Ok(_) => Ok(true),
            Err(e) if is_contention(&e) => Ok(false),
            Err(e) => Err(StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())),
        }
    }
}

/// Whether a transaction failed only because another sender changed a bucket first.
fn is_contention<R>(err: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, R>) -> bool {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .iter()
            .all(|r| matches!(r.code(), None | Some("None" | "ConditionalCheckFailed" | "TransactionConflict"))),
        Some(e) => e.meta().code() == Some("TransactionConflictException"),
        None => false,
    }
}

/// 1–8 ms, growing a little with the rounds, so contending senders spread out.
async fn contention_pause(round: u32) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let micros = 1_000 + u64::from(nanos % 1_000) * u64::from(round.min(7) + 1);
    tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
}

#[async_trait]
impl PaceStore for DynamoStore {
    async fn reserve_slot(
        &self,
        buckets: &[(String, Rate)],
        not_before: Timestamp,
        latest: Option<Timestamp>,
    ) -> Result<Option<Timestamp>, StoreError> {
        let _turn = self.pace_turn.lock().await;
        for round in 0..ROUNDS {
            let mut read = Vec::with_capacity(buckets.len());
            for (key, rate) in buckets {
                read.push((*rate, self.read_tat(key).await?));
            }
            let (send_at, tats) = reserve_all(&read, millis(not_before));
            if latest.is_some_and(|latest| send_at > millis(latest)) {
                return Ok(None);
            }
            let items = buckets
                .iter()
                .zip(read.iter().zip(tats))
                .map(|((key, _), ((_, old), new))| self.swap_item(key, *old, new))
                .collect::<Result<Vec<_>, _>>()?;
            match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
                Ok(_) => return Ok(Some(timestamp(send_at))),
                Err(e) if is_contention(&e) => contention_pause(round).await,
                Err(e) => {
                    return Err(StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()));
                }
            }
        }
        Err(StoreError::Conflict {
            entity: NAME,
            id: "pace".into(),
            detail: format!("still contended after {ROUNDS} rounds"),
        })
    }

    async fn advance(&self, key: &str, tat: Timestamp) -> Result<(), StoreError> {
        let wanted = millis(tat);
        for round in 0..ROUNDS {
            let tat = self.read_tat(key).await?;
            if tat.is_some_and(|t| t >= wanted) || self.swap_tat(key, tat, wanted).await? {
                return Ok(());
            }
            contention_pause(round).await;
        }
        Err(StoreError::Conflict {
            entity: NAME,
            id: key.to_owned(),
            detail: format!("still contended after {ROUNDS} rounds"),
        })
    }
}
