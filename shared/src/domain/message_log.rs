//! The record of every message in and out of Telegram.

use crate::domain::ids::{ChatId, ClientId, ProcessId};
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// A file that came with a message, by Telegram's reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub file_id: String,
    pub file_name: Option<String>,
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageLogEntry {
    /// Unique per entry, so two messages in the same microsecond are both kept.
    pub id: String,
    /// `None` for the staff group and chats not linked to a client.
    pub client_id: Option<ClientId>,
    pub chat_id: ChatId,
    pub direction: Direction,
    pub text: Option<String>,
    pub file: Option<FileRef>,
    pub process_id: Option<ProcessId>,
    pub telegram_message_id: Option<i64>,
    pub at: Timestamp,
}
