//! The emergency stop: staff switch the bot off for every process at once (wrong advice went out,
//! the bot misbehaves) and on again. Nothing is lost while it is off, because nothing is taken
//! from where it waits:
//!
//! - every send to a client is refused at the one place all of them pass (`deliver_unlogged`; a
//!   fan-out's sends by the one read of their batch, in `pace_bulk`); a tracker claimed for a send
//!   that the stop then refused is given back unclaimed, never marked failed;
//! - jobs (kickoffs, chases, a resume's) that fire while stopped do nothing and take no
//!   once-only record; one that the stop caught halfway gives its record back;
//! - the staff feed does not run: notices stay queued, cards stay stale;
//! - clients' answers are still taken and stored; the bot's replies to them are not sent.
//!
//! Resuming plans one job per process that was running or whose kickoff came during the stop;
//! each carries on where its process stood (clients not yet sent to are sent, the others chased as
//! due), and the staff feed sends what it held. See `docs/scheduling.md`.

use super::{App, AppError, Outgoing, Refusal, all_pages};
use crate::domain::bot::{BotStatus, Resume, Stop, already_stopped, resume_notice, stop_notice};
use crate::domain::ids::{ProcessId, StaffId};
use crate::domain::process::ProcessState;
use crate::domain::text::Label;
use crate::domain::time::Timestamp;
use crate::ports::scheduler::Job;
use crate::ports::store::StoreError;
use chrono::TimeDelta;

/// When a resume's jobs fire: after the switch is written (planned before it, so that a failure
/// to plan leaves the bot stopped and the resume can be asked again), and no sooner than
/// EventBridge Scheduler fires anyway.
const RESUME_LEAD: TimeDelta = TimeDelta::minutes(1);

impl App {
    /// Whether the bot is running or stopped, by whom, since when and why.
    pub async fn bot_state(&self) -> Result<BotStatus, AppError> {
        Ok(self.store.get_bot_control().await?.value.status())
    }

    /// The stop in force, if any: one strongly consistent read.
    pub(crate) async fn stopped(&self) -> Result<Option<Stop>, StoreError> {
        Ok(self.store.get_bot_control().await?.value.stopped)
    }

    /// Refused (409 `bot_stopped` at the API) while the bot is stopped.
    pub(crate) async fn refuse_if_stopped(&self) -> Result<(), AppError> {
        match self.stopped().await? {
            Some(stop) => Err(Refusal::from(already_stopped(&stop)).into()),
            None => Ok(()),
        }
    }

    /// Stops every send and chase of every process; the staff group is told at once.
    pub async fn stop_bot(&self, by: &str, staff_id: Option<StaffId>, reason: Label) -> Result<BotStatus, AppError> {
        let stop = Stop { by: by.to_owned(), staff_id, since: self.clock.now(), reason };
        let stored = self.store.get_bot_control().await?;
        let mut control = stored.value;
        control.stop(stop.clone()).map_err(Refusal::from)?;
        let saved = self.store.put_bot_control(&control, stored.version).await?;
        tracing::warn!(by, reason = %stop.reason, "the bot was stopped");
        self.announce(stop_notice(&stop)).await;
        Ok(saved.value.status())
    }

    /// Resumes the bot: each process held goes on where it stood (planned as one job each, a
    /// minute on), and the staff group gets the resume notice, then what was held for it. Answers
    /// the processes planned.
    pub async fn resume_bot(&self, by: &str) -> Result<(BotStatus, Vec<ProcessId>), AppError> {
        let stored = self.store.get_bot_control().await?;
        let mut control = stored.value;
        let now = self.clock.now();
        let resume = Resume { by: by.to_owned(), at: now };
        let stop = control.resume(resume.clone()).map_err(Refusal::from)?;
        let planned = self.plan_held(now).await?;
        let saved = self.store.put_bot_control(&control, stored.version).await?;
        tracing::warn!(by, processes = planned.len(), "the bot was resumed");
        self.announce(resume_notice(&stop, &resume, planned.len())).await;
        // What the feed held: within the usual short wait, the rest by the runs it schedules.
        let latest = self.pacing_clock.now() + TimeDelta::from_std(self.config.staff_wait).unwrap_or_default();
        if let Err(e) = self.run_staff_feed(latest, None).await {
            tracing::warn!(error = %e, "the held staff notices wait for the feed's next run");
            if let Err(e) = self.scheduler.schedule(&Job::staff_feed(now + TimeDelta::seconds(5))).await {
                self.record_error("staff-feed", "schedule", &e.to_string()).await;
            }
        }
        Ok((saved.value.status(), planned))
    }

    /// One job per process the stop may have held: every running one (a fan-out cut short,
    /// chases that fired while stopped) and every scheduled one whose kickoff came meanwhile.
    async fn plan_held(&self, now: Timestamp) -> Result<Vec<ProcessId>, AppError> {
        let processes = all_pages(|page| async move { self.store.list_processes(&page).await }).await?;
        let at = now + RESUME_LEAD;
        let mut planned = Vec::new();
        for process in processes.into_iter().map(|p| p.value) {
            let held = match process.state() {
                ProcessState::Running => true,
                // Its own job fired while stopped (or fires now, up to a minute early).
                ProcessState::Scheduled => process.kickoff_at <= at,
                ProcessState::Draft | ProcessState::Paused | ProcessState::Completed | ProcessState::Cancelled => false,
            };
            if held {
                self.scheduler.schedule(&Job::resume(&process.id, at)).await?;
                planned.push(process.id);
            }
        }
        Ok(planned)
    }

    /// Tells the staff group now, past the held feed (a stop must be known where staff talk);
    /// queued like any notice when it cannot go now.
    async fn announce(&self, html: String) {
        let Some(chat) = self.config.staff_chat else {
            tracing::warn!(notice = %html, "no staff group configured; notice not sent");
            return;
        };
        if let Err(e) = self.deliver(&Outgoing::text(chat, html.clone())).await {
            tracing::warn!(error = %e, "the staff group was not told at once; the notice is queued");
            self.notify_staff(html).await;
        }
    }
}
