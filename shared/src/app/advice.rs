//! Loading a participation process's advice: rows are reviewed against the clients, the rules
//! and the stock's price band first, and only an explicit apply (staff confirming the report)
//! writes them, to a process still in draft.

use super::{App, AppError, Refusal, all_pages};
use crate::domain::ids::ProcessId;
use crate::domain::phase::bid::BidAdvice;
use crate::domain::phase::{Advice, FundLines};
use crate::domain::process::{ProcessKind, ProcessState, Round};
use crate::domain::regulation::Regulation;
use crate::domain::stock::StockStatus;
use crate::domain::time::kst_date;
use crate::domain::tracker::Tracker;
use crate::import::{Bands, ImportReport, RawRow, RowKind, review};
use crate::ports::store::StoreError;

/// What applying found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Every accepted row is now its client's advice.
    Applied(ImportReport),
    /// Some rows were refused: nothing was written. Fix them, or apply with `partial`.
    Refused(ImportReport),
}

impl App {
    /// What a process's advice file holds and where it is read from, the one place that tells
    /// them apart: a sell process's orders ([`App::sell_sheets`]), every other kind's bids (its
    /// round's sheet, [`App::advice_sheet`]).
    pub fn advice_rows(kind: ProcessKind) -> (RowKind, Vec<String>) {
        match kind {
            ProcessKind::Sell { .. } => (RowKind::Sell, App::sell_sheets(kind)),
            ProcessKind::Participation { .. }
            | ProcessKind::Allotment
            | ProcessKind::Notice
            | ProcessKind::Statement { .. } => (RowKind::Bid, vec![App::advice_sheet(kind).to_owned()]),
        }
    }

    /// The sheet of the firm's workbook that holds a process's round.
    pub fn advice_sheet(kind: ProcessKind) -> &'static str {
        match kind {
            ProcessKind::Participation { round: Round::LastDay } => "lastDay",
            ProcessKind::Participation { round: Round::FirstDay | Round::Revision }
            | ProcessKind::Allotment
            | ProcessKind::Notice
            | ProcessKind::Sell { .. }
            | ProcessKind::Statement { .. } => "firstDay",
        }
    }

    /// Reviews advice rows for a participation process against its active clients and its stock;
    /// changes nothing.
    pub async fn review_advice(&self, process_id: &ProcessId, rows: &[RawRow]) -> Result<ImportReport, AppError> {
        let loaded = self.load_process(process_id).await?;
        match loaded.process.kind {
            ProcessKind::Participation { .. } => {}
            ProcessKind::Allotment | ProcessKind::Notice | ProcessKind::Sell { .. } | ProcessKind::Statement { .. } => {
                return Err(Refusal::WrongPhase(format!(
                    "advice rows are for participation processes; the clients of {} are chosen with POST /processes/{{id}}/audience",
                    loaded.process.kind.korean()
                ))
                .into());
            }
        }
        let clients = all_pages(|page| async move { self.store.list_clients(&page).await }).await?;
        let clients: Vec<_> = clients.into_iter().map(|c| c.value).filter(|c| c.active).collect();
        // Ticks and limits as they stand on the kickoff day.
        let report = review(rows, &clients, kst_date(loaded.process.kickoff_at), Regulation::builtin());
        let Some(stock) = &loaded.stock else { return Ok(report) };
        let stocks = all_pages(|page| async move { self.store.list_stocks(&page).await }).await?;
        let others = stocks
            .into_iter()
            .map(|s| s.value)
            .filter(|s| s.id != stock.id && s.status() == StockStatus::Active)
            .map(|s| (s.name.to_string(), s.band()))
            .collect();
        Ok(report.check_bands(&Bands {
            stock: stock.band(),
            tolerance_percent: self.config.band_tolerance_percent,
            others,
        }))
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
        let mut trackers = Vec::new();
        for (client, lines) in report.advice_by_client() {
            let lines = FundLines::new(lines).map_err(|e| StoreError::Corrupt {
                entity: "advice",
                id: client.to_string(),
                reason: e.to_string(),
            })?;
            trackers.push(Tracker::new(process_id.clone(), client, Advice::Bid(BidAdvice { lines }), now));
        }
        self.replace_draft_trackers(process_id, stored.version, &trackers).await?;
        tracing::info!(process = %process_id, clients = trackers.len(), "advice applied");
        Ok(ApplyOutcome::Applied(report))
    }
}
