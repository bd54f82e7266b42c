//! Use cases, written against the ports: they know nothing of Lambda, axum or AWS.

mod advice;
mod delivery;
mod jobs;
mod journal;
mod phase1;
mod processes;
mod staff_commands;
mod stocks;
mod updates;

pub use advice::ApplyOutcome;
pub use delivery::{AppError, Outgoing};
pub use phase1::KickoffReport;
pub use processes::Progress;
pub use updates::WebhookOutcome;

use crate::domain::ids::ChatId;
use crate::domain::pacing::TelegramLimits;
use crate::ports::clock::Clock;
use crate::ports::messenger::Messenger;
use crate::ports::scheduler::Scheduler;
use crate::ports::store::Store;
use chrono::TimeDelta;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The staff group: told what was sent, every failure and escalation; takes staff commands.
    pub staff_chat: Option<ChatId>,
    pub limits: TelegramLimits,
    /// How long an update id is remembered; Telegram retries for up to 24 hours.
    pub update_memory: TimeDelta,
    /// How long one attempt at an update may hold its lock (longer than the function's timeout).
    pub update_lock: TimeDelta,
    pub link_code_lifetime: TimeDelta,
    /// How long the webhook works on one update after accepting it (below the function's timeout).
    pub handling_budget: std::time::Duration,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            staff_chat: None,
            limits: TelegramLimits::default(),
            update_memory: TimeDelta::hours(26),
            update_lock: TimeDelta::seconds(60),
            link_code_lifetime: TimeDelta::hours(24),
            handling_budget: std::time::Duration::from_secs(20),
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
    pub config: AppConfig,
}
