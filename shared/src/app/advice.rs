//! Loading a process's advice: rows are reviewed against the clients and the rules first, and only
//! an explicit apply (staff confirming the report) writes them, to a process still in draft.

use super::{App, AppError};
use crate::domain::client::Client;
use crate::domain::ids::ProcessId;
use crate::domain::process::{ProcessKind, ProcessState, Round};
use crate::domain::regulation::Regulation;
use crate::domain::time::kst_date;
use crate::domain::tracker::Tracker;
use crate::import::{ImportReport, RawRow, review};
use crate::ports::store::{PageRequest, StoreError};

/// What applying found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Every accepted row is now its client's advice.
    Applied(ImportReport),
    /// Some rows were refused: nothing was written. Fix them, or apply with `partial`.
    Refused(ImportReport),
}

impl App {
    /// The sheet of the firm's workbook that holds a process's round.
    pub fn advice_sheet(kind: ProcessKind) -> &'static str {
        match kind {
            ProcessKind::Participation { round: Round::LastDay } => "lastDay",
            _ => "firstDay",
        }
    }

    /// Reviews advice rows for a process against its active clients; changes nothing.
    pub async fn review_advice(&self, process_id: &ProcessId, rows: &[RawRow]) -> Result<ImportReport, AppError> {
        let process = self.store.get_process(process_id).await?.value;
        let clients = self.active_clients().await?;
        // Ticks and limits as they stand on the kickoff day.
        Ok(review(rows, &clients, kst_date(process.kickoff_at), Regulation::builtin()))
    }

    /// Writes the accepted rows as the draft process's advice, one tracker per client (replacing
    /// earlier advice). The rows are reviewed again here: a report from the caller is not trusted.
    pub async fn apply_advice(
        &self,
        process_id: &ProcessId,
        rows: &[RawRow],
        partial: bool,
    ) -> Result<ApplyOutcome, AppError> {
        let stored = self.store.get_process(process_id).await?;
        if stored.value.state() != ProcessState::Draft {
            return Err(StoreError::Conflict {
                entity: "process",
                id: process_id.to_string(),
                detail: format!("advice can change only in draft, not {}", stored.value.state()),
            }
            .into());
        }
        let report = self.review_advice(process_id, rows).await?;
        if !report.is_clean() && !partial {
            return Ok(ApplyOutcome::Refused(report));
        }
        let now = self.clock.now();
        let trackers = report
            .advice_by_client()
            .into_iter()
            .map(|(client, advice)| Tracker::new(process_id.clone(), client, advice, now))
            .collect::<Result<Vec<_>, _>>()?;
        self.store.save_draft_trackers(process_id, stored.version, &trackers).await?;
        // Clients left out of this advice lose their earlier one: a re-import replaces it whole.
        for old in self.store.trackers_of_process(process_id).await? {
            if !trackers.iter().any(|t| t.client_id == old.value.client_id) {
                self.store.remove_pending_tracker(process_id, &old.value.client_id).await?;
            }
        }
        tracing::info!(process = %process_id, clients = trackers.len(), "advice applied");
        Ok(ApplyOutcome::Applied(report))
    }

    async fn active_clients(&self) -> Result<Vec<Client>, StoreError> {
        let mut out = Vec::new();
        let mut page = PageRequest::first(100);
        loop {
            let clients = self.store.list_clients(&page).await?;
            out.extend(clients.items.into_iter().map(|c| c.value).filter(|c| c.active));
            match clients.next {
                Some(cursor) => page = PageRequest::after(100, cursor),
                None => return Ok(out),
            }
        }
    }
}
