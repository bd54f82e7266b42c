//! The staff group's feed. The group takes about 20 messages a minute, and a kickoff can make
//! hundreds of events in one; so nothing is sent to it in line with a client's exchange:
//!
//! - a notice that needs a person (a deviation, a file to read, an escalation, a failure) is
//!   queued in the store, durably, and the queue is sent in as few messages as Telegram's length
//!   allows, in whatever slots the group's limit has within a short wait;
//! - every other change only marks the process's progress card stale; the card (one message per
//!   process) is edited in place at most once per `card_interval`.
//!
//! One runner at a time holds the feed (a lease in the store), so two never send the same notice.
//! What a run cannot send within its wait is left queued and a feed job is scheduled for it; a
//! notice that goes out later than `notice_budget`, fails, or is given up is written to the error
//! log. Nothing is dropped silently.

use super::memo::FeedStep;
use super::{App, AppError, Delivered, Outgoing};
use crate::domain::bot::BotControl;
use crate::domain::ids::{ChatId, ClientId, ProcessId};
use crate::domain::phase::Severity;
use crate::domain::staff_feed::{ProgressCard, StaffNotice};
use crate::domain::templates::staff::{CardFacts, coalesce, progress_card};
use crate::domain::templates::{Subject, state_korean};
use crate::domain::time::Timestamp;
use crate::domain::tracker::{Tracker, TrackerState};
use crate::ports::messenger::OutgoingMessage;
use crate::ports::scheduler::Job;
use crate::ports::store::{IdempotencyClaim, IdempotencyRequest, StoreError};
use crate::telegram::error::{BadRequestKind, TelegramError};
use crate::telegram::html::{MESSAGE_LIMIT, split};
use chrono::TimeDelta;

/// The lease one feed runner holds, in the idempotency records.
const LEASE: &str = "staff-feed:lease";
/// Longer than any run: a runner that died frees the feed after this.
const LEASE_TIME: TimeDelta = TimeDelta::seconds(90);
/// Failed sends of a notice before it is given up (and logged as such): with pauses doubling
/// from 6 s to half an hour, about four hours of trying.
const MAX_ATTEMPTS: u32 = 14;
/// When the feed tries again after finding more than it could do.
const RETRY: TimeDelta = TimeDelta::seconds(3);
/// Notices and cards read per run; a full page means more wait behind it.
const NOTICE_PAGE: u32 = 50;
const CARD_PAGE: u32 = 25;
/// A card stale this long after its last edit lost its arranged run (a failed schedule, a lost
/// job): the next change arranges one again. Longer than EventBridge Scheduler's lag.
const OVERDUE: TimeDelta = TimeDelta::minutes(3);
/// How long a feed job may wait for the staff group's slots.
const JOB_WAIT: TimeDelta = TimeDelta::seconds(30);

/// What one run of the feed did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedReport {
    /// Notices sent, and in how many messages.
    pub notices: usize,
    pub messages: usize,
    pub cards: usize,
    /// When the feed has more to do, and no earlier.
    pub next: Option<Timestamp>,
}

impl FeedReport {
    /// Asks for the next run at `t`, unless one is asked for earlier.
    fn again_at(&mut self, t: Timestamp) {
        self.next = Some(self.next.map_or(t, |n| n.min(t)));
    }
}

impl App {
    /// Queues a notice for the staff group and sends what is queued if the group's limit allows
    /// it within `staff_wait`; else the feed's next run does.
    pub async fn notify_staff(&self, html: String) {
        self.notify_staff_about(None, html).await;
    }

    pub async fn notify_staff_about(&self, process: Option<&ProcessId>, html: String) {
        if self.config.staff_chat.is_none() {
            tracing::warn!(notice = %html, "no staff group configured; notice not sent");
            return;
        }
        // A notice longer than one message (a kickoff that failed for many) goes in parts, in order.
        for part in split(&html, MESSAGE_LIMIT) {
            let notice = StaffNotice {
                id: uuid::Uuid::now_v7().simple().to_string(),
                html: part,
                process_id: process.cloned(),
                created_at: self.clock.now(),
                attempts: 0,
            };
            if let Err(e) = self.store.enqueue_staff_notice(&notice).await {
                tracing::error!(error = %e, "a staff notice could not be queued");
                self.record_error("staff-feed", "enqueue", &format!("{e}: {}", notice.html)).await;
                return;
            }
        }
        self.run_staff_feed_now(None).await;
    }

    /// Something changed in a process: its card is stale. It is edited now if its last edit is
    /// old enough, else by a feed run scheduled for when it is. If it was stale already, whoever
    /// made it so has arranged that, unless the card has been stale far too long (a run that went
    /// wrong): then this change arranges a run again.
    pub async fn card_changed(&self, process: &ProcessId) {
        if self.config.staff_chat.is_none() {
            return;
        }
        let touch = match self.store.touch_card(process).await {
            Ok(touch) => touch,
            Err(e) => {
                tracing::warn!(error = %e, %process, "progress card not marked stale");
                return;
            }
        };
        let now = self.clock.now();
        if touch.was_stale && touch.edited_at.is_none_or(|edited| now - edited < OVERDUE) {
            return;
        }
        match touch.edited_at.map(|t| t + self.config.card_interval).filter(|due| *due > now) {
            None => self.run_staff_feed_now(Some(process)).await,
            Some(due) => self.schedule_feed(due).await,
        }
    }

    /// A tracker of the process changed state: the write that saved it marked the card stale. It
    /// is drawn now when this process has not drawn it within the card interval, else by one run
    /// scheduled for when it may (the feed's own checks keep edits apart across processes).
    pub async fn tracker_moved(&self, process: &ProcessId) {
        if self.config.staff_chat.is_none() {
            return;
        }
        match self.memo.feed_step(process, self.clock.now(), self.config.card_interval) {
            FeedStep::RunNow => self.run_staff_feed_now(Some(process)).await,
            FeedStep::RunAt(at) => self.schedule_feed(at).await,
            FeedStep::Arranged => {}
        }
    }

    /// A run of the feed that waits no more than `staff_wait`, for a handler's tail.
    async fn run_staff_feed_now(&self, touched: Option<&ProcessId>) {
        let latest = self.pacing_clock.now() + TimeDelta::from_std(self.config.staff_wait).unwrap_or(TimeDelta::zero());
        if let Err(e) = self.run_staff_feed(latest, touched).await {
            tracing::warn!(error = %e, "the staff feed did not run; its job will");
            self.schedule_feed(self.clock.now() + TimeDelta::seconds(5)).await;
        }
    }

    /// The feed job: sends what is queued and brings stale cards up to date within the group's
    /// limits, for up to `JOB_WAIT`.
    pub async fn staff_feed_job(&self) -> Result<FeedReport, AppError> {
        self.run_staff_feed(self.pacing_clock.now() + JOB_WAIT, None).await
    }

    /// One run: waits for slots no later than `latest`, leaves the rest for a run it schedules.
    /// `touched` is a card just marked stale, read directly (the stale list is an index, which
    /// may not show it yet).
    pub async fn run_staff_feed(&self, latest: Timestamp, touched: Option<&ProcessId>) -> Result<FeedReport, AppError> {
        let Some(chat) = self.config.staff_chat else { return Ok(FeedReport::default()) };
        // The emergency stop holds the feed: notices stay queued and cards stale, and the resume
        // runs it. Nothing is scheduled meanwhile.
        let control = self.store.get_bot_control().await?.value;
        if control.is_stopped() {
            tracing::info!("staff feed held: the bot is stopped");
            return Ok(FeedReport::default());
        }
        let now = self.clock.now();
        let lease = IdempotencyRequest {
            key: LEASE.into(),
            payload_hash: None,
            now,
            in_progress_until: now + LEASE_TIME,
            expires_at: now + LEASE_TIME,
        };
        let token = match self.store.claim(&lease).await? {
            IdempotencyClaim::Acquired { token } => token,
            // Another runner has the feed; a run soon picks up what it may have missed.
            IdempotencyClaim::InProgress { .. }
            | IdempotencyClaim::Completed { .. }
            | IdempotencyClaim::PayloadMismatch => {
                self.schedule_feed(now + TimeDelta::seconds(3)).await;
                return Ok(FeedReport::default());
            }
        };
        let mut report = FeedReport::default();
        let fed = match self.send_notices(chat, latest, &control, &mut report).await {
            Ok(()) => self.draw_cards(chat, latest, touched, &mut report).await,
            Err(e) => Err(e),
        };
        if let Err(e) = self.store.release(LEASE, &token).await {
            tracing::warn!(error = %e, "the staff feed's lease was not released; it expires");
        }
        // What is left is arranged even when the run failed halfway.
        if let Some(next) = report.next {
            self.schedule_feed(next).await;
        }
        fed.map(|()| report)
    }

    /// Sends the queued notices, oldest first, coalesced. One that Telegram refuses (a bad
    /// message) does not sink the others sent with it: they are tried one by one.
    async fn send_notices(
        &self,
        chat: ChatId,
        latest: Timestamp,
        control: &BotControl,
        report: &mut FeedReport,
    ) -> Result<(), AppError> {
        let now = self.clock.now();
        let queued = self.store.queued_staff_notices(NOTICE_PAGE).await?;
        if queued.len() == NOTICE_PAGE as usize {
            report.again_at(now + RETRY);
        }
        let texts: Vec<String> = queued.iter().map(|n| n.html.clone()).collect();
        let mut next = 0;
        for (text, count) in coalesce(&texts) {
            let batch = &queued[next..next + count];
            next += count;
            match self.send_to_staff(chat, &text, latest).await {
                Ok(Some(())) => self.sent(batch, control, report).await,
                Ok(None) => {
                    report.again_at(now + RETRY);
                    return Ok(());
                }
                Err(AppError::Telegram(TelegramError::BadRequest { .. })) if count > 1 => {
                    for notice in batch {
                        match self.send_to_staff(chat, &notice.html, latest).await {
                            Ok(Some(())) => self.sent(std::slice::from_ref(notice), control, report).await,
                            Ok(None) => {
                                report.again_at(now + RETRY);
                                return Ok(());
                            }
                            Err(e) => self.notice_failed(notice, &e, report).await?,
                        }
                    }
                }
                Err(e @ AppError::Telegram(TelegramError::BadRequest { .. })) => {
                    self.notice_failed(&batch[0], &e, report).await?;
                }
                // The group or Telegram is out of reach: the rest waits for the next run.
                Err(e) => {
                    for notice in batch {
                        self.notice_failed(notice, &e, report).await?;
                    }
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Notices went out: off the queue (a failure to take one off only risks sending it again),
    /// and said when late (a notice the emergency stop held counts from the resume).
    async fn sent(&self, notices: &[StaffNotice], control: &BotControl, report: &mut FeedReport) {
        let now = self.clock.now();
        let oldest = notices.iter().map(|n| control.waited_since(n.created_at)).min().unwrap_or(now);
        if now - oldest > self.config.notice_budget {
            let waited = (now - oldest).num_seconds();
            let first = notices.first().map(|n| first_line(&n.html)).unwrap_or_default();
            let count = notices.len();
            let message = format!("{count} notice(s) sent {waited} s after they were raised, first: {first}");
            self.record_error("staff-feed", "late", &message).await;
        }
        for notice in notices {
            if let Err(e) = self.store.remove_staff_notice(notice).await {
                tracing::warn!(error = %e, notice = %notice.id, "a sent notice stays queued and may go again");
            }
        }
        report.notices += notices.len();
        report.messages += 1;
    }

    /// Brings the stale cards (and the one just touched) up to date, each no sooner than its
    /// interval after its last edit.
    async fn draw_cards(
        &self,
        chat: ChatId,
        latest: Timestamp,
        touched: Option<&ProcessId>,
        report: &mut FeedReport,
    ) -> Result<(), AppError> {
        let now = self.clock.now();
        let mut cards = self.store.stale_cards(CARD_PAGE).await?;
        if cards.len() == CARD_PAGE as usize {
            report.again_at(now + RETRY);
        }
        if let Some(process) = touched
            && !cards.iter().any(|c| &c.process_id == process)
            && let Some(card) = self.store.get_card(process).await?.filter(ProgressCard::is_stale)
        {
            cards.push(card);
        }
        for card in cards {
            let due = card.edited_at.map(|t| t + self.config.card_interval).unwrap_or(now);
            if due > now {
                report.again_at(due);
                continue;
            }
            match self.draw_card(chat, card, latest).await {
                Ok(Drawn::UpToDate) => report.cards += 1,
                Ok(Drawn::StillStale) => {
                    report.cards += 1;
                    // Changes came in while it was drawn: their edit is the next run's.
                    report.again_at(self.clock.now() + self.config.card_interval);
                }
                Ok(Drawn::NoSlot) => {
                    report.again_at(now + RETRY);
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a progress card was not drawn");
                    self.record_error("staff-feed", "card", &e.to_string()).await;
                    // Still stale, and nobody else will arrange its edit: the next run tries again.
                    report.again_at(self.clock.now() + self.config.card_interval);
                }
            }
        }
        Ok(())
    }

    /// A notice whose send failed: counted, tried again after a growing pause, and after
    /// `MAX_ATTEMPTS` given up. Each step is in the error log.
    async fn notice_failed(
        &self,
        notice: &StaffNotice,
        error: &AppError,
        report: &mut FeedReport,
    ) -> Result<(), StoreError> {
        let attempts = notice.attempts + 1;
        let text = first_line(&notice.html);
        if attempts >= MAX_ATTEMPTS {
            self.store.remove_staff_notice(notice).await?;
            self.record_error("staff-feed", "given up", &format!("after {attempts} failed sends ({error}): {text}"))
                .await;
        } else {
            self.store.count_staff_notice_attempt(notice).await?;
            self.record_error("staff-feed", "send failed", &format!("attempt {attempts} ({error}): {text}")).await;
            let pause = (RETRY * 2i32.pow(attempts.min(10))).min(TimeDelta::minutes(30));
            report.again_at(self.clock.now() + pause);
        }
        Ok(())
    }

    /// Sends one message to the staff group in a slot no later than `latest`; `None` when there
    /// is none.
    async fn send_to_staff(&self, chat: ChatId, html: &str, latest: Timestamp) -> Result<Option<()>, AppError> {
        let mut message = OutgoingMessage { chat_id: chat, html: html.to_owned(), markup: None, reply_to: None };
        let mut sent = self.send_within(&message, Some(latest), None).await;
        if let Err(AppError::Telegram(TelegramError::ChatMigrated { new_chat_id })) = sent {
            // The staff group's id is configuration: say so loudly, and reach it meanwhile.
            tracing::error!(old = %chat, new = new_chat_id, "the staff group moved: set TELEGRAM_STAFF_CHAT_ID to the new id");
            message.chat_id = ChatId(new_chat_id);
            sent = self.send_within(&message, Some(latest), None).await;
        }
        match sent? {
            Some(sent) => {
                let delivered = Delivered { chat: message.chat_id, html: html.to_owned(), sent };
                self.log_delivered(&Outgoing::text(message.chat_id, html.to_owned()), &[delivered]).await;
                Ok(Some(()))
            }
            None => Ok(None),
        }
    }

    /// Draws a stale card: edits its message, or sends it the first time (or when the message
    /// can no longer be edited).
    async fn draw_card(&self, chat: ChatId, mut card: ProgressCard, latest: Timestamp) -> Result<Drawn, AppError> {
        let covers = card.changes;
        let Some(html) = self.card_text(&card.process_id).await? else {
            // The process is gone: nothing to show.
            card.shown = covers;
            return Ok(if self.store.save_card(&card).await? { Drawn::StillStale } else { Drawn::UpToDate });
        };
        let edited = match card.message {
            Some((at, message_id)) if at == chat => self.edit_card(chat, message_id, &html, latest).await?,
            _ => Edit::Gone,
        };
        match edited {
            Edit::Done => {}
            Edit::NoSlot => return Ok(Drawn::NoSlot),
            Edit::Gone => {
                let message = OutgoingMessage { chat_id: chat, html: html.clone(), markup: None, reply_to: None };
                let Some(sent) = self.send_within(&message, Some(latest), None).await? else {
                    return Ok(Drawn::NoSlot);
                };
                card.message = Some((chat, sent.message_id));
                let delivered = Delivered { chat, html: html.clone(), sent };
                self.log_delivered(&Outgoing::text(chat, html.clone()), &[delivered]).await;
            }
        }
        card.edited_at = Some(self.clock.now());
        card.shown = covers;
        match self.store.save_card(&card).await? {
            true => Ok(Drawn::StillStale),
            false => Ok(Drawn::UpToDate),
        }
    }

    /// Edits a card in a paced slot (the group's limit counts edits too: Telegram throttles
    /// them, if by rules it does not publish).
    async fn edit_card(&self, chat: ChatId, message_id: i64, html: &str, latest: Timestamp) -> Result<Edit, AppError> {
        let Some(slot) = self.pace(chat, Some(latest)).await? else { return Ok(Edit::NoSlot) };
        if let Ok(wait) = (slot.at - self.pacing_clock.now()).to_std() {
            tokio::time::sleep(wait).await;
        }
        match self.messenger.edit_text(chat, message_id, html).await {
            Ok(()) | Err(TelegramError::BadRequest { kind: BadRequestKind::NotModified, .. }) => Ok(Edit::Done),
            Err(TelegramError::BadRequest { description, .. }) => {
                tracing::info!(%description, "the progress card cannot be edited; sending a new one");
                Ok(Edit::Gone)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The card of a process as it stands, or `None` when the process is gone.
    async fn card_text(&self, process_id: &ProcessId) -> Result<Option<String>, AppError> {
        let process = match self.store.get_process(process_id).await {
            Ok(p) => p.value,
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let stock = match &process.stock_id {
            Some(id) => Some(self.store.get_stock(id).await?.value),
            None => None,
        };
        let trackers: Vec<Tracker> =
            self.store.trackers_of_process(process_id).await?.into_iter().map(|t| t.value).collect();
        let now = self.clock.now();
        let subject = Subject::new(stock.as_ref(), process.kind, trackers.first().map(Tracker::advice));
        let counts =
            TrackerState::ALL.iter().map(|s| (*s, trackers.iter().filter(|t| t.state() == *s).count())).collect();
        let deviations =
            trackers.iter().filter(|t| t.deviations().iter().any(|f| f.severity() >= Severity::Warning)).count();
        let mut failed: Vec<&Tracker> = trackers.iter().filter(|t| t.state() == TrackerState::Failed).collect();
        failed.sort_by_key(|t| t.state_since());
        let mut silent: Vec<&Tracker> = trackers.iter().filter(|t| t.awaits_client()).collect();
        silent.sort_by_key(|t| t.state_since());
        let names = self.client_names(failed.iter().chain(silent.iter()).take(30).map(|t| &t.client_id)).await?;
        let name =
            |id: &ClientId| names.iter().find(|(c, _)| c == id).map_or_else(|| id.to_string(), |(_, n)| n.clone());
        let facts = CardFacts {
            state: process.state(),
            total: trackers.len(),
            counts,
            deviations,
            failures: failed
                .iter()
                .map(|t| (name(&t.client_id), t.failure().unwrap_or(state_korean(TrackerState::Failed)).to_owned()))
                .collect(),
            silent: silent.iter().map(|t| (name(&t.client_id), now - t.state_since())).collect(),
            updated_at: now,
        };
        Ok(Some(progress_card(&subject, &facts)))
    }

    async fn client_names<'a>(
        &self,
        ids: impl Iterator<Item = &'a ClientId>,
    ) -> Result<Vec<(ClientId, String)>, StoreError> {
        let mut out: Vec<(ClientId, String)> = Vec::new();
        for id in ids {
            if out.iter().any(|(c, _)| c == id) {
                continue;
            }
            let name = match self.store.get_client(id).await {
                Ok(c) => c.value.name.to_string(),
                Err(StoreError::NotFound { .. }) => id.to_string(),
                Err(e) => return Err(e),
            };
            out.push((id.clone(), name));
        }
        Ok(out)
    }

    /// Arranges a run of the feed at `at` (a run already arranged for then is the same job).
    async fn schedule_feed(&self, at: Timestamp) {
        if let Err(e) = self.scheduler.schedule(&Job::staff_feed(at)).await {
            tracing::error!(error = %e, "the staff feed's next run could not be scheduled");
            self.record_error("staff-feed", "schedule", &e.to_string()).await;
        }
    }
}

/// How drawing a card went.
enum Drawn {
    UpToDate,
    /// Drawn, but changes arrived meanwhile.
    StillStale,
    /// No slot within the wait.
    NoSlot,
}

/// How an edit of a card went.
enum Edit {
    Done,
    /// No slot within the wait.
    NoSlot,
    /// The message can no longer be edited (deleted, too old): a new card is sent.
    Gone,
}

fn first_line(html: &str) -> String {
    html.lines().next().unwrap_or_default().chars().take(200).collect()
}
