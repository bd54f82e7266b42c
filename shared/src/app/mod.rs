//! Use cases, written against the ports: they know nothing of Lambda, axum or AWS.
//!
//! `tracking/` is the lifecycle every phase shares (kickoff, chasing, answers, confirmation),
//! written once; what differs per phase comes from `domain::phase` and `domain::templates`.

mod advice;
mod audience;
mod bot;
mod delivery;
mod jobs;
mod journal;
mod memo;
mod prior;
mod processes;
mod result;
mod sell_advice;
mod sell_plan;
mod staff;
mod staff_commands;
mod staff_feed;
mod stocks;
mod tracker_actions;
mod tracking;
mod updates;

pub use advice::ApplyOutcome;
pub use audience::{Audience, AudienceOutcome, AudiencePlan, Recipient};
pub use delivery::{AppError, Delivered, Outgoing, Refusal, SendGate};
pub use memo::{Memo, StaffMember};
pub use processes::Progress;
pub use sell_advice::SellApplyOutcome;
pub use sell_plan::{
    Proposal, ProposedSale, SaleDay, Unlocking, UnlockingClient, UnlockingFund, lockup_slug, sale_days,
};
pub use staff_feed::FeedReport;
pub use tracking::KickoffReport;
pub use updates::WebhookOutcome;

use crate::domain::ids::ChatId;
use crate::domain::pacing::TelegramLimits;
use crate::ports::clock::Clock;
use crate::ports::messenger::Messenger;
use crate::ports::scheduler::Scheduler;
use crate::ports::store::{Page, PageRequest, Store, StoreError, Versioned};
use chrono::TimeDelta;
use std::future::Future;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The staff group: told what needs a person, and shown each process's progress card; takes
    /// staff commands.
    pub staff_chat: Option<ChatId>,
    pub limits: TelegramLimits,
    /// How long an update id is remembered; Telegram retries for up to 24 hours.
    pub update_memory: TimeDelta,
    pub link_code_lifetime: TimeDelta,
    /// How long the webhook works on one update after taking it (below the function's timeout).
    pub handling_budget: std::time::Duration,
    /// Attempts at one update before it is set aside (told to staff) instead of given back to
    /// Telegram, which would hold the chat's next updates behind it.
    pub update_attempts: u32,
    /// How long a handler waits for the staff group's next slot before leaving its notices to the
    /// feed's next run: a client's reply never waits behind staff notices.
    pub staff_wait: std::time::Duration,
    /// The least time between two edits of a progress card.
    pub card_interval: TimeDelta,
    /// A staff notice sent later than this after it was raised is reported in the error log.
    pub notice_budget: TimeDelta,
    /// How far advice may lie outside its stock's price band (in percent of the band's edge)
    /// before the import warns.
    pub band_tolerance_percent: u32,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            staff_chat: None,
            limits: TelegramLimits::default(),
            update_memory: TimeDelta::hours(26),
            link_code_lifetime: TimeDelta::hours(24),
            handling_budget: std::time::Duration::from_secs(20),
            update_attempts: 3,
            staff_wait: std::time::Duration::from_secs(2),
            card_interval: TimeDelta::seconds(5),
            notice_budget: TimeDelta::seconds(60),
            band_tolerance_percent: 20,
        }
    }
}

/// Everything a use case needs, built once per process (a Lambda's cold start, the devserver).
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub messenger: Arc<dyn Messenger>,
    pub scheduler: Arc<dyn Scheduler>,
    /// Business time: kickoffs, reminders, expiries. Tests set it.
    pub clock: Arc<dyn Clock>,
    /// Wall time for pacing sends, which must really wait.
    pub pacing_clock: Arc<dyn Clock>,
    /// Spaces this process's own calls to Telegram.
    pub send_gate: SendGate,
    /// What this process remembers between requests.
    pub memo: Memo,
    pub config: AppConfig,
}

/// Optimistic-lock retries when two handlers touch a record at once.
const CONFLICT_RETRIES: u32 = 3;

/// Reads a record, lets `change` decide whether and how it changes, and writes it on condition of
/// the version read; from a fresh read again when someone else wrote first. `None` when `change`
/// declined.
pub(crate) async fn retry_on_conflict<T, R, W>(
    (entity, id): (&'static str, String),
    read: impl Fn() -> R,
    change: impl Fn(&mut T) -> Result<bool, AppError>,
    write: impl Fn(T, Versioned<T>) -> W,
) -> Result<Option<Versioned<T>>, AppError>
where
    T: Clone,
    R: Future<Output = Result<Versioned<T>, StoreError>>,
    W: Future<Output = Result<Versioned<T>, StoreError>>,
{
    for _ in 0..CONFLICT_RETRIES {
        let stored = read().await?;
        let mut value = stored.value.clone();
        if !change(&mut value)? {
            return Ok(None);
        }
        match write(value, stored).await {
            Ok(saved) => return Ok(Some(saved)),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict { entity, id, detail: "kept changing".into() }.into())
}

/// Every item of a paginated list.
pub(crate) async fn all_pages<T, F, Fut>(mut read: F) -> Result<Vec<T>, StoreError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    let mut items = Vec::new();
    let mut request = PageRequest::first(100);
    loop {
        let page = read(request).await?;
        items.extend(page.items);
        match page.next {
            Some(cursor) => request = PageRequest::after(100, cursor),
            None => return Ok(items),
        }
    }
}
