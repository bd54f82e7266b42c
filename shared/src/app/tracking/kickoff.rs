//! Kickoff: each client is sent its own message with a ✅ button (when the phase asks for one).
//! A tracker is claimed (`SendStarted`, a conditional write) before its send and marked `Sent`
//! after, so a kickoff that stops halfway resumes without sending anything twice.

use super::{FIRE_GRACE, Loaded, ack_button};
use crate::app::{App, AppError, Outgoing, Refusal, retry_on_conflict};
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
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Advice sends in flight at once during a kickoff: enough to keep Telegram's 30/s busy while each
/// send waits for its slot, few enough that senders rarely collide on the bot's pace bucket.
/// Measured with `cargo xtask bench fanout --clients 300`: 4 starves the pipeline (ratio up to
/// 1.9), 12 loses time to aborted reservations (1.1–2.0 from run to run), 6 holds 1.12–1.13.
const KICKOFF_CONCURRENCY: usize = 6;
/// A send started this long ago without an outcome is presumed interrupted.
const SEND_GRACE: TimeDelta = TimeDelta::minutes(2);

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
                Phase::Allotment if stock.final_price().is_none() => {
                    return Err(Refusal::NoFinalPrice { stock: stock.name.to_string() }.into());
                }
                Phase::Bid | Phase::Allotment | Phase::Notice => {}
            },
            (None, false) => {}
        }
        if self.store.trackers_of_process(&process.id).await?.is_empty() {
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
        let permits = Arc::new(Semaphore::new(KICKOFF_CONCURRENCY));
        let mut sends = tokio::task::JoinSet::new();
        let mut advice = None;
        for tracker in self.store.trackers_of_process(process_id).await? {
            advice.get_or_insert_with(|| tracker.value.advice().clone());
            if tracker.value.state() != TrackerState::Pending {
                if tracker.value.awaits_client() {
                    let client = self.store.get_client(&tracker.value.client_id).await?.value;
                    self.schedule_chase(&loaded.process, &tracker.value, &client).await?;
                }
                continue;
            }
            let (app, loaded, permits) = (self.clone(), loaded.clone(), permits.clone());
            sends.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let client = tracker.value.client_id.clone();
                (client, app.send_advice(&loaded, tracker).await)
            });
        }
        let mut report = KickoffReport::default();
        let mut failures = Vec::new();
        let mut retry = None;
        while let Some(joined) = sends.join_next().await {
            let Ok((client_id, outcome)) = joined else { continue };
            match outcome {
                Ok(SendOutcome::Sent) => report.sent.push(client_id),
                Ok(SendOutcome::Failed(reason)) => report.failed.push((client_id, reason)),
                Ok(SendOutcome::Skipped) => {}
                Err(e) => {
                    tracing::error!(client = %client_id, error = %e, "advice not sent");
                    report.failed.push((client_id, e.to_string()));
                    retry = Some(e);
                }
            }
        }
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
            self.card_changed(process_id).await;
        }
        match retry {
            Some(e) => Err(e),
            None => Ok(report),
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

    async fn send_advice(&self, loaded: &Loaded, stored: Versioned<Tracker>) -> Result<SendOutcome, AppError> {
        let now = self.clock.now();
        let process = &loaded.process;
        let client = self.store.get_client(&stored.value.client_id).await?.value;
        let mut tracker = stored.value;
        if let Some(started) = tracker.send_started_at() {
            if now - started < SEND_GRACE {
                return Ok(SendOutcome::Skipped);
            }
            // Interrupted mid-send: the message may have reached the group. Never send it twice.
            let reason = "발송 중 중단: 전달 여부 확인 필요".to_owned();
            tracker.apply(TrackerEvent::SendFailed { reason: reason.clone(), at: now })?;
            self.store.transition_tracker(&tracker, TrackerState::Pending, stored.version).await?;
            self.notify_staff_about(Some(&process.id), staff::send_unclear(&loaded.subject(tracker.advice()), &client))
                .await;
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
            html: templates::advice(&loaded.subject(tracker.advice()), &client, tracker.advice()),
            markup: (tracker.advice().asks() != Asks::Nothing).then(|| ack_button(&process.id)),
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

    async fn client_name(&self, client_id: &ClientId) -> String {
        self.store
            .get_client(client_id)
            .await
            .map(|c| c.value.name.to_string())
            .unwrap_or_else(|_| client_id.to_string())
    }
}
