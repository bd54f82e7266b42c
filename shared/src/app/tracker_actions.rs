//! Staff's own moves on one client's tracker, besides reminding and confirming: leave the client
//! out of this process (skip), or send a failed advice again (retry).

use crate::app::{App, AppError};
use crate::domain::ids::{ClientId, ProcessId, StaffId};
use crate::domain::tracker::{Tracker, TrackerEvent};
use crate::ports::store::Versioned;

impl App {
    /// The client is no longer chased for this process; refused (an illegal move) once confirmed.
    pub async fn skip_tracker(
        &self,
        process_id: &ProcessId,
        client_id: &ClientId,
        by: &StaffId,
    ) -> Result<Versioned<Tracker>, AppError> {
        let stored = self.store.get_tracker(process_id, client_id).await?;
        let mut tracker = stored.value.clone();
        tracker.apply(TrackerEvent::Skipped { by: by.clone(), at: self.clock.now() })?;
        let saved = self.store.transition_tracker(&tracker, stored.value.state(), stored.version).await?;
        self.tracker_moved(process_id).await;
        Ok(saved)
    }

    /// A failed send goes back to pending and the process's kickoff resumes, sending it (and any
    /// other pending tracker) now; refused for a tracker that did not fail.
    pub async fn retry_send(
        &self,
        process_id: &ProcessId,
        client_id: &ClientId,
    ) -> Result<Versioned<Tracker>, AppError> {
        // Refused before the tracker moves: the start below would be, leaving it pending for the
        // resume, which is not what "retry now" asked.
        self.refuse_if_stopped().await?;
        let stored = self.store.get_tracker(process_id, client_id).await?;
        let mut tracker = stored.value.clone();
        tracker.apply(TrackerEvent::Retry { at: self.clock.now() })?;
        self.store.transition_tracker(&tracker, stored.value.state(), stored.version).await?;
        self.start_now(process_id).await?;
        Ok(self.store.get_tracker(process_id, client_id).await?)
    }
}
