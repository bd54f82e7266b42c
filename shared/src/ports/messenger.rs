//! The Messenger port: what the bot asks of Telegram. One call, one answer: pacing, retries and
//! follow-ups (migrated groups, removed bots) are the delivery use case's.

use crate::domain::ids::ChatId;
use crate::telegram::error::TelegramError;
use crate::telegram::types::{ReplyMarkup, SentMessage};
use async_trait::async_trait;

/// One message, its text already in Telegram's HTML and within its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub chat_id: ChatId,
    pub html: String,
    pub markup: Option<ReplyMarkup>,
    pub reply_to: Option<i64>,
}

#[async_trait]
pub trait Messenger: Send + Sync {
    async fn send_message(&self, message: &OutgoingMessage) -> Result<SentMessage, TelegramError>;
    /// Stops the button's spinner, optionally with a short notice to the presser.
    async fn answer_callback(&self, callback_id: &str, text: Option<&str>) -> Result<(), TelegramError>;
    /// Replaces the text of a message the bot sent (the staff group's progress cards).
    async fn edit_text(&self, chat: ChatId, message_id: i64, html: &str) -> Result<(), TelegramError>;
    /// Removes a message's inline buttons (once pressed, they have done their job).
    async fn remove_buttons(&self, chat: ChatId, message_id: i64) -> Result<(), TelegramError>;
    /// Long polling, for a bot without a public webhook URL: the raw updates after `offset`.
    async fn get_updates(&self, offset: i64, timeout_secs: u32) -> Result<Vec<serde_json::Value>, TelegramError>;
    async fn set_webhook(&self, url: &str, secret: &str, allowed_updates: &[&str]) -> Result<(), TelegramError>;
    /// A file a client sent, by its file id (`getFile`, then the download): the bytes and the path
    /// Telegram keeps it under (its extension says what it is). Bots may download up to 20 MB.
    async fn download_file(&self, file_id: &str) -> Result<DownloadedFile, TelegramError> {
        let _ = file_id;
        Err(TelegramError::Withheld)
    }
}

/// A file downloaded from Telegram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedFile {
    pub path: String,
    pub bytes: Vec<u8>,
}
