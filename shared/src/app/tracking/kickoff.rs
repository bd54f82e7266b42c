//! Kickoff: each client is sent its own message with a ✅ button (when the phase asks for one).
//! A tracker is claimed (`SendStarted`, a conditional write) before its send and marked `Sent`
//! after, so a kickoff that stops halfway resumes without sending anything twice.

use super::{FIRE_GRACE, Loaded, ack_button};
use crate::app::delivery::{Slot, outbound_entries};
use crate::app::{App, AppError, Outgoing, Refusal, retry_on_conflict};
use crate::domain::client::Client;
use crate::domain::ids::ChatId;
use crate::domain::ids::{ClientId, ProcessId};
use crate::domain::phase::{Asks, Phase};
use crate::domain::process::{Process, ProcessAction, ProcessState};
use crate::domain::stock::StockStatus;
use crate::domain::templates::{self, staff};
use crate::domain::time::format_kst;
use crate::domain::tracker::{Tracker, TrackerEvent, TrackerState};
use crate::ports::scheduler::Job;
use crate::ports::store::{StoreError, Versioned};
use chrono::TimeDelta;
use std::collections::HashMap;
use std::sync::Arc;

/// Advice sends whose slots are reserved together (one write to the pace records): about 300 ms of
/// the bot's 30 a second, so that a kickoff keeps Telegram busy while replies to clients still get
/// slots between its batches.
const KICKOFF_BATCH: usize = 8;
/// A send started this long ago without an outcome is presumed interrupted.
const SEND_GRACE: TimeDelta = TimeDelta::minutes(2);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KickoffReport {
    pub sent: Vec<ClientId>,
    pub failed: Vec<(ClientId, String)>,
}

enum SendOutcome {
    Sent(ClientId),
    Failed(ClientId, String),
    /// Another worker has it, or it had been sent already.
    Skipped,
}

impl KickoffReport {
    fn count(&mut self, outcome: SendOutcome) {
        match outcome {
            SendOutcome::Sent(client) => self.sent.push(client),
            SendOutcome::Failed(client, reason) => self.failed.push((client, reason)),
            SendOutcome::Skipped => {}
        }
    }
}

/// Where a client comes in its process's fan-out. Each process has its own order: kicked off
/// together in client order, several processes would all reach the same clients last, and those
/// groups would then take a minute's worth of messages at once at the end (Telegram allows a group
/// 20 a minute), which made the last of them wait 3.6 s per message.
fn fan_out_order(process: &ProcessId, client: &ClientId) -> u64 {
    use std::hash::{Hash, Hasher};
    // SipHash with fixed keys: the same order on every run and every instance.
    let mut hasher = std::hash::DefaultHasher::new();
    (process.as_str(), client.as_str()).hash(&mut hasher);
    hasher.finish()
}

/// A tracker taken for sending, and its message.
struct Ready {
    claimed: Versioned<Tracker>,
    /// The tracker as it was before the claim: written back when the emergency stop holds the send.
    unclaimed: Tracker,
    out: Outgoing,
}

enum Claim {
    Ready(Box<Ready>),
    Done(SendOutcome),
}

impl App {
    /// Draft → scheduled, with a kickoff job at the process's kickoff time. Refused when the
    /// process could not start then, or when its kickoff time has passed (start it now instead).
    pub async fn schedule_process(&self, process_id: &ProcessId) -> Result<Versioned<Process>, AppError> {
        let stored = self.store.get_process(process_id).await?;
        let mut process = stored.value.clone();
        process.apply(ProcessAction::Schedule)?;
        if process.kickoff_at + FIRE_GRACE < self.clock.now() {
            return Err(Refusal::KickoffPassed { kickoff: format_kst(process.kickoff_at) }.into());
        }
        self.check_startable(&self.load_process(process_id).await?).await?;
        // The job first: a job without a scheduled process does nothing when it fires, while a
        // process marked scheduled without a job would never start.
        self.scheduler.schedule(&Job::kickoff(process_id, process.kickoff_at)).await?;
        Ok(self.store.update_process(&process, stored.version).await?)
    }

    /// The kickoff job: starts a scheduled process when its time has come (a job left over from an
    /// earlier kickoff time does nothing) and sends its messages. A process that can no longer
    /// start (its stock lost its final price, say) is reported to staff, not retried.
    pub async fn kickoff(&self, process_id: &ProcessId) -> Result<KickoffReport, AppError> {
        let loaded = self.load_process(process_id).await?;
        let process = &loaded.process;
        let due = process.kickoff_at <= self.clock.now() + FIRE_GRACE;
        if !matches!(process.state(), ProcessState::Scheduled | ProcessState::Running) || !due {
            tracing::info!(state = %process.state(), kickoff_at = %process.kickoff_at, "kickoff job: nothing to do");
            return Ok(KickoffReport::default());
        }
        if let Err(AppError::Refused(why)) = self.check_startable(&loaded).await {
            let name = loaded.stock.as_ref().map_or_else(|| process.kind.korean().to_owned(), |s| s.name.to_string());
            self.notify_staff_about(Some(process_id), staff::kickoff_refused(&name, process.kind, &why.to_string()))
                .await;
            return Ok(KickoffReport::default());
        }
        self.send_all(process_id).await
    }

    /// Staff start a draft or scheduled process now (or resume a kickoff that stopped halfway).
    pub async fn start_now(&self, process_id: &ProcessId) -> Result<KickoffReport, AppError> {
        // "Now" cannot be honoured while the bot is stopped: said so, rather than started silently.
        self.refuse_if_stopped().await?;
        self.check_startable(&self.load_process(process_id).await?).await?;
        self.send_all(process_id).await
    }

    /// Whether the process may start: not finished or paused, with messages to send, and a stock
    /// that has what its phase needs.
    async fn check_startable(&self, loaded: &Loaded) -> Result<(), AppError> {
        let process = &loaded.process;
        match process.state() {
            ProcessState::Draft | ProcessState::Scheduled | ProcessState::Running => {}
            state @ (ProcessState::Paused | ProcessState::Completed | ProcessState::Cancelled) => {
                return Err(Refusal::NotStartable(state).into());
            }
        }
        match (&loaded.stock, process.kind.needs_stock()) {
            (None, true) => return Err(Refusal::NoStock.into()),
            (Some(stock), _) if stock.status() == StockStatus::Withdrawn => {
                return Err(Refusal::StockWithdrawn { stock: stock.name.to_string() }.into());
            }
            (Some(stock), _) => match process.kind.phase() {
                // A sale's price limits follow from the offer price.
                Phase::Allotment | Phase::Sell if stock.final_price().is_none() => {
                    return Err(Refusal::NoFinalPrice { stock: stock.name.to_string() }.into());
                }
                Phase::Bid | Phase::Allotment | Phase::Notice | Phase::Sell | Phase::Statement => {}
            },
            (None, false) => {}
        }
        if self.progress(&process.id).await?.total == 0 {
            return Err(Refusal::NoAdvice.into());
        }
        Ok(())
    }

    /// Sends every client of the process not sent to yet. Safe to run again: a kickoff that
    /// stopped halfway resumes, nobody gets its message twice, and clients already sent to are
    /// chased. Returns an error when any send failed for a reason worth retrying, so the job runs
    /// again.
    async fn send_all(&self, process_id: &ProcessId) -> Result<KickoffReport, AppError> {
        self.start_running(process_id).await?;
        let loaded = Arc::new(self.load_process(process_id).await?);
        if loaded.process.state() != ProcessState::Running {
            tracing::info!(state = %loaded.process.state(), "kickoff skipped: the process is not to run");
            return Ok(KickoffReport::default());
        }
        let mut trackers = self.store.trackers_of_process(process_id).await?;
        trackers.sort_by_cached_key(|t| fan_out_order(process_id, &t.value.client_id));
        let advice = trackers.first().map(|t| t.value.advice().clone());
        let ids: Vec<ClientId> = trackers.iter().map(|t| t.value.client_id.clone()).collect();
        let mut clients: HashMap<ClientId, Client> =
            self.store.get_clients(&ids).await?.into_iter().map(|c| (c.value.id.clone(), c.value)).collect();
        let mut report = KickoffReport::default();
        let mut retry = None;
        let mut sends = tokio::task::JoinSet::new();
        let mut batch = Vec::with_capacity(KICKOFF_BATCH);
        for tracker in trackers {
            let Some(client) = clients.remove(&tracker.value.client_id) else {
                let reason = "고객 정보 없음".to_owned();
                report.failed.push((tracker.value.client_id.clone(), reason));
                continue;
            };
            if tracker.value.state() != TrackerState::Pending {
                if tracker.value.awaits_client() {
                    self.schedule_chase(&loaded.process, &tracker.value, &client).await?;
                }
                continue;
            }
            match self.claim_send(&loaded, tracker, &client).await {
                Ok(Claim::Ready(ready)) => batch.push((*ready, client)),
                Ok(Claim::Done(outcome)) => report.count(outcome),
                Err(e) => {
                    tracing::error!(error = %e, "advice not claimed");
                    retry = Some(e);
                }
            }
            if batch.len() == KICKOFF_BATCH {
                match self.send_batch(&loaded, batch, &mut sends).await? {
                    Some(later) => batch = later,
                    None => {
                        batch = Vec::new();
                        break;
                    }
                }
            }
        }
        while let Some(later) = self.send_batch(&loaded, batch, &mut sends).await?
            && !later.is_empty()
        {
            batch = later;
        }
        while let Some(joined) = sends.join_next().await {
            let Ok((client_id, outcome)) = joined else { continue };
            match outcome {
                Ok(outcome) => report.count(outcome),
                Err(e) => {
                    tracing::error!(client = %client_id, error = %e, "advice not sent");
                    report.failed.push((client_id, e.to_string()));
                    retry = Some(e);
                }
            }
        }
        let mut failures = Vec::new();
        for (client_id, reason) in &report.failed {
            failures.push((self.client_name(client_id).await, reason.clone()));
        }
        failures.sort();
        if !failures.is_empty() {
            let subject = templates::Subject::new(loaded.stock.as_ref(), loaded.process.kind, advice.as_ref());
            self.notify_staff_about(Some(process_id), staff::kickoff_failures(&subject, report.sent.len(), &failures))
                .await;
        }
        if !report.sent.is_empty() || !report.failed.is_empty() {
            self.tracker_moved(process_id).await;
        }
        match retry {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// Reserves the batch's slots together, then sends each in its own, on its own task; returns
    /// the messages whose chats were too busy for a slot yet, for the next batch. `None` when the
    /// emergency stop is on (read with the slots): the batch's claims are given back unsent (a
    /// claim left standing would read as a send interrupted, and fail), and the fan-out stops,
    /// what it did not claim still pending for the resume.
    async fn send_batch(
        &self,
        loaded: &Arc<Loaded>,
        batch: Vec<(Ready, Client)>,
        sends: &mut tokio::task::JoinSet<(ClientId, Result<SendOutcome, AppError>)>,
    ) -> Result<Option<Vec<(Ready, Client)>>, AppError> {
        if batch.is_empty() {
            return Ok(Some(batch));
        }
        let chats: Vec<ChatId> = batch.iter().map(|(ready, _)| ready.out.chat).collect();
        let slots = match self.pace_bulk(&chats).await {
            Ok(slots) => slots,
            Err(e) if e.is_held() => {
                tracing::warn!(process = %loaded.process.id, "fan-out held: the bot is stopped");
                for (Ready { claimed, unclaimed, .. }, _) in batch {
                    self.store.transition_tracker(&unclaimed, TrackerState::Pending, claimed.version).await?;
                }
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let mut later = Vec::new();
        for ((ready, client), slot) in batch.into_iter().zip(slots) {
            let Some(slot) = slot else {
                later.push((ready, client));
                continue;
            };
            let (app, loaded) = (self.clone(), loaded.clone());
            sends.spawn(async move {
                let id = client.id.clone();
                (id, app.send_claimed(&loaded, ready, &client, slot).await)
            });
        }
        Ok(Some(later))
    }

    /// Takes a pending tracker for sending (a conditional write, so that two kickoffs never both
    /// send it), or says why it is not sent.
    async fn claim_send(
        &self,
        loaded: &Loaded,
        stored: Versioned<Tracker>,
        client: &Client,
    ) -> Result<Claim, AppError> {
        let now = self.clock.now();
        let process = &loaded.process;
        let unclaimed = stored.value.clone();
        let mut tracker = stored.value;
        if let Some(started) = tracker.send_started_at() {
            if now - started < SEND_GRACE {
                return Ok(Claim::Done(SendOutcome::Skipped));
            }
            // Interrupted mid-send: the message may have reached the group. Never send it twice.
            let reason = "발송 중 중단: 전달 여부 확인 필요".to_owned();
            tracker.apply(TrackerEvent::SendFailed { reason: reason.clone(), at: now })?;
            self.store.transition_tracker(&tracker, TrackerState::Pending, stored.version).await?;
            self.notify_staff_about(Some(&process.id), staff::send_unclear(&loaded.subject(tracker.advice()), client))
                .await;
            return Ok(Claim::Done(SendOutcome::Failed(client.id.clone(), reason)));
        }
        let Some(chat) = client.reachable_chat() else {
            let reason = if client.chat.is_none() { "그룹 미연결" } else { "그룹 비활성 (봇 제외됨)" }.to_owned();
            tracker.apply(TrackerEvent::SendFailed { reason: reason.clone(), at: now })?;
            self.store.transition_tracker(&tracker, TrackerState::Pending, stored.version).await?;
            return Ok(Claim::Done(SendOutcome::Failed(client.id.clone(), reason)));
        };
        tracker.apply(TrackerEvent::SendStarted { at: now })?;
        let claimed = match self.store.transition_tracker(&tracker, TrackerState::Pending, stored.version).await {
            Ok(claimed) => claimed,
            Err(StoreError::Conflict { .. }) => return Ok(Claim::Done(SendOutcome::Skipped)),
            Err(e) => return Err(e.into()),
        };
        let out = Outgoing {
            chat,
            html: templates::advice(&loaded.subject(tracker.advice()), client, tracker.advice()),
            markup: (tracker.advice().asks() != Asks::Nothing).then(|| ack_button(&process.id)),
            reply_to: None,
            client: Some(client.id.clone()),
            process: Some(process.id.clone()),
        };
        Ok(Claim::Ready(Box::new(Ready { claimed, unclaimed, out })))
    }

    /// Sends a claimed tracker's advice in its slot and records the outcome, with the message's
    /// log entry, in one write.
    async fn send_claimed(
        &self,
        loaded: &Loaded,
        ready: Ready,
        client: &Client,
        slot: Slot,
    ) -> Result<SendOutcome, AppError> {
        let Ready { claimed, out, .. } = ready;
        let mut tracker = claimed.value;
        match self.deliver_unlogged(&out, Some(slot)).await {
            Ok(delivered) => {
                for d in &delivered {
                    tracker.note_message(d.sent.message_id);
                }
                let now = self.clock.now();
                tracker.apply(TrackerEvent::Sent { at: now })?;
                let log = outbound_entries(&out, &delivered, now);
                let saved = self
                    .store
                    .transition_tracker_logged(&tracker, TrackerState::Pending, claimed.version, &log)
                    .await?;
                self.schedule_chase(&loaded.process, &saved.value, client).await?;
                Ok(SendOutcome::Sent(client.id.clone()))
            }
            Err(e) => {
                let reason = e.to_string();
                tracker.apply(TrackerEvent::SendFailed { reason: reason.clone(), at: self.clock.now() })?;
                self.store.transition_tracker(&tracker, TrackerState::Pending, claimed.version).await?;
                Ok(SendOutcome::Failed(client.id.clone(), reason))
            }
        }
    }

    /// After the emergency stop: a scheduled process whose kickoff came meanwhile kicks off; a
    /// running one goes on where it stood (its clients not sent to yet are sent, the others are
    /// chased as due). Anything else has nothing held.
    pub(crate) async fn carry_on(&self, process_id: &ProcessId) -> Result<(), AppError> {
        match self.store.get_process(process_id).await?.value.state() {
            ProcessState::Scheduled => self.kickoff(process_id).await.map(|_| ()),
            ProcessState::Running => self.send_all(process_id).await.map(|_| ()),
            ProcessState::Draft | ProcessState::Paused | ProcessState::Completed | ProcessState::Cancelled => Ok(()),
        }
    }

    /// Scheduled or draft → running; a process already running (a resumed kickoff) stays so.
    async fn start_running(&self, process_id: &ProcessId) -> Result<(), AppError> {
        retry_on_conflict(
            ("process", process_id.to_string()),
            || self.store.get_process(process_id),
            |process: &mut Process| {
                if !matches!(process.state(), ProcessState::Draft | ProcessState::Scheduled) {
                    return Ok(false);
                }
                process.apply(ProcessAction::Start)?;
                Ok(true)
            },
            |process: Process, stored: Versioned<Process>| async move {
                self.store.update_process(&process, stored.version).await
            },
        )
        .await
        .map(|_| ())
    }

    async fn client_name(&self, client_id: &ClientId) -> String {
        self.store
            .get_client(client_id)
            .await
            .map(|c| c.value.name.to_string())
            .unwrap_or_else(|_| client_id.to_string())
    }
}
