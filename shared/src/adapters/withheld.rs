//! Stands in for Telegram and the scheduler in a function deployed without access to them (the
//! API families that never send or schedule), so that a path that would reach them fails with a
//! clear error rather than with AWS's access denied or a missing token.

use crate::domain::ids::ChatId;
use crate::ports::messenger::{Messenger, OutgoingMessage};
use crate::ports::scheduler::{Job, Scheduler, SchedulerError};
use crate::telegram::error::TelegramError;
use crate::telegram::types::SentMessage;
use async_trait::async_trait;

#[derive(Debug, Clone, Copy, Default)]
pub struct Withheld;

#[async_trait]
impl Messenger for Withheld {
    async fn send_message(&self, _: &OutgoingMessage) -> Result<SentMessage, TelegramError> {
        Err(TelegramError::Withheld)
    }
    async fn answer_callback(&self, _: &str, _: Option<&str>) -> Result<(), TelegramError> {
        Err(TelegramError::Withheld)
    }
    async fn edit_text(&self, _: ChatId, _: i64, _: &str) -> Result<(), TelegramError> {
        Err(TelegramError::Withheld)
    }
    async fn remove_buttons(&self, _: ChatId, _: i64) -> Result<(), TelegramError> {
        Err(TelegramError::Withheld)
    }
    async fn get_updates(&self, _: i64, _: u32) -> Result<Vec<serde_json::Value>, TelegramError> {
        Err(TelegramError::Withheld)
    }
    async fn set_webhook(&self, _: &str, _: &str, _: &[&str]) -> Result<(), TelegramError> {
        Err(TelegramError::Withheld)
    }
}

#[async_trait]
impl Scheduler for Withheld {
    async fn schedule(&self, _: &Job) -> Result<(), SchedulerError> {
        Err(SchedulerError::Withheld)
    }
    async fn cancel(&self, _: &str) -> Result<(), SchedulerError> {
        Err(SchedulerError::Withheld)
    }
}
