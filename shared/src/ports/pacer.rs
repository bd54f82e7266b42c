//! Shared send pacing: a bucket per limit, held where every sender sees it.

use crate::domain::pacing::Rate;
use crate::domain::time::Timestamp;
use crate::ports::store::StoreError;
use async_trait::async_trait;

#[async_trait]
pub trait PaceStore: Send + Sync {
    /// Reserves one send against every bucket at once: the earliest time at or after `not_before`
    /// they all allow, recorded in all of them atomically. With `latest`, a slot later than it is
    /// not reserved and `None` comes back.
    async fn reserve_slot(
        &self,
        buckets: &[(String, Rate)],
        not_before: Timestamp,
        latest: Option<Timestamp>,
    ) -> Result<Option<Timestamp>, StoreError>;
    /// Moves bucket `key`'s theoretical arrival time to at least `tat` (Telegram said "retry after").
    async fn advance(&self, key: &str, tat: Timestamp) -> Result<(), StoreError>;
}
