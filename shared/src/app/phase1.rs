//! Phase 1, 수요예측 참여: the kickoff sends each client its own advice with a ✅ button; the button
//! (or a reply) acknowledges and the bot asks for the actual bid; the reply is read, checked against
//! the advice and confirmed back, or a screenshot is kept for staff; silent clients are reminded and
//! escalated on the process's policy. Every step re-reads the tracker and moves it with a
//! conditional write, so repeats (Telegram, EventBridge, Lambda) change nothing.

use super::{App, AppError, Outgoing};
use crate::domain::check::check_bids;
use crate::domain::client::Client;
use crate::domain::ids::{ClientId, ProcessId, StaffId};
use crate::domain::process::{Process, ProcessAction, ProcessKind, ProcessState};
use crate::domain::regulation::Regulation;
use crate::domain::reminder::{NextAction, next_action};
use crate::domain::reply::{ReplyError, parse_reply};
use crate::domain::stock::Stock;
use crate::domain::templates::{self, phase1};
use crate::domain::time::kst_date;
use crate::domain::tracker::{ActualLine, ChatActor, Evidence, EvidenceKind, Tracker, TrackerEvent, TrackerState};
use crate::ports::scheduler::Job;
use crate::ports::store::{PageRequest, StoreError, Versioned};
use crate::telegram::types::{CallbackQuery, Message, ReplyMarkup};
use chrono::TimeDelta;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Advice sends in flight at once during a kickoff: enough to keep Telegram's 30/s busy while each
/// send waits for its slot, few enough that senders rarely collide on the bot's pace bucket.
/// Measured with `cargo xtask bench fanout --clients 300`: 4 starves the pipeline (ratio up to
/// 1.9), 12 loses time to aborted reservations (1.1–2.0 from run to run), 6 holds 1.12–1.13.
const KICKOFF_CONCURRENCY: usize = 6;
/// A send started this long ago without an outcome is presumed interrupted.
const SEND_GRACE: TimeDelta = TimeDelta::minutes(2);
/// EventBridge Scheduler fires within the minute, possibly before the second it was given: a job
/// this close to its time counts as on time.
const FIRE_GRACE: TimeDelta = TimeDelta::seconds(60);
/// Optimistic-lock retries when a chase and an answer touch a tracker at once.
const CONFLICT_RETRIES: u32 = 3;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KickoffReport {
    pub sent: Vec<ClientId>,
    pub failed: Vec<(ClientId, String)>,
}

enum SendOutcome {
    Sent,
    Failed(String),
    /// Another worker has it, or it had been sent already.
    Skipped,
}

impl App {
    /// Draft → scheduled, with a kickoff job at the process's kickoff time.
    pub async fn schedule_process(&self, process_id: &ProcessId) -> Result<Versioned<Process>, AppError> {
        let stored = self.store.get_process(process_id).await?;
        let mut process = stored.value.clone();
        process.apply(ProcessAction::Schedule)?;
        // The job first: a job without a scheduled process does nothing when it fires, while a
        // process marked scheduled without a job would never start.
        self.scheduler.schedule(&Job::kickoff(process_id, process.kickoff_at)).await?;
        Ok(self.store.update_process(&process, stored.version).await?)
    }

    /// The kickoff job: starts a scheduled process when its time has come (a job left over from an
    /// earlier kickoff time does nothing) and sends its advice.
    pub async fn kickoff(&self, process_id: &ProcessId) -> Result<KickoffReport, AppError> {
        let process = self.store.get_process(process_id).await?.value;
        let due = process.kickoff_at <= self.clock.now() + FIRE_GRACE;
        if !matches!(process.state(), ProcessState::Scheduled | ProcessState::Running) || !due {
            tracing::info!(state = %process.state(), kickoff_at = %process.kickoff_at, "kickoff job: nothing to do");
            return Ok(KickoffReport::default());
        }
        self.send_all_advice(process_id).await
    }

    /// Staff start a draft or scheduled process now.
    pub async fn start_now(&self, process_id: &ProcessId) -> Result<KickoffReport, AppError> {
        self.send_all_advice(process_id).await
    }

    /// Sends the advice to every client of the process not sent to yet. Safe to run again: a
    /// kickoff that stopped halfway resumes, nobody gets the advice twice, and clients already
    /// sent to are chased. Returns an error when any send failed for a reason worth retrying, so
    /// the job runs again.
    async fn send_all_advice(&self, process_id: &ProcessId) -> Result<KickoffReport, AppError> {
        let process = self.start_running(process_id).await?;
        if process.state() != ProcessState::Running {
            tracing::info!(state = %process.state(), "kickoff skipped: the process is not to run");
            return Ok(KickoffReport::default());
        }
        let stock = Arc::new(self.store.get_stock(&process.stock_id).await?.value);
        let process = Arc::new(process);
        let permits = Arc::new(Semaphore::new(KICKOFF_CONCURRENCY));
        let mut sends = tokio::task::JoinSet::new();
        for tracker in self.store.trackers_of_process(process_id).await? {
            if tracker.value.state() != TrackerState::Pending {
                if tracker.value.state().awaits_client() {
                    let client = self.store.get_client(&tracker.value.client_id).await?.value;
                    self.schedule_chase(&process, &tracker.value, &client).await?;
                }
                continue;
            }
            let (app, stock, process, permits) = (self.clone(), stock.clone(), process.clone(), permits.clone());
            sends.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let client = tracker.value.client_id.clone();
                (client, app.send_advice(&process, &stock, tracker).await)
            });
        }
        let mut report = KickoffReport::default();
        let mut names = (Vec::new(), Vec::new());
        let mut retry = None;
        while let Some(joined) = sends.join_next().await {
            let Ok((client_id, outcome)) = joined else { continue };
            let name = self.client_name(&client_id).await;
            match outcome {
                Ok(SendOutcome::Sent) => {
                    names.0.push(name);
                    report.sent.push(client_id);
                }
                Ok(SendOutcome::Failed(reason)) => {
                    names.1.push((name, reason.clone()));
                    report.failed.push((client_id, reason));
                }
                Ok(SendOutcome::Skipped) => {}
                Err(e) => {
                    tracing::error!(client = %client_id, error = %e, "advice not sent");
                    names.1.push((name, e.to_string()));
                    report.failed.push((client_id, e.to_string()));
                    retry = Some(e);
                }
            }
        }
        names.0.sort();
        names.1.sort();
        if !report.sent.is_empty() || !report.failed.is_empty() {
            self.notify_staff(phase1::staff_kickoff(&stock, process.kind, &names.0, &names.1)).await;
        }
        match retry {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// Scheduled or draft → running; a process already running (a resumed kickoff) stays so.
    async fn start_running(&self, process_id: &ProcessId) -> Result<Process, AppError> {
        for _ in 0..3 {
            let stored = self.store.get_process(process_id).await?;
            let mut process = stored.value;
            if !matches!(process.state(), ProcessState::Draft | ProcessState::Scheduled) {
                return Ok(process);
            }
            process.apply(ProcessAction::Start)?;
            match self.store.update_process(&process, stored.version).await {
                Ok(saved) => return Ok(saved.value),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict { entity: "process", id: process_id.to_string(), detail: "kept changing".into() }
            .into())
    }

    async fn send_advice(
        &self,
        process: &Process,
        stock: &Stock,
        stored: Versioned<Tracker>,
    ) -> Result<SendOutcome, AppError> {
        let now = self.clock.now();
        let client = self.store.get_client(&stored.value.client_id).await?.value;
        let mut tracker = stored.value;
        if let Some(started) = tracker.send_started_at() {
            if now - started < SEND_GRACE {
                return Ok(SendOutcome::Skipped);
            }
            // Interrupted mid-send: the advice may have reached the group. Never send it twice.
            let reason = "발송 중 중단: 전달 여부 확인 필요".to_owned();
            tracker.apply(TrackerEvent::SendFailed { reason: reason.clone(), at: now })?;
            self.store.transition_tracker(&tracker, TrackerState::Pending, stored.version).await?;
            self.notify_staff(phase1::staff_send_unclear(&client)).await;
            return Ok(SendOutcome::Failed(reason));
        }
        let Some(chat) = client.reachable_chat() else {
            let reason = if client.chat.is_none() { "그룹 미연결" } else { "그룹 비활성 (봇 제외됨)" }.to_owned();
            tracker.apply(TrackerEvent::SendFailed { reason: reason.clone(), at: now })?;
            self.store.transition_tracker(&tracker, TrackerState::Pending, stored.version).await?;
            return Ok(SendOutcome::Failed(reason));
        };
        tracker.apply(TrackerEvent::SendStarted { at: now })?;
        let claimed = match self.store.transition_tracker(&tracker, TrackerState::Pending, stored.version).await {
            Ok(claimed) => claimed,
            Err(StoreError::Conflict { .. }) => return Ok(SendOutcome::Skipped),
            Err(e) => return Err(e.into()),
        };
        let out = Outgoing {
            chat,
            html: phase1::advice(stock, process.kind, &client, tracker.advice()),
            markup: Some(ack_button(&process.id)),
            reply_to: None,
            client: Some(client.id.clone()),
            process: Some(process.id.clone()),
        };
        let mut tracker = claimed.value;
        match self.deliver(&out).await {
            Ok(sent) => {
                for s in &sent {
                    tracker.note_message(s.message_id);
                }
                tracker.apply(TrackerEvent::Sent { at: self.clock.now() })?;
                let saved = self.store.transition_tracker(&tracker, TrackerState::Pending, claimed.version).await?;
                self.schedule_chase(process, &saved.value, &client).await?;
                Ok(SendOutcome::Sent)
            }
            Err(e) => {
                let reason = e.to_string();
                tracker.apply(TrackerEvent::SendFailed { reason: reason.clone(), at: self.clock.now() })?;
                self.store.transition_tracker(&tracker, TrackerState::Pending, claimed.version).await?;
                Ok(SendOutcome::Failed(reason))
            }
        }
    }

    /// Schedules the next reminder or escalation of a tracker, if any is due.
    pub(super) async fn schedule_chase(
        &self,
        process: &Process,
        tracker: &Tracker,
        client: &Client,
    ) -> Result<(), AppError> {
        match next_action(&process.policy, tracker, client.response_tracking) {
            NextAction::Remind { at } | NextAction::Escalate { at } => {
                self.scheduler.schedule(&Job::chase(&process.id, &tracker.client_id, at)).await?;
            }
            NextAction::Nothing => {}
        }
        Ok(())
    }

    /// A chase job fired: does every reminder or escalation that is due (an escalation and a
    /// reminder can fall in the same minute), then schedules the next.
    pub async fn chase(&self, process_id: &ProcessId, client_id: &ClientId) -> Result<(), AppError> {
        let process = self.store.get_process(process_id).await?.value;
        if process.state() != ProcessState::Running {
            return Ok(());
        }
        let stored = self.store.get_tracker(process_id, client_id).await?;
        let client = self.store.get_client(client_id).await?.value;
        let Some(chat) = client.reachable_chat() else { return Ok(()) };
        let now = self.clock.now();
        let due_by = now + FIRE_GRACE;
        let mut tracker = stored.value.clone();
        let mut stock = None;
        loop {
            let due = next_action(&process.policy, &tracker, client.response_tracking);
            if !matches!(due, NextAction::Remind { at } | NextAction::Escalate { at } if at <= due_by) {
                break;
            }
            let stock = match &stock {
                Some(s) => s,
                None => stock.insert(self.store.get_stock(&process.stock_id).await?.value),
            };
            if let NextAction::Remind { .. } = due {
                self.send_reminder(&process, stock, &client, &mut tracker, chat).await?;
                tracker.apply(TrackerEvent::Reminded { at: now })?;
            } else {
                let minutes = (now - tracker.state_since()).num_minutes();
                let acknowledged = tracker.state() == TrackerState::Acknowledged;
                self.notify_staff(phase1::staff_escalation(stock, process.kind, &client, minutes, acknowledged)).await;
                tracker.apply(TrackerEvent::Escalated { at: now })?;
            }
        }
        if tracker == stored.value {
            // Nothing was due (the job fired early or the client moved on): plan from what is.
            return self.schedule_chase(&process, &tracker, &client).await;
        }
        match self.store.transition_tracker(&tracker, stored.value.state(), stored.version).await {
            Ok(saved) => self.schedule_chase(&process, &saved.value, &client).await,
            // The client answered meanwhile: plan from what it did.
            Err(StoreError::Conflict { .. }) => {
                let current = self.store.get_tracker(process_id, client_id).await?;
                self.schedule_chase(&process, &current.value, &client).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Staff asked to remind one client now.
    pub async fn remind_now(&self, process_id: &ProcessId, client_id: &ClientId) -> Result<bool, AppError> {
        let process = self.store.get_process(process_id).await?.value;
        let stored = self.store.get_tracker(process_id, client_id).await?;
        let client = self.store.get_client(client_id).await?.value;
        let (Some(chat), true) = (client.reachable_chat(), stored.value.state().awaits_client()) else {
            return Ok(false);
        };
        let stock = self.store.get_stock(&process.stock_id).await?.value;
        let mut tracker = stored.value.clone();
        self.send_reminder(&process, &stock, &client, &mut tracker, chat).await?;
        tracker.apply(TrackerEvent::Reminded { at: self.clock.now() })?;
        let saved = match self.store.transition_tracker(&tracker, stored.value.state(), stored.version).await {
            Ok(saved) => saved,
            Err(StoreError::Conflict { .. }) => self.store.get_tracker(process_id, client_id).await?,
            Err(e) => return Err(e.into()),
        };
        self.schedule_chase(&process, &saved.value, &client).await?;
        Ok(true)
    }

    async fn send_reminder(
        &self,
        process: &Process,
        stock: &Stock,
        client: &Client,
        tracker: &mut Tracker,
        chat: crate::domain::ids::ChatId,
    ) -> Result<(), AppError> {
        let unacknowledged = tracker.state() == TrackerState::Sent;
        let out = Outgoing {
            chat,
            html: if unacknowledged {
                phase1::reminder_unacknowledged(stock, process.kind)
            } else {
                phase1::reminder_unsubmitted(stock, process.kind)
            },
            markup: unacknowledged.then(|| ack_button(&process.id)),
            reply_to: tracker.message_ids().first().copied(),
            client: Some(client.id.clone()),
            process: Some(process.id.clone()),
        };
        for sent in self.deliver(&out).await? {
            tracker.note_message(sent.message_id);
        }
        Ok(())
    }

    /// Staff confirm a client's answer, optionally with values read off its screenshot.
    pub async fn confirm(
        &self,
        process_id: &ProcessId,
        client_id: &ClientId,
        by: &StaffId,
        lines: Option<Vec<ActualLine>>,
    ) -> Result<Versioned<Tracker>, AppError> {
        let stored = self.store.get_tracker(process_id, client_id).await?;
        let mut tracker = stored.value.clone();
        tracker.apply(TrackerEvent::Confirmed { by: by.clone(), lines, at: self.clock.now() })?;
        let saved = self.store.transition_tracker(&tracker, stored.value.state(), stored.version).await?;
        let client = self.store.get_client(client_id).await?.value;
        let staff_name =
            self.store.get_staff(by).await.map(|s| s.value.name.to_string()).unwrap_or_else(|_| by.to_string());
        // The confirmed values are checked like a client's: staff see what they confirmed.
        let date = kst_date(self.clock.now());
        let findings =
            check_bids(&client, tracker.advice(), tracker.actual(), date, Regulation::builtin()).unwrap_or_default();
        self.notify_staff(phase1::staff_confirmed(&client, &staff_name, &findings)).await;
        Ok(saved)
    }

    /// Reads a tracker, lets `change` apply events to it, and saves it conditionally, again from a
    /// fresh read when a chase or another answer got there first. `change` returns `false` when the
    /// tracker's state does not allow what was asked (nothing is saved then).
    async fn update_tracker(
        &self,
        process_id: &ProcessId,
        client_id: &ClientId,
        change: impl Fn(&mut Tracker) -> Result<bool, AppError>,
    ) -> Result<Option<Versioned<Tracker>>, AppError> {
        for _ in 0..CONFLICT_RETRIES {
            let stored = self.store.get_tracker(process_id, client_id).await?;
            let mut tracker = stored.value.clone();
            if !change(&mut tracker)? {
                return Ok(None);
            }
            match self.store.transition_tracker(&tracker, stored.value.state(), stored.version).await {
                Ok(saved) => return Ok(Some(saved)),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict {
            entity: "tracker",
            id: format!("{process_id}/{client_id}"),
            detail: "kept changing".into(),
        }
        .into())
    }

    /// Button presses on phase-1 messages: `ack:<process>` and `edit:<process>`.
    pub(super) async fn on_phase1_callback(
        &self,
        query: &CallbackQuery,
        client: &Versioned<Client>,
    ) -> Result<(), AppError> {
        let data = query.data.as_deref().unwrap_or_default();
        let (action, process_id) = data.split_once(':').unwrap_or((data, ""));
        let Ok(process_id) = process_id.parse::<ProcessId>() else {
            return Ok(self.messenger.answer_callback(&query.id, None).await?);
        };
        if self.is_staff_user(query.from.id).await? {
            return Ok(self.messenger.answer_callback(&query.id, Some(&phase1::staff_cannot_answer())).await?);
        }
        let process = match self.store.get_process(&process_id).await {
            Ok(p) if p.value.state() == ProcessState::Running => p.value,
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                return Ok(self.messenger.answer_callback(&query.id, None).await?);
            }
            Err(e) => return Err(e.into()),
        };
        let now = self.clock.now();
        let by =
            ChatActor { user_id: crate::domain::ids::TelegramUserId(query.from.id), name: query.from.display_name() };
        let saved = self
            .update_tracker(&process_id, &client.value.id, |tracker| {
                // A press proves the advice arrived, even where its send was not recorded.
                mark_delivered(tracker, now)?;
                match (action, tracker.state()) {
                    ("ack", TrackerState::Sent) => {
                        tracker.apply(TrackerEvent::Acknowledged { by: by.clone(), at: now })?
                    }
                    ("edit", TrackerState::Submitted) => tracker.apply(TrackerEvent::Reopened { at: now })?,
                    _ => return Ok(false),
                };
                Ok(true)
            })
            .await;
        let saved = match saved {
            Ok(Some(saved)) => saved,
            Ok(None) => {
                return Ok(self.messenger.answer_callback(&query.id, Some(&phase1::already_acknowledged())).await?);
            }
            Err(AppError::Store(StoreError::NotFound { .. })) => {
                return Ok(self.messenger.answer_callback(&query.id, None).await?);
            }
            Err(e) => return Err(e),
        };
        self.messenger.answer_callback(&query.id, Some(&phase1::acknowledged_toast())).await?;
        if let Some(message) = &query.message
            && let Err(e) =
                self.messenger.remove_buttons(crate::domain::ids::ChatId(message.chat.id), message.message_id).await
        {
            tracing::warn!(error = %e, "could not remove the pressed button");
        }
        if action == "ack" {
            self.notify_staff(phase1::staff_acknowledged(&client.value, &by.name)).await;
        }
        self.prompt_bid(&process, &client.value, saved).await
    }

    /// Asks for the actual bid with a ForceReply prompt, remembered on the tracker.
    async fn prompt_bid(&self, process: &Process, client: &Client, stored: Versioned<Tracker>) -> Result<(), AppError> {
        let Some(chat) = client.reachable_chat() else { return Ok(()) };
        let stock = self.store.get_stock(&process.stock_id).await?.value;
        let out = Outgoing {
            chat,
            html: phase1::bid_prompt(&stock, client, stored.value.advice()),
            markup: Some(ReplyMarkup::force_reply(Some("가격 / 수량 / 확약".into()))),
            reply_to: stored.value.message_ids().first().copied(),
            client: Some(client.id.clone()),
            process: Some(process.id.clone()),
        };
        let sent = self.deliver(&out).await?;
        self.remember_messages(process, client, &sent).await
    }

    /// Notes the bot's messages on the tracker (so replies to them find it) and plans the next chase.
    async fn remember_messages(
        &self,
        process: &Process,
        client: &Client,
        sent: &[crate::telegram::types::SentMessage],
    ) -> Result<(), AppError> {
        let saved = self
            .update_tracker(&process.id, &client.id, |tracker| {
                for s in sent {
                    tracker.note_message(s.message_id);
                }
                Ok(true)
            })
            .await?;
        match saved {
            Some(saved) => self.schedule_chase(process, &saved.value, client).await,
            None => Ok(()),
        }
    }

    /// A message from the client in its group: an answer to one of its open phase-1 trackers.
    pub(super) async fn on_client_message(
        &self,
        message: &Message,
        client: &Versioned<Client>,
    ) -> Result<(), AppError> {
        let Some(process) = self.answered_process(message, &client.value).await? else {
            return Ok(());
        };
        let client = &client.value;
        let now = self.clock.now();
        let stock = self.store.get_stock(&process.stock_id).await?.value;
        let evidence = message
            .document
            .as_ref()
            .map(|d| (EvidenceKind::Document, d.file_id.clone(), d.file_name.clone(), d.file_size))
            .or_else(|| {
                message
                    .photo
                    .as_ref()
                    .and_then(|sizes| sizes.iter().max_by_key(|p| u64::from(p.width) * u64::from(p.height)))
                    .map(|p| (EvidenceKind::Photo, p.file_id.clone(), None, p.file_size))
            });
        if let Some((kind, file_id, file_name, size)) = evidence {
            let evidence = Evidence { kind, file_id, file_name, size, received_at: now };
            let saved = self
                .update_tracker(&process.id, &client.id, |tracker| {
                    mark_delivered(tracker, now)?;
                    tracker.apply(TrackerEvent::EvidenceReceived { evidence: evidence.clone(), at: now })?;
                    Ok(true)
                })
                .await?;
            if saved.is_some() {
                self.reply(message, phase1::evidence_received()).await?;
                self.notify_staff(phase1::staff_evidence(&stock, client)).await;
            }
            return Ok(());
        }
        let text = message.text.as_deref().unwrap_or_default();
        let current = self.store.get_tracker(&process.id, &client.id).await?.value;
        let advised: Vec<_> = current.advice().iter().map(|a| a.fund_id.clone()).collect();
        match parse_reply(text, client, &advised) {
            Ok(lines) => {
                let saved = self
                    .update_tracker(&process.id, &client.id, |tracker| {
                        mark_delivered(tracker, now)?;
                        tracker.apply(TrackerEvent::Submitted { lines: lines.clone(), at: now })?;
                        Ok(true)
                    })
                    .await?;
                let Some(saved) = saved else { return Ok(()) };
                let findings =
                    match check_bids(client, saved.value.advice(), &lines, kst_date(now), Regulation::builtin()) {
                        Ok(findings) => findings,
                        Err(e) => {
                            // Never an all-clear that was not checked: the comparison alone, and why.
                            tracing::error!(error = %e, "bid not fully checked");
                            crate::domain::check::compare(saved.value.advice(), &lines)
                        }
                    };
                let receipt = Outgoing {
                    reply_to: Some(message.message_id),
                    markup: Some(edit_button(&process.id)),
                    client: Some(client.id.clone()),
                    process: Some(process.id.clone()),
                    ..Outgoing::text(
                        crate::domain::ids::ChatId(message.chat.id),
                        phase1::bid_received(&stock, client, &lines),
                    )
                };
                let sent = self.deliver(&receipt).await?;
                self.notify_staff(phase1::staff_bid(&stock, client, &findings)).await;
                self.remember_messages(&process, client, &sent).await
            }
            // A reply to the advice that holds no bid acknowledges it (the firm's clients write
            // "확인했습니다"); the bot then asks for the bid.
            Err(ReplyError::Unreadable { .. } | ReplyError::Empty)
                if matches!(current.state(), TrackerState::Sent | TrackerState::Failed | TrackerState::Pending) =>
            {
                let by = message.from.as_ref().map_or_else(
                    || ChatActor { user_id: crate::domain::ids::TelegramUserId(0), name: "익명".into() },
                    |u| ChatActor { user_id: crate::domain::ids::TelegramUserId(u.id), name: u.display_name() },
                );
                let saved = self
                    .update_tracker(&process.id, &client.id, |tracker| {
                        mark_delivered(tracker, now)?;
                        if tracker.state() != TrackerState::Sent {
                            return Ok(false);
                        }
                        tracker.apply(TrackerEvent::Acknowledged { by: by.clone(), at: now })?;
                        Ok(true)
                    })
                    .await?;
                let Some(saved) = saved else { return Ok(()) };
                self.notify_staff(phase1::staff_acknowledged(client, &by.name)).await;
                self.prompt_bid(&process, client, saved).await
            }
            Err(e) => {
                let reason = templates::reply_error(&e, client);
                self.reply(message, phase1::bid_unreadable(&reason, client, current.advice())).await
            }
        }
    }

    /// The running participation process a message answers: the one whose message it replies to;
    /// when it replies to none of the bot's messages the client knows of, the client's only open one.
    /// A reply to a message of a closed process is never taken for another. Asks the client when it
    /// cannot tell.
    async fn answered_process(&self, message: &Message, client: &Client) -> Result<Option<Process>, AppError> {
        let mut open = Vec::new();
        let mut replied = None;
        let replied_to = message.reply_to_message.as_ref().map(|m| m.message_id);
        let mut page = PageRequest::first(100);
        loop {
            let trackers = self.store.trackers_of_client(&client.id, &page).await?;
            for t in trackers.items {
                let is_reply_target = replied_to.is_some_and(|id| t.value.message_ids().contains(&id));
                // A pending tracker counts only if its send began (it may have arrived).
                let awaits_answer = match t.value.state() {
                    TrackerState::Sent
                    | TrackerState::Acknowledged
                    | TrackerState::Submitted
                    | TrackerState::Failed => true,
                    TrackerState::Pending => t.value.send_started_at().is_some(),
                    TrackerState::Confirmed | TrackerState::Skipped => false,
                };
                // A client's closed trackers pile up over the years: read their processes only when
                // this message replies to one of them.
                if !is_reply_target && !awaits_answer {
                    continue;
                }
                let process = self.store.get_process(&t.value.process_id).await?.value;
                if !matches!(process.kind, ProcessKind::Participation { .. }) {
                    continue;
                }
                let answerable = awaits_answer && process.state() == ProcessState::Running;
                if is_reply_target {
                    replied = Some((process.clone(), answerable));
                }
                if answerable {
                    open.push(process);
                }
            }
            match trackers.next {
                Some(cursor) => page = PageRequest::after(100, cursor),
                None => break,
            }
        }
        match (replied, open.len()) {
            (Some((process, true)), _) => Ok(Some(process)),
            (Some((_, false)), _) => {
                self.reply(message, phase1::which_ipo()).await?;
                Ok(None)
            }
            (None, 0) => Ok(None),
            (None, 1) => Ok(open.pop()),
            (None, _) => {
                self.reply(message, phase1::which_ipo()).await?;
                Ok(None)
            }
        }
    }

    /// The bot is back in a client's group: chase its open phase-1 trackers again.
    pub(super) async fn resume_chasing(&self, client: &Client) -> Result<(), AppError> {
        let mut page = PageRequest::first(100);
        loop {
            let trackers = self.store.trackers_of_client(&client.id, &page).await?;
            for t in trackers.items.iter().filter(|t| t.value.state().awaits_client()) {
                let process = self.store.get_process(&t.value.process_id).await?.value;
                if process.state() == ProcessState::Running {
                    self.schedule_chase(&process, &t.value, client).await?;
                }
            }
            match trackers.next {
                Some(cursor) => page = PageRequest::after(100, cursor),
                None => return Ok(()),
            }
        }
    }

    async fn client_name(&self, client_id: &ClientId) -> String {
        self.store
            .get_client(client_id)
            .await
            .map(|c| c.value.name.to_string())
            .unwrap_or_else(|_| client_id.to_string())
    }
}

fn ack_button(process: &ProcessId) -> ReplyMarkup {
    ReplyMarkup::buttons([(phase1::ACK_BUTTON.to_owned(), format!("ack:{process}"))])
}

fn edit_button(process: &ProcessId) -> ReplyMarkup {
    ReplyMarkup::buttons([(phase1::EDIT_BUTTON.to_owned(), format!("edit:{process}"))])
}

/// The client answered, so the advice reached it: a tracker whose send was interrupted or failed
/// (its outcome unknown to us) is sent after all.
fn mark_delivered(tracker: &mut Tracker, at: crate::domain::time::Timestamp) -> Result<(), AppError> {
    let interrupted = tracker.state() == TrackerState::Pending && tracker.send_started_at().is_some();
    if interrupted || tracker.state() == TrackerState::Failed {
        tracker.apply(TrackerEvent::Sent { at })?;
    }
    Ok(())
}
