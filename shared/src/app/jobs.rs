//! Running scheduled jobs, at most once per (job, scheduled time): EventBridge Scheduler delivers at
//! least once and Lambda retries, and the local loop may overlap itself.

use super::{App, AppError};
use crate::domain::time::Timestamp;
use crate::ports::scheduler::{Job, JobPayload};
use crate::ports::store::{IdempotencyClaim, IdempotencyRequest, StoreError};
use chrono::TimeDelta;
use tracing::Instrument;

impl App {
    /// Runs a job once for `key` (schedule name and scheduled time). A repeat is a no-op; a failure
    /// gives the key back so the scheduler's retry runs it. A feed run is not keyed: it is safe to
    /// repeat (one runner at a time, sent notices leave the queue), and a run may ask for another
    /// under its own name, which must not be skipped as done.
    pub async fn run_job(&self, key: &str, payload: &JobPayload) -> Result<(), AppError> {
        // Held by the emergency stop: no once-only record is taken, so the job the resume plans
        // (or this one again) still runs. The feed checks for itself.
        if !matches!(payload, JobPayload::StaffFeed)
            && let Some(stop) = self.stopped().await?
        {
            tracing::info!(key, by = %stop.by, "job held: the bot is stopped; resuming plans it again");
            return Ok(());
        }
        match payload {
            JobPayload::Kickoff { process_id } => {
                self.once(key, async || self.kickoff(process_id).await.map(|_| ())).await
            }
            JobPayload::Chase { process_id, client_id } => {
                self.once(key, async || self.chase(process_id, client_id).await).await
            }
            JobPayload::StaffFeed => self.staff_feed_job().await.map(|_| ()),
            JobPayload::Resume { process_id } => self.once(key, async || self.carry_on(process_id).await).await,
        }
    }

    async fn once(&self, key: &str, work: impl AsyncFnOnce() -> Result<(), AppError>) -> Result<(), AppError> {
        let now = self.clock.now();
        let request = IdempotencyRequest {
            key: key.to_owned(),
            payload_hash: None,
            now,
            // Just past the scheduler function's timeout (120 s): Lambda's retry of a timed-out
            // attempt must find the lock free.
            in_progress_until: now + TimeDelta::seconds(150),
            expires_at: now + TimeDelta::days(3),
        };
        let token = match self.store.claim(&request).await? {
            IdempotencyClaim::Acquired { token } => token,
            IdempotencyClaim::Completed { .. } | IdempotencyClaim::PayloadMismatch => {
                tracing::info!(key, "job already done");
                return Ok(());
            }
            IdempotencyClaim::InProgress { .. } => {
                return Err(StoreError::Conflict {
                    entity: "job",
                    id: key.to_owned(),
                    detail: "running elsewhere".into(),
                }
                .into());
            }
        };
        match work().await {
            Ok(()) => {
                self.store.complete(key, &token, None, self.clock.now() + TimeDelta::days(3)).await?;
                Ok(())
            }
            Err(e) if e.is_held() => {
                // Stopped while it ran: what it did not do waits for the resume, which needs the
                // key free again. Not a failure.
                tracing::info!(key, "job cut short by the emergency stop; resuming plans it again");
                if let Err(release) = self.store.release(key, &token).await {
                    tracing::warn!(error = %release, "could not release a held job");
                }
                Ok(())
            }
            Err(e) => {
                self.record_error("job", key, &e.to_string()).await;
                if let Err(release) = self.store.release(key, &token).await {
                    tracing::warn!(error = %release, "could not release a failed job");
                }
                Err(e)
            }
        }
    }

    /// Fires every job of the local scheduler due at `now`; returns how many ran.
    pub async fn run_due_jobs(&self, now: Timestamp) -> Result<usize, AppError> {
        let mut ran = 0;
        loop {
            let due = self.store.due_jobs(now, 25).await?;
            if due.is_empty() {
                return Ok(ran);
            }
            for job in due {
                if !self.store.take_job(&job).await? {
                    continue;
                }
                let key = format!("schedule:{}:{}", job.name, job.at.to_rfc3339());
                let span = tracing::info_span!("job", name = %job.name, at = %job.at);
                if let Err(e) = self.run_job(&key, &job.payload).instrument(span).await {
                    // As EventBridge would retry it: again in a minute, under a new key.
                    tracing::error!(error = %e, "job failed; retrying in a minute");
                    let retry = Job { at: now + TimeDelta::minutes(1), ..job };
                    self.store.put_job(&retry).await?;
                }
                ran += 1;
            }
        }
    }
}
