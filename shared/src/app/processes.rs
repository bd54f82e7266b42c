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

    /// How many of the process's clients are in each state, every state named: its kept counts,
    /// one read (counted from its trackers for a process saved before counts were kept).
    pub async fn state_counts(&self, process_id: &ProcessId) -> Result<Vec<(TrackerState, usize)>, StoreError> {
        let counts = match self.store.get_card(process_id).await?.and_then(|card| card.counts) {
            Some(counts) => counts,
            None => {
                let mut counts = std::collections::BTreeMap::new();
                for tracker in self.store.trackers_of_process(process_id).await? {
                    *counts.entry(tracker.value.state()).or_insert(0u64) += 1;
                }
                counts
            }
        };
        let count =
            |state: &TrackerState| usize::try_from(counts.get(state).copied().unwrap_or(0)).unwrap_or(usize::MAX);
        Ok(TrackerState::ALL.iter().map(|s| (*s, count(s))).collect())
    }

    /// [`App::state_counts`] as the API shows it.
    pub async fn progress(&self, process_id: &ProcessId) -> Result<Progress, StoreError> {
        let counts = self.state_counts(process_id).await?;
        let by_state = counts.iter().map(|(s, n)| (s.as_str(), *n)).collect();
        Ok(Progress { total: counts.iter().map(|(_, n)| n).sum(), by_state })
    }
}
