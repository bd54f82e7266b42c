//! What the earlier phases of a stock settled, per client, read once for a later phase: the bids
//! staff confirmed in book-building.

use super::{App, AppError, all_pages};
use crate::domain::ids::{ClientId, StockId};
use crate::domain::phase::Answer;
use crate::domain::phase::bid::BidAnswer;
use crate::domain::process::{ProcessKind, ProcessState};
use crate::domain::tracker::TrackerState;
use std::collections::BTreeMap;

impl App {
    /// Each client's bid for `stock` as confirmed in the latest participation round it answered:
    /// a client silent on the last day keeps the bid it made on the first.
    pub(crate) async fn confirmed_bids(&self, stock: &StockId) -> Result<BTreeMap<ClientId, BidAnswer>, AppError> {
        let processes = all_pages(|page| async move { self.store.processes_of_stock(stock, &page).await }).await?;
        let mut bids = BTreeMap::new();
        // Listed by kickoff time, so a later round's bid replaces an earlier one.
        for process in processes {
            let process = process.value;
            let participation = match process.kind {
                ProcessKind::Participation { .. } => true,
                ProcessKind::Allotment
                | ProcessKind::Notice
                | ProcessKind::Sell { .. }
                | ProcessKind::Statement { .. } => false,
            };
            if !participation || process.state() == ProcessState::Cancelled {
                continue;
            }
            for tracker in self.store.trackers_of_process(&process.id).await? {
                let tracker = tracker.value;
                if tracker.state() != TrackerState::Confirmed {
                    continue;
                }
                match tracker.answer() {
                    Some(Answer::Bid(bid)) => {
                        bids.insert(tracker.client_id.clone(), bid.clone());
                    }
                    Some(Answer::Allotment(_) | Answer::Sell(_) | Answer::Statement(_)) | None => {}
                }
            }
        }
        Ok(bids)
    }
}
