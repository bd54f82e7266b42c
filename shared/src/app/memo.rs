//! What one warm process (a Lambda instance, the devserver) remembers between requests, so that a
//! burst of updates does not ask the store the same thing each time: facts that never change (a
//! process's stock), facts allowed to be a little late (who is staff, for a minute), and what it
//! already arranged (each card's next feed run).

use crate::domain::ids::{ProcessId, StaffId, StockId, TelegramUserId};
use crate::domain::staff::Role;
use crate::domain::time::Timestamp;
use chrono::TimeDelta;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the staff list is trusted: a person made staff (or no longer) is seen as such by every
/// warm function within this.
pub const STAFF_MEMORY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Default)]
pub struct Memo(Arc<Mutex<Inner>>);

#[derive(Debug, Default)]
struct Inner {
    staff: Option<(Instant, Staffers)>,
    /// A process's stock is fixed when it is created.
    stocks: HashMap<ProcessId, Option<StockId>>,
    feed: HashMap<ProcessId, FeedPlan>,
}

/// One of the firm's active staff, as their Telegram account shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub name: String,
    pub role: Role,
}

/// The active staff, by Telegram account and by staff record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Staffers {
    pub by_telegram: HashMap<TelegramUserId, StaffMember>,
    pub by_id: HashMap<StaffId, StaffMember>,
}

#[derive(Debug, Default, Clone, Copy)]
struct FeedPlan {
    /// When this process last ran the feed for the card.
    ran: Option<Timestamp>,
    /// A run this process scheduled for the card.
    scheduled: Option<Timestamp>,
}

/// What to do about a card that changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedStep {
    RunNow,
    RunAt(Timestamp),
    /// A run is arranged already.
    Arranged,
}

impl Memo {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The active staff, if read within [`STAFF_MEMORY`].
    pub fn staff(&self) -> Option<Staffers> {
        let inner = self.lock();
        inner.staff.as_ref().filter(|(at, _)| at.elapsed() < STAFF_MEMORY).map(|(_, users)| users.clone())
    }

    /// The staff changed through this process: it reads them afresh (others within
    /// [`STAFF_MEMORY`]; in the devserver, the only process, at once).
    pub fn forget_staff(&self) {
        self.lock().staff = None;
    }

    pub fn remember_staff(&self, users: Staffers) {
        self.lock().staff = Some((Instant::now(), users));
    }

    /// A process's stock, when this process has read it before (`Some(None)`: it has none).
    pub fn stock_of(&self, process: &ProcessId) -> Option<Option<StockId>> {
        self.lock().stocks.get(process).cloned()
    }

    pub fn remember_stock(&self, process: &ProcessId, stock: Option<StockId>) {
        self.lock().stocks.insert(process.clone(), stock);
    }

    /// How a change to `process`'s card gets drawn: now when this process has not run the feed
    /// for it within `interval`, else by one run scheduled for when it may, once.
    pub fn feed_step(&self, process: &ProcessId, now: Timestamp, interval: TimeDelta) -> FeedStep {
        let mut inner = self.lock();
        let plan = inner.feed.entry(process.clone()).or_default();
        if plan.scheduled.is_some_and(|at| at > now) {
            return FeedStep::Arranged;
        }
        match plan.ran {
            Some(ran) if now - ran < interval => {
                let at = ran + interval;
                plan.scheduled = Some(at);
                FeedStep::RunAt(at)
            }
            _ => {
                plan.ran = Some(now);
                FeedStep::RunNow
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_is_drawn_at_once_then_at_most_once_per_interval() {
        let memo = Memo::default();
        let process: ProcessId = "p".parse().unwrap();
        let t0: Timestamp = "2026-03-16T00:00:00Z".parse().unwrap();
        let every = TimeDelta::seconds(5);
        let at = |s: i64| t0 + TimeDelta::milliseconds(s);
        assert_eq!(memo.feed_step(&process, at(0), every), FeedStep::RunNow);
        assert_eq!(memo.feed_step(&process, at(1_000), every), FeedStep::RunAt(at(5_000)));
        assert_eq!(memo.feed_step(&process, at(2_000), every), FeedStep::Arranged);
        assert_eq!(memo.feed_step(&process, at(6_000), every), FeedStep::RunNow, "the scheduled run is past");
        let other: ProcessId = "q".parse().unwrap();
        assert_eq!(memo.feed_step(&other, at(6_000), every), FeedStep::RunNow, "each card on its own");
    }

    #[test]
    fn staff_are_remembered_for_a_while_only() {
        let memo = Memo::default();
        assert_eq!(memo.staff(), None);
        let kim = || Staffers {
            by_telegram: HashMap::from([(
                TelegramUserId(7),
                StaffMember { name: "김운영".into(), role: Role::Operator },
            )]),
            by_id: HashMap::new(),
        };
        memo.remember_staff(kim());
        assert_eq!(memo.staff(), Some(kim()));
        memo.lock().staff.as_mut().unwrap().0 = Instant::now() - STAFF_MEMORY;
        assert_eq!(memo.staff(), None);
        memo.remember_staff(kim());
        memo.forget_staff();
        assert_eq!(memo.staff(), None, "a change made here is read afresh");
    }
}
