//! An offering's changes reaching its processes: an amended schedule (정정신고서) moves the kickoffs
//! still to come; a withdrawal (철회) cancels everything and tells the clients who had advice.

use super::{App, AppError, Outgoing, all_pages};
use crate::domain::calendar::KrxCalendar;
use crate::domain::ids::StockId;
use crate::domain::money::Price;
use crate::domain::process::{ProcessAction, ProcessState};
use crate::domain::stock::{Schedule, Stock};
use crate::domain::templates;
use crate::domain::time::kst_date;
use crate::ports::scheduler::Job;
use crate::ports::store::{StoreError, Versioned};

impl App {
    /// Sets the final offer price (확정 공모가), once book-building is over (KST); refused for a
    /// withdrawn stock.
    pub async fn set_final_price(
        &self,
        stock_id: &StockId,
        price: Price,
        expected_version: u64,
    ) -> Result<Versioned<Stock>, AppError> {
        let mut stock = self.store.get_stock(stock_id).await?.value;
        stock.set_final_price(price, kst_date(self.clock.now()))?;
        Ok(self.store.update_stock(&stock, expected_version).await?)
    }

    /// Replaces the stock's schedule. Processes not started whose kickoff was their round's default
    /// move with it (jobs rescheduled); a kickoff staff set by hand stays. Returns how many moved.
    pub async fn amend_schedule(
        &self,
        stock_id: &StockId,
        schedule: Schedule,
        expected_version: u64,
    ) -> Result<(Versioned<Stock>, usize), AppError> {
        let mut stock = self.store.get_stock(stock_id).await?.value;
        let old = *stock.schedule();
        stock.amend_schedule(schedule)?;
        let saved = self.store.update_stock(&stock, expected_version).await?;
        let calendar = KrxCalendar::builtin();
        let mut moved = 0;
        for process in self.processes_of(stock_id).await? {
            let p = &process.value;
            if !matches!(p.state(), ProcessState::Draft | ProcessState::Scheduled) {
                continue;
            }
            let (Some(was), Some(now)) =
                (p.kind.default_kickoff(&old, calendar), p.kind.default_kickoff(saved.value.schedule(), calendar))
            else {
                continue;
            };
            if p.kickoff_at != was || was == now {
                continue;
            }
            let mut updated = p.clone();
            updated.kickoff_at = now;
            self.store.update_process(&updated, process.version).await?;
            if p.state() == ProcessState::Scheduled {
                self.scheduler.cancel(&Job::kickoff(&p.id, was).name).await?;
                self.scheduler.schedule(&Job::kickoff(&p.id, now)).await?;
            }
            moved += 1;
        }
        // Sell and statement processes carry their sale date, which the listing date moves.
        moved += self.move_sale_dates(&saved.value, &old).await?;
        self.notify_staff(templates::staff_schedule_amended(saved.value.name.as_str(), moved)).await;
        Ok((saved, moved))
    }

    /// Withdraws the offering: every process not finished is cancelled (its jobs with it), clients
    /// that were sent advice are told, and staff are told.
    pub async fn withdraw_stock(
        &self,
        stock_id: &StockId,
        expected_version: u64,
    ) -> Result<Versioned<Stock>, AppError> {
        // Clients with advice are told of a withdrawal, which the emergency stop would hold and
        // nothing would send later: refused until the bot runs (pausing processes is not).
        self.refuse_if_stopped().await?;
        let mut stock = self.store.get_stock(stock_id).await?.value;
        stock.withdraw();
        let saved = self.store.update_stock(&stock, expected_version).await?;
        let mut told = 0;
        for process in self.processes_of(stock_id).await? {
            if process.value.state().is_final() {
                continue;
            }
            self.control_process(&process.value.id, ProcessAction::Cancel).await?;
            for tracker in self.store.trackers_of_process(&process.value.id).await? {
                if !tracker.value.is_open() || tracker.value.state() == crate::domain::tracker::TrackerState::Pending {
                    continue;
                }
                let client = self.store.get_client(&tracker.value.client_id).await?.value;
                let Some(chat) = client.reachable_chat() else { continue };
                let notice = Outgoing {
                    client: Some(client.id.clone()),
                    process: Some(process.value.id.clone()),
                    reply_to: tracker.value.message_ids().first().copied(),
                    ..Outgoing::text(chat, templates::withdrawn(saved.value.name.as_str()))
                };
                match self.deliver(&notice).await {
                    Ok(_) => told += 1,
                    Err(e) => tracing::error!(client = %client.id, error = %e, "withdrawal notice not delivered"),
                }
            }
        }
        self.notify_staff(templates::staff_withdrawn(saved.value.name.as_str(), told)).await;
        Ok(saved)
    }

    async fn processes_of(
        &self,
        stock_id: &StockId,
    ) -> Result<Vec<Versioned<crate::domain::process::Process>>, StoreError> {
        all_pages(|page| async move { self.store.processes_of_stock(stock_id, &page).await }).await
    }
}
