//! The Store port: durable state, keyed by process and client. Every change is conditional: creates
//! fail when the record exists, updates carry the version they read and fail with
//! [`StoreError::Conflict`] when someone else wrote first.

use crate::domain::bot::BotControl;
use crate::domain::client::{ChatBinding, Client};
use crate::domain::ids::{ChatId, ClientId, ProcessId, StaffId, StockId};
use crate::domain::journal::{AuditEntry, ErrorEntry};
use crate::domain::link_code::LinkCode;
use crate::domain::message_log::MessageLogEntry;
use crate::domain::process::Process;
use crate::domain::staff::Staff;
use crate::domain::staff_feed::{CardTouch, ProgressCard, StaffNotice};
use crate::domain::stock::Stock;
use crate::domain::time::Timestamp;
use crate::domain::tracker::{Tracker, TrackerState};
use crate::ports::pacer::PaceStore;
use crate::ports::scheduler::Job;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A stored value with the version it was read at. Versions start at 1 and grow by one per write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{entity} {id} already exists")]
    AlreadyExists { entity: &'static str, id: String },
    /// Someone else changed the record since it was read; read it again and retry or give up.
    #[error("{entity} {id} was changed by someone else: {detail}")]
    Conflict { entity: &'static str, id: String, detail: String },
    #[error("chat {chat_id} is already linked to client {client_id}")]
    ChatTaken { chat_id: ChatId, client_id: ClientId },
    #[error("{entity} {id} is {size} bytes, over DynamoDB's {limit}-byte item limit")]
    ItemTooLarge { entity: &'static str, id: String, size: usize, limit: usize },
    #[error("the page cursor is not valid for this list")]
    InvalidCursor,
    #[error("stored {entity} {id} cannot be read: {reason}")]
    Corrupt { entity: &'static str, id: String, reason: String },
    /// The store could not be reached or refused the request for a reason that is not ours.
    #[error("the store failed: {0}")]
    Unavailable(String),
}

/// An opaque position in a list, handed back to continue it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub String);

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const MAX_PAGE_SIZE: u32 = 100;

/// Which page of a list to read. The limit is clamped to 1..=100.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageRequest {
    pub limit: Option<u32>,
    pub cursor: Option<Cursor>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        PageRequest { limit: Some(limit), cursor: None }
    }

    pub fn after(limit: u32, cursor: Cursor) -> Self {
        PageRequest { limit: Some(limit), cursor: Some(cursor) }
    }

    pub fn effective_limit(&self) -> u32 {
        self.limit.unwrap_or(50).clamp(1, MAX_PAGE_SIZE)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when more items may follow.
    pub next: Option<Cursor>,
}

#[async_trait]
pub trait StaffStore: Send + Sync {
    async fn create_staff(&self, staff: &Staff) -> Result<Versioned<Staff>, StoreError>;
    async fn get_staff(&self, id: &StaffId) -> Result<Versioned<Staff>, StoreError>;
    async fn update_staff(&self, staff: &Staff, expected_version: u64) -> Result<Versioned<Staff>, StoreError>;
    async fn list_staff(&self, page: &PageRequest) -> Result<Page<Versioned<Staff>>, StoreError>;
}

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Creates a client with no chat; use [`ClientStore::link_chat`] to bind one.
    async fn create_client(&self, client: &Client) -> Result<Versioned<Client>, StoreError>;
    async fn get_client(&self, id: &ClientId) -> Result<Versioned<Client>, StoreError>;
    /// The clients of `ids` that exist, read together, in no particular order.
    async fn get_clients(&self, ids: &[ClientId]) -> Result<Vec<Versioned<Client>>, StoreError>;
    /// Updates everything but the chat binding, which only the link operations change.
    async fn update_client(&self, client: &Client, expected_version: u64) -> Result<Versioned<Client>, StoreError>;
    async fn list_clients(&self, page: &PageRequest) -> Result<Page<Versioned<Client>>, StoreError>;
    /// The client a chat is linked to, read strongly consistently, in one read.
    async fn client_by_chat(&self, chat: ChatId) -> Result<Option<Versioned<Client>>, StoreError>;
    /// Binds a chat to a client (replacing the client's previous chat, if any) atomically with the
    /// chat's uniqueness record: one chat belongs to at most one client.
    async fn link_chat(
        &self,
        client: &ClientId,
        binding: &ChatBinding,
        expected_version: u64,
    ) -> Result<Versioned<Client>, StoreError>;
    /// Removes the client's chat binding and frees the chat.
    async fn unlink_chat(&self, client: &ClientId, expected_version: u64) -> Result<Versioned<Client>, StoreError>;
}

#[async_trait]
pub trait StockStore: Send + Sync {
    async fn create_stock(&self, stock: &Stock) -> Result<Versioned<Stock>, StoreError>;
    async fn get_stock(&self, id: &StockId) -> Result<Versioned<Stock>, StoreError>;
    async fn update_stock(&self, stock: &Stock, expected_version: u64) -> Result<Versioned<Stock>, StoreError>;
    /// Stocks in order of their book-building start.
    async fn list_stocks(&self, page: &PageRequest) -> Result<Page<Versioned<Stock>>, StoreError>;
}

#[async_trait]
pub trait ProcessStore: Send + Sync {
    async fn create_process(&self, process: &Process) -> Result<Versioned<Process>, StoreError>;
    async fn get_process(&self, id: &ProcessId) -> Result<Versioned<Process>, StoreError>;
    async fn update_process(&self, process: &Process, expected_version: u64) -> Result<Versioned<Process>, StoreError>;
    /// Every process, by kickoff time.
    async fn list_processes(&self, page: &PageRequest) -> Result<Page<Versioned<Process>>, StoreError>;
    /// One stock's processes, by kickoff time.
    async fn processes_of_stock(
        &self,
        stock: &StockId,
        page: &PageRequest,
    ) -> Result<Page<Versioned<Process>>, StoreError>;
}

/// A process with what handling one of its messages needs, read together.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessBundle {
    pub process: Versioned<Process>,
    pub stock: Option<Versioned<Stock>>,
    pub tracker: Option<Versioned<Tracker>>,
}

#[async_trait]
pub trait TrackerStore: Send + Sync {
    /// A process, the stock named (its own, which never changes) and the tracker of the client
    /// named, in one read. A missing process or stock is not found; a missing tracker is `None`.
    async fn process_bundle(
        &self,
        process: &ProcessId,
        stock: Option<&StockId>,
        tracker_of: Option<&ClientId>,
    ) -> Result<ProcessBundle, StoreError>;
    /// Creates one tracker; fails if the (process, client) pair already has one.
    async fn create_tracker(&self, tracker: &Tracker) -> Result<Versioned<Tracker>, StoreError>;
    /// Saves the trackers of a process that is still a draft at `expected_process_version`: new ones
    /// are created, pending ones replaced. Refused with a conflict if the process has moved on or a
    /// tracker is no longer pending, so a late or repeated save never undoes progress.
    async fn save_draft_trackers(
        &self,
        process: &ProcessId,
        expected_process_version: u64,
        trackers: &[Tracker],
    ) -> Result<(), StoreError>;
    async fn get_tracker(&self, process: &ProcessId, client: &ClientId) -> Result<Versioned<Tracker>, StoreError>;
    /// Removes a tracker that is still pending (advice withdrawn before kickoff); one that has moved
    /// on is a conflict, a missing one is fine.
    async fn remove_pending_tracker(&self, process: &ProcessId, client: &ClientId) -> Result<(), StoreError>;
    /// Every tracker of a process, read strongly consistently.
    async fn trackers_of_process(&self, process: &ProcessId) -> Result<Vec<Versioned<Tracker>>, StoreError>;
    /// A page of a process's trackers by client, only those in `state` when given (a filtered page
    /// may come back short while more follow).
    async fn trackers_page(
        &self,
        process: &ProcessId,
        state: Option<TrackerState>,
        page: &PageRequest,
    ) -> Result<Page<Versioned<Tracker>>, StoreError>;
    /// Saves a tracker that moved on from `expected_state` at `expected_version`, and moves it in
    /// its process's counts when its state changed, atomically. Fails with a conflict naming the
    /// stored state when either no longer holds.
    async fn transition_tracker(
        &self,
        tracker: &Tracker,
        expected_state: TrackerState,
        expected_version: u64,
    ) -> Result<Versioned<Tracker>, StoreError>;
    /// [`TrackerStore::transition_tracker`], with the log entries of the messages the change
    /// went with, in the same atomic write.
    async fn transition_tracker_logged(
        &self,
        tracker: &Tracker,
        expected_state: TrackerState,
        expected_version: u64,
        log: &[MessageLogEntry],
    ) -> Result<Versioned<Tracker>, StoreError>;
    /// One client's trackers across processes.
    async fn trackers_of_client(
        &self,
        client: &ClientId,
        page: &PageRequest,
    ) -> Result<Page<Versioned<Tracker>>, StoreError>;
    /// Open trackers in `state`, longest waiting first.
    async fn trackers_in_state(
        &self,
        state: TrackerState,
        page: &PageRequest,
    ) -> Result<Page<Versioned<Tracker>>, StoreError>;
}

#[async_trait]
pub trait MessageLogStore: Send + Sync {
    /// Appends one entry; appending the same entry again is harmless.
    /// Records on a logged inbound message which process it answered (known only once handled).
    async fn note_answered_process(&self, entry: &MessageLogEntry, process: &ProcessId) -> Result<(), StoreError>;
    /// Appends many entries in batches, retrying what DynamoDB leaves unprocessed under throttling.
    async fn append_messages(&self, entries: &[MessageLogEntry]) -> Result<(), StoreError>;
    /// A client's messages with `from <= at < until`, oldest first.
    async fn client_messages(
        &self,
        client: &ClientId,
        from: Timestamp,
        until: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<MessageLogEntry>, StoreError>;
}

/// An idempotency record in the Powertools design: a lock taken before an effect, completed with
/// its result after it, released when it failed so a retry can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// Nobody has done this yet (or an earlier attempt expired): go ahead, then complete or release
    /// with this token, which proves the lock is still this attempt's.
    Acquired { token: String },
    /// Already done; here is what it returned.
    Completed { result: Option<String> },
    /// Another attempt holds the lock and has not timed out.
    InProgress { until: Timestamp },
    /// The key was used before with different input.
    PayloadMismatch,
}

/// What [`IdempotencyStore::begin_update`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateClaim {
    /// This attempt handles the update: the first (`attempt` 1), or a later one after a failure.
    Taken { token: String, attempt: u32 },
    /// Handled already.
    Done,
    /// Another attempt is handling it and has not run out of time.
    InProgress { until: Timestamp },
    /// The update id was used before with different content.
    PayloadMismatch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRequest {
    pub key: String,
    /// A hash of the input, so a reused key with another input is caught.
    pub payload_hash: Option<String>,
    pub now: Timestamp,
    /// How long this attempt may hold the lock (from the Lambda's remaining time).
    pub in_progress_until: Timestamp,
    /// When the record stops counting (also the table's TTL attribute).
    pub expires_at: Timestamp,
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    async fn claim(&self, request: &IdempotencyRequest) -> Result<IdempotencyClaim, StoreError>;
    /// Takes a Telegram update for handling, with the log entries of what arrived, in one atomic
    /// write. A first delivery takes a fresh record; a redelivery after a failed or abandoned
    /// attempt takes the record over and learns which attempt it is. Complete it with
    /// [`IdempotencyStore::complete`] or give it back with [`IdempotencyStore::fail_update`].
    async fn begin_update(
        &self,
        request: &IdempotencyRequest,
        log: &[MessageLogEntry],
    ) -> Result<UpdateClaim, StoreError>;
    /// Gives an update back after a failed attempt, keeping its count of attempts, so Telegram's
    /// redelivery can take it; `reason` is kept for the error log.
    async fn fail_update(&self, key: &str, token: &str, reason: &str) -> Result<(), StoreError>;
    /// Records the result. Fails with a conflict when the lock is no longer `token`'s (the attempt
    /// overran its deadline and another took over).
    async fn complete(
        &self,
        key: &str,
        token: &str,
        result: Option<&str>,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Gives the key back after a failed attempt; a lock that another attempt took over is left alone
    /// (and reported as a conflict).
    async fn release(&self, key: &str, token: &str) -> Result<(), StoreError>;
}

/// The audit and error logs: append-only, read by time.
#[async_trait]
pub trait JournalStore: Send + Sync {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// Entries with `from <= at < until`, oldest first.
    async fn audit(
        &self,
        from: Timestamp,
        until: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError>;
    async fn append_error(&self, entry: &ErrorEntry) -> Result<(), StoreError>;
    async fn errors(
        &self,
        from: Timestamp,
        until: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<ErrorEntry>, StoreError>;
}

/// Due jobs kept in the store, for the local scheduler (the devserver and tests).
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores a job; one of the same name already there is left as it is.
    async fn put_job(&self, job: &Job) -> Result<(), StoreError>;
    /// Removes a job; a missing one is fine.
    async fn delete_job(&self, name: &str) -> Result<(), StoreError>;
    /// Jobs due at `now`, earliest first.
    async fn due_jobs(&self, now: Timestamp, limit: u32) -> Result<Vec<Job>, StoreError>;
    /// Takes a job so only one runner fires it: `false` when another runner took it first.
    async fn take_job(&self, job: &Job) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait LinkCodeStore: Send + Sync {
    async fn create_link_code(
        &self,
        code: &LinkCode,
        client: &ClientId,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Takes a code, once: the client it links and when the code would have expired, or `None` when
    /// it is unknown, used or expired.
    async fn redeem_link_code(
        &self,
        code: &LinkCode,
        now: Timestamp,
    ) -> Result<Option<(ClientId, Timestamp)>, StoreError>;
    /// Revokes every code issued to the client so far (`until`: when the last of them expires).
    async fn revoke_link_codes(&self, client: &ClientId, until: Timestamp) -> Result<(), StoreError>;
}

/// The staff group's queue of notices and its progress cards.
#[async_trait]
pub trait StaffFeedStore: Send + Sync {
    async fn enqueue_staff_notice(&self, notice: &StaffNotice) -> Result<(), StoreError>;
    /// Queued notices, oldest first.
    async fn queued_staff_notices(&self, limit: u32) -> Result<Vec<StaffNotice>, StoreError>;
    /// Drops a notice once sent (or given up on); a missing one is fine.
    async fn remove_staff_notice(&self, notice: &StaffNotice) -> Result<(), StoreError>;
    /// Records a failed attempt at sending a notice.
    async fn count_staff_notice_attempt(&self, notice: &StaffNotice) -> Result<(), StoreError>;
    /// Reports a change to a process: its card becomes stale (created if new). Says how it was.
    async fn touch_card(&self, process: &ProcessId) -> Result<CardTouch, StoreError>;
    /// Cards that show less than happened, any order.
    async fn stale_cards(&self, limit: u32) -> Result<Vec<ProgressCard>, StoreError>;
    async fn get_card(&self, process: &ProcessId) -> Result<Option<ProgressCard>, StoreError>;
    /// Records what the card now shows: its message, when it was edited, and the changes it
    /// covers. `true` when more changes arrived meanwhile: it is still stale.
    async fn save_card(&self, card: &ProgressCard) -> Result<bool, StoreError>;
}

/// The bot's emergency stop: one record for the whole deployment.
#[async_trait]
pub trait BotControlStore: Send + Sync {
    /// The switch as stored; running at version 0 when it was never written.
    async fn get_bot_control(&self) -> Result<Versioned<BotControl>, StoreError>;
    /// Writes the switch if it is still at `expected_version` (0: never written); a conflict when
    /// someone else changed it first.
    async fn put_bot_control(
        &self,
        control: &BotControl,
        expected_version: u64,
    ) -> Result<Versioned<BotControl>, StoreError>;
}

/// Everything the use cases store, as one bound.
pub trait Store:
    StaffStore
    + ClientStore
    + StockStore
    + ProcessStore
    + TrackerStore
    + MessageLogStore
    + IdempotencyStore
    + LinkCodeStore
    + PaceStore
    + JobStore
    + JournalStore
    + StaffFeedStore
    + BotControlStore
{
}

impl<T> Store for T where
    T: StaffStore
        + ClientStore
        + StockStore
        + ProcessStore
        + TrackerStore
        + MessageLogStore
        + IdempotencyStore
        + LinkCodeStore
        + PaceStore
        + JobStore
        + JournalStore
        + StaffFeedStore
        + BotControlStore
{
}
