//! Shared send pacing: a bucket per limit, held where every sender sees it.

use crate::domain::pacing::Rate;
use crate::domain::time::Timestamp;
use crate::ports::store::StoreError;
use async_trait::async_trait;

#[async_trait]
pub trait PaceStore: Send + Sync {
    /// Reserves the earliest slot at or after `not_before` in bucket `key` and returns it.
    async fn reserve_slot(&self, key: &str, rate: Rate, not_before: Timestamp) -> Result<Timestamp, StoreError>;
    /// Moves bucket `key`'s theoretical arrival time to at least `tat`: the send happened later than
    /// its slot, or Telegram said "retry after".
    async fn advance(&self, key: &str, tat: Timestamp) -> Result<(), StoreError>;
}
