//! What the staff group is owed: notices that need a person, queued durably until the group's
//! limit lets them out, and one live progress card per process.

use crate::domain::ids::{ChatId, ProcessId};
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A message for the staff group, kept until it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffNotice {
    pub id: String,
    /// Telegram HTML, within one message's length.
    pub html: String,
    pub process_id: Option<ProcessId>,
    pub created_at: Timestamp,
    /// Sends that failed so far.
    #[serde(default)]
    pub attempts: u32,
}

/// The staff group's message showing one process's progress, edited in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressCard {
    pub process_id: ProcessId,
    /// Where the card was sent, once it was.
    pub message: Option<(ChatId, i64)>,
    pub edited_at: Option<Timestamp>,
    /// How many changes were reported, and how many the card shows: it is stale while they differ.
    pub changes: u64,
    pub shown: u64,
    /// How many of the process's trackers are in each state, kept with every change; `None` for a
    /// process whose trackers were saved before counts were kept.
    pub counts: Option<std::collections::BTreeMap<crate::domain::tracker::TrackerState, u64>>,
}

impl ProgressCard {
    pub fn is_stale(&self) -> bool {
        self.changes > self.shown
    }
}

/// What reporting a change found about the card before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardTouch {
    /// The card was already stale: whoever made it so has arranged its next edit.
    pub was_stale: bool,
    pub edited_at: Option<Timestamp>,
}
