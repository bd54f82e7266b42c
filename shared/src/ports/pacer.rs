//! Shared send pacing: each limit's state in a record every sender sees.

use crate::domain::pacing::Limit;
use crate::domain::time::Timestamp;
use crate::ports::store::StoreError;
use async_trait::async_trait;

/// What a reservation got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Each send's slot, in order; `None` for a send left out (nothing was reserved for it).
    pub slots: Vec<Option<Timestamp>>,
    /// When the first send left out could go, as things stand.
    pub next: Option<Timestamp>,
}

/// How far ahead a reservation may reach (see [`crate::domain::pacing::Bounds`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Nothing is reserved unless the first slot falls by then.
    pub first_by: Option<Timestamp>,
    /// A send whose own limits hold it past this is left out.
    pub own_by: Option<Timestamp>,
}

#[async_trait]
pub trait PaceStore: Send + Sync {
    /// Reserves slots for a run of sends (each given as the limits it counts against) all at once:
    /// each the earliest time at or after `not_before` its limits allow, within `bounds`.
    async fn reserve(
        &self,
        sends: &[Vec<Limit>],
        not_before: Timestamp,
        bounds: Window,
    ) -> Result<Reservation, StoreError>;
    /// Moves a limit's time to at least `tat` (Telegram said "retry after").
    async fn advance(&self, limit: &Limit, tat: Timestamp) -> Result<(), StoreError>;
}
