//! Loading a sell process's plan (phase 3's advice) from rows, as bid advice is loaded: reviewed
//! first against the clients, what each fund may sell on the sale date and the day's rules, and
//! written only by an explicit apply, to a process still in draft.

use super::{App, AppError, Refusal, all_pages};
use crate::domain::calendar::KrxCalendar;
use crate::domain::ids::ProcessId;
use crate::domain::money::Price;
use crate::domain::phase::Advice;
use crate::domain::phase::sell::{SellAdvice, Session};
use crate::domain::process::{ProcessKind, ProcessState};
use crate::domain::regulation::Regulation;
use crate::domain::tracker::Tracker;
use crate::import::{RawRow, SellDay, SellReport, review_sell};
use crate::ports::store::StoreError;

/// What applying a sell plan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SellApplyOutcome {
    /// Every accepted row is now an order of its client's plan.
    Applied(SellReport),
    /// Some rows were refused: nothing was written. Fix them, or apply with `partial`.
    Refused(SellReport),
}

impl App {
    /// The workbook sheets a sell process's plan is read from, the first found: the sale date's
    /// own (`sell-2026-04-07`), else `sell`.
    pub fn sell_sheets(kind: ProcessKind) -> Vec<String> {
        match kind {
            ProcessKind::Sell { sale_date } => vec![format!("sell-{sale_date}"), "sell".to_owned()],
            ProcessKind::Participation { .. }
            | ProcessKind::Allotment
            | ProcessKind::Notice
            | ProcessKind::Statement { .. } => Vec::new(),
        }
    }

    /// Reviews a sell plan's rows; changes nothing. `previous_close`, when staff know it, makes
    /// the day's price limits exact after listing day (±30% of it) instead of a bound.
    pub async fn review_sell_plan(
        &self,
        process_id: &ProcessId,
        rows: &[RawRow],
        previous_close: Option<Price>,
    ) -> Result<SellReport, AppError> {
        Ok(self.sell_review(process_id, rows, previous_close).await?.0)
    }

    async fn sell_review(
        &self,
        process_id: &ProcessId,
        rows: &[RawRow],
        previous_close: Option<Price>,
    ) -> Result<(SellReport, super::sell_plan::Sellable, chrono::NaiveDate), AppError> {
        let loaded = self.load_process(process_id).await?;
        let ProcessKind::Sell { sale_date } = loaded.process.kind else {
            return Err(Refusal::WrongPhase(format!(
                "sell plans are for sell processes, not {}",
                loaded.process.kind.korean()
            ))
            .into());
        };
        let Some(stock) = &loaded.stock else { return Err(Refusal::NoStock.into()) };
        let work = self.stock_work(&stock.id).await?;
        // What was sold on this very date does not count against it: it is being planned.
        let sellable = Self::sellable_on(stock, &work, sale_date)
            .map_err(|e| Refusal::Invalid { field: "process".into(), reason: e.to_string() })?;
        let session = stock.final_price().map(|offer_price| Session {
            date: sale_date,
            listing: stock.schedule().dates().listing,
            offer_price,
            previous_close,
        });
        let clients = all_pages(|page| async move { self.store.list_clients(&page).await }).await?;
        let clients: Vec<_> = clients.into_iter().map(|c| c.value).filter(|c| c.active).collect();
        let day = SellDay {
            sale_date,
            session: session.as_ref(),
            sellable: &sellable.sellable,
            locked: &sellable.locked,
            regulation: Regulation::builtin(),
            calendar: KrxCalendar::builtin(),
        };
        let report = review_sell(rows, &clients, &day);
        Ok((report, sellable, sale_date))
    }

    /// Writes the accepted rows as the draft sell process's plan, one tracker per client
    /// (replacing an earlier plan). The rows are reviewed again here: a report from the caller is
    /// not trusted.
    pub async fn apply_sell_plan(
        &self,
        process_id: &ProcessId,
        rows: &[RawRow],
        partial: bool,
        previous_close: Option<Price>,
    ) -> Result<SellApplyOutcome, AppError> {
        let stored = self.store.get_process(process_id).await?;
        if stored.value.state() != ProcessState::Draft {
            return Err(StoreError::Conflict {
                entity: "process",
                id: process_id.to_string(),
                detail: format!("a sell plan can change only in draft, not {}", stored.value.state()),
            }
            .into());
        }
        let (report, sellable, sale_date) = self.sell_review(process_id, rows, previous_close).await?;
        if !report.is_clean() && !partial {
            return Ok(SellApplyOutcome::Refused(report));
        }
        let day = SellDay {
            sale_date,
            session: None,
            sellable: &sellable.sellable,
            locked: &sellable.locked,
            regulation: Regulation::builtin(),
            calendar: KrxCalendar::builtin(),
        };
        let plans = report.plans_by_client(&day).map_err(|reason| StoreError::Corrupt {
            entity: "sell plan",
            id: process_id.to_string(),
            reason,
        })?;
        let now = self.clock.now();
        let trackers: Vec<Tracker> = plans
            .into_iter()
            .map(|(client, lines)| {
                let advice = SellAdvice { sale_date, previous_close, lines };
                Tracker::new(process_id.clone(), client, Advice::Sell(advice), now)
            })
            .collect();
        if trackers.is_empty() {
            return Ok(SellApplyOutcome::Refused(report));
        }
        self.replace_draft_trackers(process_id, stored.version, &trackers).await?;
        tracing::info!(process = %process_id, clients = trackers.len(), "sell plan applied");
        Ok(SellApplyOutcome::Applied(report))
    }
}
