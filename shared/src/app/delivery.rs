//! Sending: every message to Telegram goes through here. It keeps Telegram's limits across every
//! sender (pace buckets in the store), honours `retry_after`, retries Telegram's and the network's
//! passing failures with jittered backoff, follows a group that became a supergroup, stops sending
//! to a chat that removed the bot, splits long texts, and logs what was sent.

use super::App;
use crate::domain::client::ChatBinding;
use crate::domain::ids::{ChatId, ClientId, ProcessId};
use crate::domain::message_log::{Direction, MessageLogEntry};
use crate::domain::templates;
use crate::domain::time::Timestamp;
use crate::ports::messenger::OutgoingMessage;
use crate::ports::pacer::Window;
use crate::ports::store::{StoreError, Versioned};
use crate::telegram::error::TelegramError;
use crate::telegram::html::{MESSAGE_LIMIT, split};
use crate::telegram::types::{ReplyMarkup, SentMessage};
use chrono::TimeDelta;
use std::time::Duration;

/// 429s tolerated for one message before giving up (each waits as Telegram asks).
const MAX_THROTTLED: u32 = 20;
/// Passing failures (5xx, network) tolerated for one message.
const MAX_TRANSIENT: u32 = 5;
/// How late a sender may wake for its slot and still use it. Later, it gives the slot up and
/// reserves another: sent that late, its message could crowd the ones reserved after it into
/// Telegram's one-second window (a starved test machine woke a sender 110 ms late).
const MISSED_SLOT: TimeDelta = TimeDelta::milliseconds(50);
/// How far ahead of now a fan-out may book the bot's sends.
const BULK_HORIZON: TimeDelta = TimeDelta::milliseconds(250);
/// How far ahead a single message reserves its slot; a later one is waited for first. Longer than
/// a fan-out's booking ahead plus one batch, so the bot's backlog alone never makes a sender wait
/// unreserved.
const PATIENCE: TimeDelta = TimeDelta::milliseconds(700);
/// How long before a waited-for slot the sender wakes to reserve it.
const LEAD: TimeDelta = TimeDelta::milliseconds(15);
/// Slots given up in a row before a sender goes anyway, so that a machine that stays starved still
/// sends.
const MAX_MISSED: u32 = 3;

/// A send's reserved time, and when the reservation came back. Lateness counts from the later of
/// the two: the store's round trip is not lateness (every sender pays it alike), but a task that
/// started after its slot, reserved in a batch, is late.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub at: Timestamp,
    pub reserved_at: Timestamp,
}

/// A part of a message Telegram accepted, and where it went (a migrated group's new id).
#[derive(Debug, Clone)]
pub struct Delivered {
    pub chat: ChatId,
    pub html: String,
    pub sent: SentMessage,
}

/// The log entries of what was delivered for `out`.
pub(crate) fn outbound_entries(out: &Outgoing, delivered: &[Delivered], at: Timestamp) -> Vec<MessageLogEntry> {
    delivered
        .iter()
        .map(|d| MessageLogEntry {
            id: format!("out-{}-{}", d.chat, d.sent.message_id),
            client_id: out.client.clone(),
            chat_id: d.chat,
            direction: Direction::Outbound,
            text: Some(d.html.clone()),
            file: None,
            process_id: out.process.clone(),
            telegram_message_id: Some(d.sent.message_id),
            at,
        })
        .collect()
}

/// A message to deliver, with what it is about (for the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub chat: ChatId,
    pub html: String,
    pub markup: Option<ReplyMarkup>,
    pub reply_to: Option<i64>,
    pub client: Option<ClientId>,
    pub process: Option<ProcessId>,
}

impl Outgoing {
    pub fn text(chat: ChatId, html: String) -> Outgoing {
        Outgoing { chat, html, markup: None, reply_to: None, client: None, process: None }
    }
}

/// What a use case can fail with, mapped once at the edge (webhook: logged and 200; scheduler:
/// retried; API: problem+json).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Telegram(#[from] TelegramError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Scheduler(#[from] crate::ports::scheduler::SchedulerError),
    #[error(transparent)]
    Tracker(#[from] crate::domain::tracker::TrackerError),
    #[error(transparent)]
    Process(#[from] crate::domain::process::IllegalProcessTransition),
    #[error(transparent)]
    Stock(#[from] crate::domain::stock::StockError),
    /// What was asked cannot be done in the current state of things; says why.
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// Why a use case declined: each a sentence staff can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the process has no advice yet: load its advice (or choose its audience) first")]
    NoAdvice,
    #[error("the process is {0}: it cannot start")]
    NotStartable(crate::domain::process::ProcessState),
    #[error("the kickoff time {kickoff} has already passed: start the process now, or set a later kickoff")]
    KickoffPassed { kickoff: String },
    #[error("{stock} has no final price yet: set it before the allotment check starts")]
    NoFinalPrice { stock: String },
    #[error("{stock} was withdrawn")]
    StockWithdrawn { stock: String },
    #[error("the process has no stock, which this kind needs")]
    NoStock,
    #[error("nothing to remind: {0}")]
    NotAwaitingClient(String),
    #[error("{0}")]
    WrongPhase(String),
    #[error("{0}")]
    BadAnswer(#[from] crate::domain::phase::AnswerInputError),
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The emergency stop is on: nothing goes to clients until staff resume.
    #[error("the bot is stopped (by {by} since {since}: {reason}): resume it first")]
    BotStopped { by: String, since: String, reason: String },
    #[error("the bot is running: there is nothing to resume")]
    BotRunning,
}

impl From<crate::domain::bot::BotSwitchError> for Refusal {
    fn from(e: crate::domain::bot::BotSwitchError) -> Self {
        use crate::domain::bot::BotSwitchError;
        match e {
            BotSwitchError::AlreadyStopped { by, since, reason } => Refusal::BotStopped { by, since, reason },
            BotSwitchError::NotStopped => Refusal::BotRunning,
        }
    }
}

impl AppError {
    /// A send the emergency stop held: nothing went, and nothing is to be marked failed.
    pub fn is_held(&self) -> bool {
        matches!(self, AppError::Refused(Refusal::BotStopped { .. }))
    }
}

impl App {
    /// Delivers a message (several, if it is long; the markup goes on the last part) and logs
    /// what was sent.
    pub async fn deliver(&self, out: &Outgoing) -> Result<Vec<SentMessage>, AppError> {
        let delivered = self.deliver_unlogged(out, None).await?;
        self.log_delivered(out, &delivered).await;
        Ok(delivered.into_iter().map(|d| d.sent).collect())
    }

    pub(super) async fn log_delivered(&self, out: &Outgoing, delivered: &[Delivered]) {
        if let Err(e) = self.store.append_messages(&outbound_entries(out, delivered, self.clock.now())).await {
            tracing::error!(error = %e, chat = %out.chat, "sent, but could not log the message");
        }
    }

    /// [`App::deliver`] without the log, which the caller writes with what the send changed (a
    /// tracker's transition); the first part in `slot` when a fan-out reserved one for it.
    ///
    /// The emergency stop holds everything but the staff group's own traffic (answers to its
    /// commands), and every message to a client passes here: a fan-out's slot comes from
    /// [`App::pace_bulk`], which read the stop for its whole batch after reserving it; any other
    /// message reads it here, alongside its first slot's reservation, so that a client's prompt
    /// does not wait for two round trips in a row (a slot reserved while stopped goes unused).
    pub(crate) async fn deliver_unlogged(
        &self,
        out: &Outgoing,
        slot: Option<Slot>,
    ) -> Result<Vec<Delivered>, AppError> {
        let mut reserved = slot;
        if reserved.is_none() && Some(out.chat) != self.config.staff_chat {
            let (stopped, first) = tokio::join!(self.refuse_if_stopped(), self.pace(out.chat, None));
            stopped?;
            reserved = first?;
        }
        let parts = split(&out.html, MESSAGE_LIMIT);
        let last = parts.len().saturating_sub(1);
        let mut chat = out.chat;
        let mut followed_migration = false;
        let mut delivered = Vec::with_capacity(parts.len());
        for (i, part) in parts.into_iter().enumerate() {
            loop {
                let message = OutgoingMessage {
                    chat_id: chat,
                    html: part.clone(),
                    markup: if i == last { out.markup.clone() } else { None },
                    reply_to: if i == 0 { out.reply_to } else { None },
                };
                let sent = self.send_within(&message, None, reserved.take()).await.and_then(|sent| {
                    sent.ok_or_else(|| StoreError::Unavailable("a send without a deadline found no slot".into()).into())
                });
                match sent {
                    Ok(sent) => {
                        delivered.push(Delivered { chat, html: part, sent });
                        break;
                    }
                    Err(AppError::Telegram(TelegramError::ChatMigrated { new_chat_id })) if !followed_migration => {
                        followed_migration = true;
                        let new = ChatId(new_chat_id);
                        self.follow_migration(chat, new).await?;
                        chat = new;
                    }
                    Err(AppError::Telegram(TelegramError::Forbidden { description })) => {
                        self.chat_lost(chat).await?;
                        return Err(TelegramError::Forbidden { description }.into());
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(delivered)
    }

    /// One message, sent in its paced slot (`reserved`, or one reserved now no later than
    /// `latest`), with Telegram's throttling and passing failures retried: `None` when no slot
    /// came by `latest` (nothing was sent or reserved).
    pub(super) async fn send_within(
        &self,
        message: &OutgoingMessage,
        latest: Option<Timestamp>,
        mut reserved: Option<Slot>,
    ) -> Result<Option<SentMessage>, AppError> {
        let (mut throttled, mut transient, mut missed) = (0u32, 0u32, 0u32);
        loop {
            let slot = match reserved.take() {
                Some(slot) => Some(slot),
                None => self.pace(message.chat_id, latest).await?,
            };
            let Some(slot) = slot else { return Ok(None) };
            let due = slot.at.max(slot.reserved_at);
            sleep_until(self.pacing_clock.now(), due).await;
            if self.pacing_clock.now() - due > MISSED_SLOT && missed < MAX_MISSED {
                missed += 1;
                tracing::debug!(chat = %message.chat_id, "woke too late for the slot; reserving another");
                continue;
            }
            self.send_gate.pass(self.own_gap()).await;
            match self.messenger.send_message(message).await {
                Ok(sent) => return Ok(Some(sent)),
                Err(TelegramError::RetryAfter { seconds }) if throttled < MAX_THROTTLED => {
                    throttled += 1;
                    tracing::warn!(chat = %message.chat_id, seconds, "Telegram asked to slow down");
                    let until = self.pacing_clock.now() + TimeDelta::seconds(i64::try_from(seconds).unwrap_or(60));
                    // The whole bot waits: Telegram does not say which limit was hit.
                    for limit in self.config.limits.for_chat(message.chat_id.0) {
                        self.store.advance(&limit, until).await?;
                    }
                }
                Err(e) if e.is_transient() && transient < MAX_TRANSIENT => {
                    transient += 1;
                    tracing::warn!(chat = %message.chat_id, error = %e, attempt = transient, "retrying a send");
                    tokio::time::sleep(backoff(transient)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The least time between two sends of this process: a little under the bot's interval, so
    /// that senders who woke late for their slots cannot bunch up at Telegram.
    fn own_gap(&self) -> Duration {
        Duration::from_millis(self.config.limits.per_bot.interval_ms.saturating_sub(2))
    }

    /// The slot for the next message to `chat`: the earliest time the chat's, its group's and the
    /// bot's limits all allow, reserved in all of them at once; `None` when the chat's own limits
    /// cannot allow it by `latest`. A slot its chat holds more than [`PATIENCE`] off is waited for
    /// before it is reserved, so that the bot's limit is not held for it meanwhile.
    pub(super) async fn pace(&self, chat: ChatId, latest: Option<Timestamp>) -> Result<Option<Slot>, StoreError> {
        let sends = [self.config.limits.for_chat(chat.0)];
        loop {
            let now = self.pacing_clock.now();
            let soon = now + PATIENCE;
            let window = Window { first_by: latest, own_by: Some(latest.map_or(soon, |l| l.min(soon))) };
            let reservation = self.store.reserve(&sends, now, window).await?;
            if let Some(at) = reservation.slots.first().copied().flatten() {
                return Ok(Some(Slot { at, reserved_at: self.pacing_clock.now() }));
            }
            match reservation.next {
                Some(next) if latest.is_none_or(|l| next <= l) => sleep_until(now, next - LEAD).await,
                _ => return Ok(None),
            }
        }
    }

    /// Slots for a fan-out's next messages, one per chat, reserved together once the bot's
    /// backlog is within [`BULK_HORIZON`]: a fan-out books the bot only that far ahead, so a
    /// client's reply to its own act never waits behind more than that (and one batch) of other
    /// processes' fan-out. A message whose chat is busy beyond that gets no slot (`None`): it goes
    /// in a later batch. The emergency stop is then read once for the batch (refused with
    /// `BotStopped` when it is on: the slots go unused), so its sends need no read of their own
    /// and a stop holds the fan-out from its next batch.
    pub(super) async fn pace_bulk(&self, chats: &[ChatId]) -> Result<Vec<Option<Slot>>, AppError> {
        let sends: Vec<_> = chats.iter().map(|chat| self.config.limits.for_chat(chat.0)).collect();
        loop {
            let now = self.pacing_clock.now();
            let by = now + BULK_HORIZON;
            let reservation = self.store.reserve(&sends, now, Window { first_by: Some(by), own_by: Some(by) }).await?;
            if reservation.slots.iter().any(Option::is_some) {
                self.refuse_if_stopped().await?;
                let reserved_at = self.pacing_clock.now();
                return Ok(reservation.slots.into_iter().map(|s| s.map(|at| Slot { at, reserved_at })).collect());
            }
            let next = reservation.next.unwrap_or(by);
            sleep_until(now, (next - BULK_HORIZON).max(now + TimeDelta::milliseconds(5))).await;
        }
    }

    /// A group became a supergroup: its client moves to the new id (once; both halves of Telegram's
    /// migration and a failed send can each report it).
    pub async fn follow_migration(&self, old: ChatId, new: ChatId) -> Result<(), AppError> {
        let moved = self
            .rebind_chat(old, |binding| {
                let moved = ChatBinding { chat_id: new, title: binding.title.clone(), active: true };
                (binding.chat_id == old).then_some(moved)
            })
            .await?;
        if let Some(client) = moved {
            tracing::info!(client = %client.id, %old, %new, "followed a group migration");
            self.notify_staff(templates::staff_chat_migrated(client.name.as_str(), old.0, new.0)).await;
        }
        Ok(())
    }

    /// The bot can no longer write to `chat`: its client's binding goes inactive (no more sends or
    /// reminders) and staff are told. Repeated reports change nothing more.
    pub async fn chat_lost(&self, chat: ChatId) -> Result<(), AppError> {
        let lost = self
            .rebind_chat(chat, |binding| binding.active.then(|| ChatBinding { active: false, ..binding.clone() }))
            .await?;
        if let Some(client) = lost {
            tracing::warn!(client = %client.id, %chat, "bot removed from the client's group");
            self.notify_staff(templates::staff_bot_removed(client.name.as_str(), chat.0)).await;
        }
        Ok(())
    }

    /// Changes the binding of the client whose group is `chat` (`None` from `change`: nothing to
    /// do); the client when it changed.
    async fn rebind_chat(
        &self,
        chat: ChatId,
        change: impl Fn(&ChatBinding) -> Option<ChatBinding>,
    ) -> Result<Option<crate::domain::client::Client>, AppError> {
        let Some(found) = self.store.client_by_chat(chat).await? else {
            tracing::warn!(%chat, "a chat that belongs to no client");
            return Ok(None);
        };
        let id = found.value.id;
        let saved = super::retry_on_conflict(
            ("client", id.to_string()),
            || self.store.get_client(&id),
            |client: &mut crate::domain::client::Client| {
                let Some(binding) = client.chat.as_ref().and_then(&change) else { return Ok(false) };
                client.chat = Some(binding);
                Ok(true)
            },
            |client: crate::domain::client::Client, stored: Versioned<crate::domain::client::Client>| async move {
                match &client.chat {
                    Some(binding) => self.store.link_chat(&client.id, binding, stored.version).await,
                    None => Ok(stored),
                }
            },
        )
        .await?;
        Ok(saved.map(|s| s.value))
    }
}

/// When this process last called Telegram to send: its own sends keep the bot's spacing however
/// late their senders woke (the shared buckets space the slots; this spaces the calls).
#[derive(Debug, Clone, Default)]
pub struct SendGate(std::sync::Arc<tokio::sync::Mutex<Option<std::time::Instant>>>);

impl SendGate {
    /// Waits until `gap` has passed since the last send, then counts this one. Waiters pass in
    /// turn (the mutex is fair).
    async fn pass(&self, gap: Duration) {
        let mut last = self.0.lock().await;
        if let Some(next) = last.map(|l| l + gap) {
            let now = std::time::Instant::now();
            if next > now {
                tokio::time::sleep(next - now).await;
            }
        }
        *last = Some(std::time::Instant::now());
    }
}

async fn sleep_until(now: Timestamp, at: Timestamp) {
    if let Ok(wait) = (at - now).to_std() {
        tokio::time::sleep(wait).await;
    }
}

/// 200 ms, 400 ms, 800 ms … each ±50%, so retries from many senders do not land together.
fn backoff(attempt: u32) -> Duration {
    let base = 200u64 << attempt.saturating_sub(1).min(6);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let jitter = u64::from(nanos % 1_000); // 0..1000 → 0.5×..1.5×
    Duration::from_millis(base / 2 + base * jitter / 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter() {
        for attempt in 1..=5 {
            let base = 200u64 << (attempt - 1);
            let d = backoff(attempt).as_millis() as u64;
            assert!((base / 2..=base * 3 / 2).contains(&d), "attempt {attempt}: {d} ms");
        }
    }
}
