//! Pace buckets: one small item per limit (`PACE#<key>`) holding its theoretical arrival time,
//! changed only by compare-and-set, so concurrent Lambda instances share Telegram's limits.

use super::errors::{ErrorKind, classify};
use super::{DynamoStore, number, read_number, table};
use crate::domain::pacing::{Rate, reserve};
use crate::domain::time::Timestamp;
use crate::ports::pacer::PaceStore;
use crate::ports::store::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::DateTime;
use table::{PK, SK, TTL_ATTRIBUTE};

const NAME: &str = "pace bucket";
const TAT: &str = "Tat";
/// Compare-and-set rounds before giving up; contention is a handful of senders at most.
const ROUNDS: u32 = 50;

fn millis(t: Timestamp) -> u64 {
    u64::try_from(t.timestamp_millis()).unwrap_or(0)
}

fn timestamp(ms: u64) -> Timestamp {
    i64::try_from(ms).ok().and_then(DateTime::from_timestamp_millis).unwrap_or_default()
}

impl DynamoStore {
    async fn read_tat(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(format!("PACE#{key}")))
            .key(SK, AttributeValue::S("#PACE".into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(e).into_store_error(NAME, key))?;
        Ok(output.item.as_ref().and_then(|i| read_number(i, TAT)))
    }

    /// Sets the bucket to `new` if it still holds `old`; `false` when another sender got there first.
    async fn swap_tat(&self, key: &str, old: Option<u64>, new: u64) -> Result<bool, StoreError> {
        let mut put = self
            .client
            .put_item()
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
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) => match classify(e) {
                ErrorKind::ConditionFailed(_) => Ok(false),
                other => Err(other.into_store_error(NAME, key)),
            },
        }
    }
}

#[async_trait]
impl PaceStore for DynamoStore {
    async fn reserve_slot(&self, key: &str, rate: Rate, not_before: Timestamp) -> Result<Timestamp, StoreError> {
        for _ in 0..ROUNDS {
            let tat = self.read_tat(key).await?;
            let slot = reserve(rate, tat, millis(not_before));
            if self.swap_tat(key, tat, slot.new_tat_ms).await? {
                return Ok(timestamp(slot.send_at_ms));
            }
        }
        Err(StoreError::Conflict {
            entity: NAME,
            id: key.to_owned(),
            detail: format!("still contended after {ROUNDS} rounds"),
        })
    }

    async fn advance(&self, key: &str, tat: Timestamp) -> Result<(), StoreError> {
        let wanted = millis(tat);
        for _ in 0..ROUNDS {
            let tat = self.read_tat(key).await?;
            if tat.is_some_and(|t| t >= wanted) || self.swap_tat(key, tat, wanted).await? {
                return Ok(());
            }
        }
        Err(StoreError::Conflict {
            entity: NAME,
            id: key.to_owned(),
            detail: format!("still contended after {ROUNDS} rounds"),
        })
    }
}
