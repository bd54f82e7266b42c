//! What several pages read: names for ids, a process's title, the trackers waiting on clients.

use crate::app::{App, all_pages};
use crate::domain::client::Client;
use crate::domain::ids::{ClientId, ProcessId, StockId};
use crate::domain::process::{Process, ProcessKind, ProcessState};
use crate::domain::stock::Stock;
use crate::domain::tracker::{Tracker, TrackerState};
use crate::ports::store::{PageRequest, StoreError, Versioned};
use crate::web::WebError;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Clients and stocks by id, read once for a page.
#[derive(Default)]
pub struct Names {
    pub clients: HashMap<ClientId, Client>,
    pub stocks: HashMap<StockId, Stock>,
}

impl Names {
    /// The clients named, read together, and the stocks of `processes`.
    pub async fn read<'a>(
        app: &App,
        clients: impl IntoIterator<Item = &'a ClientId>,
        processes: impl IntoIterator<Item = &'a Process>,
    ) -> Result<Names, StoreError> {
        let ids: BTreeSet<ClientId> = clients.into_iter().cloned().collect();
        let ids: Vec<ClientId> = ids.into_iter().collect();
        let mut names = Names::default();
        for chunk in ids.chunks(100) {
            for c in app.store.get_clients(chunk).await? {
                names.clients.insert(c.value.id.clone(), c.value);
            }
        }
        let stocks: BTreeSet<StockId> = processes.into_iter().filter_map(|p| p.stock_id.clone()).collect();
        // A few stocks are read one by one; more, as the whole list (two pages for a year's IPOs).
        if stocks.len() > 8 {
            let all = all_pages(|page| async move { app.store.list_stocks(&page).await }).await?;
            names.stocks = all
                .into_iter()
                .map(|s| s.value)
                .filter(|s| stocks.contains(&s.id))
                .map(|s| (s.id.clone(), s))
                .collect();
        } else {
            for id in stocks {
                match app.store.get_stock(&id).await {
                    Ok(s) => {
                        names.stocks.insert(id, s.value);
                    }
                    Err(StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(names)
    }

    pub fn client(&self, id: &ClientId) -> String {
        self.clients.get(id).map_or_else(|| id.to_string(), |c| c.name.to_string())
    }

    /// `(가상)한빛로보틱스 · 수요예측 참여 (첫날)`; a notice by its kind alone.
    pub fn process_title(&self, process: &Process) -> String {
        let stock = process
            .stock_id
            .as_ref()
            .map(|id| self.stocks.get(id).map_or_else(|| id.to_string(), |s| s.name.to_string()));
        match (stock, process.kind) {
            (Some(stock), kind) => format!("{stock} · {}", crate::domain::templates::kind_title(kind)),
            (None, ProcessKind::Notice) => ProcessKind::Notice.korean().to_owned(),
            (None, kind) => crate::domain::templates::kind_title(kind),
        }
    }
}

/// Each process's tracker counts by state ([`App::state_counts`]), read several at once; a draft
/// keeps none (they would be counted from every tracker), so it shows as not started.
pub async fn counts_of(app: &Arc<App>, processes: &[Process]) -> Result<Vec<Vec<(TrackerState, usize)>>, WebError> {
    let mut reads = tokio::task::JoinSet::new();
    for (i, p) in processes.iter().enumerate().filter(|(_, p)| p.state() != ProcessState::Draft) {
        let (app, id) = (app.clone(), p.id.clone());
        reads.spawn(async move { (i, app.state_counts(&id).await) });
    }
    let mut counts = vec![Vec::new(); processes.len()];
    while let Some(joined) = reads.join_next().await {
        let (i, read) = joined
            .map_err(|e| WebError { status: axum::http::StatusCode::INTERNAL_SERVER_ERROR, detail: e.to_string() })?;
        if let Some(slot) = counts.get_mut(i) {
            *slot = read?;
        }
    }
    Ok(counts)
}

/// Every process, by kickoff time.
pub async fn all_processes(app: &App) -> Result<Vec<Versioned<Process>>, StoreError> {
    all_pages(|page| async move { app.store.list_processes(&page).await }).await
}

/// Open trackers in `state`, longest waiting first.
pub async fn open_in_state(app: &App, state: TrackerState) -> Result<Vec<Versioned<Tracker>>, StoreError> {
    all_pages(|page| async move { app.store.trackers_in_state(state, &page).await }).await
}

/// The trackers still waiting on their clients across open processes, the longest waiting first:
/// at most `limit` of them (`None`: all), and whether more are waiting. Each state's open trackers
/// are kept longest waiting first, so only the first pages of each are read for a page that shows
/// the oldest.
pub async fn silent(
    app: &App,
    processes: &HashMap<ProcessId, Process>,
    limit: Option<usize>,
) -> Result<(Vec<Tracker>, bool), StoreError> {
    let mut waiting = Vec::new();
    let mut more = false;
    for state in [TrackerState::Sent, TrackerState::Acknowledged] {
        let mut taken = 0;
        let mut request = PageRequest::first(100);
        loop {
            let page = app.store.trackers_in_state(state, &request).await?;
            for t in page.items {
                let open = processes.get(&t.value.process_id).is_some_and(|p| !p.state().is_final());
                if open && t.value.awaits_client() {
                    if limit.is_some_and(|l| taken >= l) {
                        more = true;
                        break;
                    }
                    taken += 1;
                    waiting.push(t.value);
                }
            }
            match page.next {
                Some(cursor) if limit.is_none_or(|l| taken < l) => request = PageRequest::after(100, cursor),
                Some(_) => {
                    more = true;
                    break;
                }
                None => break,
            }
        }
    }
    waiting.sort_by_key(Tracker::state_since);
    if let Some(limit) = limit
        && waiting.len() > limit
    {
        waiting.truncate(limit);
        more = true;
    }
    Ok((waiting, more))
}
