//! Staff's control of a process: pause, resume, cancel, and its progress.

use super::{App, AppError};
use crate::domain::ids::ProcessId;
use crate::domain::process::{Process, ProcessAction};
use crate::domain::tracker::TrackerState;
use crate::ports::scheduler::Job;
use crate::ports::store::{StoreError, Versioned};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many clients of a process are in each state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub total: usize,
    /// Every state, with how many clients are in it.
    #[schema(value_type = BTreeMap<String, usize>)]
    pub by_state: BTreeMap<&'static str, usize>,
}

impl App {
    /// Applies a staff action to a process (pause, resume, cancel, unschedule) and its consequences:
    /// resuming chases the open trackers again; cancelling or unscheduling drops the kickoff job.
    pub async fn control_process(
        &self,
        process_id: &ProcessId,
        action: ProcessAction,
    ) -> Result<Versioned<Process>, AppError> {
        let stored = self.store.get_process(process_id).await?;
        let mut process = stored.value.clone();
        process.apply(action)?;
        if matches!(action, ProcessAction::Cancel | ProcessAction::Unschedule) {
            self.scheduler.cancel(&Job::kickoff(process_id, process.kickoff_at).name).await?;
        }
        let saved = self.store.update_process(&process, stored.version).await?;
        self.card_changed(process_id).await;
        if action == ProcessAction::Resume {
            for tracker in self.store.trackers_of_process(process_id).await? {
                if tracker.value.awaits_client() {
                    let client = self.store.get_client(&tracker.value.client_id).await?.value;
                    self.schedule_chase(&saved.value, &tracker.value, &client).await?;
                }
            }
        }
        Ok(saved)
    }

    pub async fn progress(&self, process_id: &ProcessId) -> Result<Progress, StoreError> {
        let trackers = self.store.trackers_of_process(process_id).await?;
        let by_state = TrackerState::ALL
            .iter()
            .map(|s| (s.as_str(), trackers.iter().filter(|t| t.value.state() == *s).count()))
            .collect();
        Ok(Progress { total: trackers.len(), by_state })
    }
}
