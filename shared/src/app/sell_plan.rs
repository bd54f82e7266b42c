//! Phases 3 and 4's processes, proposed from the phases before them. A stock's confirmed
//! allotments say which fund may first sell how many shares on which day (listing day for shares
//! with no lock-up, then each release date), so the firm gets one draft sell process per sale
//! date with its audience, kicking off at 08:00 KST (before the 08:30 pre-open). When every
//! execution report of a sell process is confirmed, the statements of the funds that sold are
//! asked for at T+2 (scheduled at once: staff expect the statements to be chased without another
//! step, and can unschedule it). When the last statement is confirmed, the staff group gets the
//! IPO's result.

use super::{App, AppError, Refusal, all_pages};
use crate::domain::calendar::KrxCalendar;
use crate::domain::ids::{ClientId, FundId, ProcessId, StockId};
use crate::domain::lockup::LockUp;
use crate::domain::money::Quantity;
use crate::domain::phase::allotment::{AllotmentAnswer, Allotted, Release};
use crate::domain::phase::sell::{EarlierSale, sellable};
use crate::domain::phase::statement::StatementAdvice;
use crate::domain::phase::{Advice, Answer};
use crate::domain::process::{Process, ProcessAction, ProcessKind, ProcessState, ReminderPolicy};
use crate::domain::regulation::{Regulation, RegulationError};
use crate::domain::stock::{Schedule, Stock};
use crate::domain::templates;
use crate::domain::time::{Timestamp, format_kst};
use crate::domain::tracker::{Tracker, TrackerState};
use crate::ports::scheduler::Job;
use crate::ports::store::StoreError;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use tracing::Instrument;

/// One fund's shares that unlock on a sale date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlocking {
    pub fund_id: FundId,
    pub quantity: Quantity,
}

/// A sale date and who may first sell on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleDay {
    /// The lock-up whose shares unlock that day (미확약: listing day).
    pub lockup: LockUp,
    pub date: NaiveDate,
    pub clients: BTreeMap<ClientId, Vec<Unlocking>>,
}

/// The sale dates of a stock listed on `listing`, from each client's confirmed allotment, in date
/// order: one per lock-up some fund was allotted under. The dates are computed afresh from the
/// listing date in force (an amendment after the allotments were confirmed moves them), by the
/// dated release rule.
pub fn sale_days(
    allotments: &BTreeMap<ClientId, AllotmentAnswer>,
    listing: NaiveDate,
    regulation: &Regulation,
    calendar: &KrxCalendar,
) -> Result<Vec<SaleDay>, RegulationError> {
    let mut by_lockup: BTreeMap<LockUp, BTreeMap<ClientId, Vec<Unlocking>>> = BTreeMap::new();
    for (client, answer) in allotments {
        for line in answer.lines.iter() {
            if let Allotted::Shares { quantity, lockup } = line.allotted {
                by_lockup
                    .entry(lockup)
                    .or_default()
                    .entry(client.clone())
                    .or_default()
                    .push(Unlocking { fund_id: line.fund_id.clone(), quantity });
            }
        }
    }
    let mut days = by_lockup
        .into_iter()
        .map(|(lockup, clients)| {
            Ok(SaleDay { lockup, date: regulation.first_sale_date(lockup, listing, calendar)?, clients })
        })
        .collect::<Result<Vec<_>, RegulationError>>()?;
    days.sort_by_key(|d| (d.date, d.lockup));
    Ok(days)
}

/// A short, stable name for a lock-up in process ids: `listing`, `15d`, `1m`, `3m`, `6m`.
pub fn lockup_slug(lockup: LockUp) -> &'static str {
    match lockup {
        LockUp::None => "listing",
        LockUp::Days15 => "15d",
        LockUp::Months1 => "1m",
        LockUp::Months3 => "3m",
        LockUp::Months6 => "6m",
    }
}

/// A fund whose shares unlock on a proposed sale date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnlockingFund {
    pub fund_id: FundId,
    pub fund_name: String,
    /// Shares released that day.
    pub quantity: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnlockingClient {
    pub client_id: ClientId,
    pub name: String,
    pub funds: Vec<UnlockingFund>,
}

/// What became of a proposed sale date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Proposal {
    /// A draft sell process was created now.
    Created,
    /// A sell process for that date was already there (left as it is).
    Exists,
    /// A dry run: it would be created.
    WouldCreate,
}

/// One sale date of a stock, its sell process and its audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProposedSale {
    pub process_id: ProcessId,
    #[schema(value_type = String, format = Date)]
    pub sale_date: NaiveDate,
    /// The lock-up released that day: 미확약 on listing day.
    #[schema(value_type = String)]
    pub lockup: LockUp,
    #[schema(value_type = String, format = DateTime)]
    pub kickoff_at: Timestamp,
    pub proposal: Proposal,
    /// The clients whose shares unlock that day (shares left unsold earlier carry to later plans).
    pub clients: Vec<UnlockingClient>,
}

/// What each fund may sell on a date, and why a fund with shares may sell none.
#[derive(Debug, Clone, Default)]
pub struct Sellable {
    pub sellable: BTreeMap<(ClientId, FundId), u64>,
    pub locked: BTreeMap<(ClientId, FundId), String>,
}

impl App {
    /// The non-cancelled processes of a stock with their trackers, by kickoff time.
    pub(crate) async fn stock_work(&self, stock: &StockId) -> Result<Vec<(Process, Vec<Tracker>)>, AppError> {
        let processes = all_pages(|page| async move { self.store.processes_of_stock(stock, &page).await }).await?;
        let mut out = Vec::new();
        for p in processes {
            if p.value.state() == ProcessState::Cancelled {
                continue;
            }
            let trackers = self.store.trackers_of_process(&p.value.id).await?.into_iter().map(|t| t.value).collect();
            out.push((p.value, trackers));
        }
        Ok(out)
    }

    /// Each client's allotment for `stock` as confirmed in its latest allotment check.
    pub(crate) fn allotments_in(work: &[(Process, Vec<Tracker>)]) -> BTreeMap<ClientId, AllotmentAnswer> {
        let mut out = BTreeMap::new();
        for (process, trackers) in work {
            if process.kind != ProcessKind::Allotment {
                continue;
            }
            for t in trackers.iter().filter(|t| t.state() == TrackerState::Confirmed) {
                if let Some(Answer::Allotment(a)) = t.answer() {
                    out.insert(t.client_id.clone(), a.clone());
                }
            }
        }
        out
    }

    /// Each fund's confirmed sales of the stock (from confirmed execution reports), as dated sales.
    pub(crate) fn confirmed_sales(work: &[(Process, Vec<Tracker>)]) -> BTreeMap<ClientId, Vec<EarlierSale>> {
        let mut out: BTreeMap<ClientId, Vec<EarlierSale>> = BTreeMap::new();
        for (process, trackers) in work {
            let ProcessKind::Sell { sale_date } = process.kind else { continue };
            for t in trackers.iter().filter(|t| t.state() == TrackerState::Confirmed) {
                if let Some(Answer::Sell(a)) = t.answer() {
                    for line in a.lines.iter() {
                        out.entry(t.client_id.clone()).or_default().push(EarlierSale {
                            fund_id: line.fund_id.clone(),
                            date: sale_date,
                            quantity: line.execution.sold(),
                        });
                    }
                }
            }
        }
        out
    }

    /// What each allotted fund may sell on `date`: released by then (dates from the listing date
    /// in force), less its confirmed sales before that date.
    pub(crate) fn sellable_on(
        stock: &Stock,
        work: &[(Process, Vec<Tracker>)],
        date: NaiveDate,
    ) -> Result<Sellable, RegulationError> {
        let listing = stock.schedule().dates().listing;
        let (reg, cal) = (Regulation::builtin(), KrxCalendar::builtin());
        let sales = Self::confirmed_sales(work);
        let mut out = Sellable::default();
        for (client, allotment) in Self::allotments_in(work) {
            let mut releases = Vec::new();
            for line in allotment.lines.iter() {
                if let Allotted::Shares { quantity, lockup } = line.allotted {
                    let released = reg.first_sale_date(lockup, listing, cal)?;
                    releases.push(Release { fund_id: line.fund_id.clone(), quantity, lockup, date: released });
                }
            }
            let earlier = sales.get(&client).map(Vec::as_slice).unwrap_or_default();
            for r in &releases {
                let key = (client.clone(), r.fund_id.clone());
                let n = sellable(&r.fund_id, date, &releases, earlier);
                if n > 0 {
                    out.sellable.insert(key, n);
                } else if r.date > date {
                    out.locked.insert(key, format!("locked until {} ({})", r.date, r.lockup.korean()));
                } else {
                    out.locked.insert(key, "its released shares were sold on earlier sale dates".to_owned());
                }
            }
        }
        Ok(out)
    }

    /// One draft sell process per sale date of the stock, each with the clients whose shares
    /// unlock that day; a date that already has a sell process keeps it. `dry_run` only says.
    pub async fn propose_sell_processes(
        &self,
        stock_id: &StockId,
        dry_run: bool,
    ) -> Result<Vec<ProposedSale>, AppError> {
        let stock = self.store.get_stock(stock_id).await?.value;
        if stock.final_price().is_none() {
            return Err(Refusal::NoFinalPrice { stock: stock.name.to_string() }.into());
        }
        let work = self.stock_work(stock_id).await?;
        let allotments = Self::allotments_in(&work);
        if allotments.is_empty() {
            return Err(Refusal::WrongPhase(format!(
                "{} has no confirmed allotment yet: sell processes follow from the allotment check",
                stock.name
            ))
            .into());
        }
        let days =
            sale_days(&allotments, stock.schedule().dates().listing, Regulation::builtin(), KrxCalendar::builtin())
                .map_err(|e| Refusal::Invalid { field: "stock".into(), reason: e.to_string() })?;
        let clients = all_pages(|page| async move { self.store.list_clients(&page).await }).await?;
        let now = self.clock.now();
        let mut out = Vec::new();
        for day in days {
            let kind = ProcessKind::Sell { sale_date: day.date };
            let kickoff_at = kind.default_kickoff(stock.schedule(), KrxCalendar::builtin()).unwrap_or(now);
            let audience = day
                .clients
                .iter()
                .map(|(id, funds)| {
                    let client = clients.iter().map(|c| &c.value).find(|c| &c.id == id);
                    UnlockingClient {
                        client_id: id.clone(),
                        name: client.map_or_else(|| id.to_string(), |c| c.name.to_string()),
                        funds: funds
                            .iter()
                            .map(|u| UnlockingFund {
                                fund_id: u.fund_id.clone(),
                                fund_name: client
                                    .and_then(|c| c.fund(&u.fund_id))
                                    .map_or_else(|| u.fund_id.to_string(), |f| f.name.to_string()),
                                quantity: u.quantity.get(),
                            })
                            .collect(),
                    }
                })
                .collect();
            let existing = work.iter().find(|(p, _)| p.kind == kind).map(|(p, _)| p.clone());
            let (process_id, kickoff_at, proposal) = match existing {
                Some(p) => (p.id, p.kickoff_at, Proposal::Exists),
                None => {
                    let id = format!("{stock_id}-sell-{}", lockup_slug(day.lockup))
                        .parse()
                        .unwrap_or_else(|_| ProcessId::generate());
                    if dry_run {
                        (id, kickoff_at, Proposal::WouldCreate)
                    } else {
                        let process =
                            Process::new(id, Some(stock_id.clone()), kind, kickoff_at, ReminderPolicy::default(), now);
                        let created = self.store.create_process(&process).await?;
                        tracing::info!(process = %created.value.id, sale_date = %day.date, "sell process proposed");
                        (created.value.id, kickoff_at, Proposal::Created)
                    }
                }
            };
            out.push(ProposedSale {
                process_id,
                sale_date: day.date,
                lockup: day.lockup,
                kickoff_at,
                proposal,
                clients: audience,
            });
        }
        Ok(out)
    }

    /// After an amendment: sell and statement processes not started move with the listing date.
    /// A sell process on the sale date a lock-up had under the old listing date moves to the one it
    /// has now (its kickoff too, when it was the default; its drafts' advice carries the new date);
    /// a statement process follows its sale. Returns how many moved.
    pub(crate) async fn move_sale_dates(&self, stock: &Stock, old: &Schedule) -> Result<usize, AppError> {
        let (reg, cal) = (Regulation::builtin(), KrxCalendar::builtin());
        let (was, now_listing) = (old.dates().listing, stock.schedule().dates().listing);
        if was == now_listing {
            return Ok(0);
        }
        let mut moves: BTreeMap<NaiveDate, NaiveDate> = BTreeMap::new();
        for lockup in LockUp::ALL {
            if let (Ok(from), Ok(to)) =
                (reg.first_sale_date(lockup, was, cal), reg.first_sale_date(lockup, now_listing, cal))
            {
                moves.insert(from, to);
            }
        }
        let processes = all_pages(|page| async move { self.store.processes_of_stock(&stock.id, &page).await }).await?;
        let mut moved = 0;
        for stored in processes {
            let p = &stored.value;
            if !matches!(p.state(), ProcessState::Draft | ProcessState::Scheduled) {
                continue;
            }
            let moved_to = |from: NaiveDate| moves.get(&from).copied().filter(|to| *to != from);
            let (from, to, new_kind) = match p.kind {
                ProcessKind::Sell { sale_date } => match moved_to(sale_date) {
                    Some(to) => (sale_date, to, ProcessKind::Sell { sale_date: to }),
                    None => continue,
                },
                ProcessKind::Statement { sale_date } => match moved_to(sale_date) {
                    Some(to) => (sale_date, to, ProcessKind::Statement { sale_date: to }),
                    None => continue,
                },
                ProcessKind::Participation { .. } | ProcessKind::Allotment | ProcessKind::Notice => continue,
            };
            let old_default = p.kind.default_kickoff(old, cal);
            let mut updated = p.clone();
            updated.kind = new_kind;
            if Some(p.kickoff_at) == old_default
                && let Some(kickoff) = new_kind.default_kickoff(stock.schedule(), cal)
            {
                updated.kickoff_at = kickoff;
            }
            // Its trackers' advice names the sale date the clients will read; they change only in
            // draft, so a scheduled process goes back to draft for the moment it takes.
            let scheduled = p.state() == ProcessState::Scheduled;
            if scheduled {
                updated.apply(ProcessAction::Unschedule)?;
                self.scheduler.cancel(&Job::kickoff(&p.id, p.kickoff_at).name).await?;
            }
            let mut saved = self.store.update_process(&updated, stored.version).await?;
            let trackers = self.store.trackers_of_process(&p.id).await?;
            if !trackers.is_empty() {
                let now = self.clock.now();
                let redated: Vec<Tracker> = trackers
                    .into_iter()
                    .map(|t| {
                        let advice = match t.value.advice().clone() {
                            Advice::Sell(mut a) => {
                                a.sale_date = to;
                                Advice::Sell(a)
                            }
                            other => other,
                        };
                        Tracker::new(p.id.clone(), t.value.client_id.clone(), advice, now)
                    })
                    .collect();
                self.store.save_draft_trackers(&p.id, saved.version, &redated).await?;
                saved = self.store.get_process(&p.id).await?;
            }
            if scheduled {
                let mut again = saved.value.clone();
                again.apply(ProcessAction::Schedule)?;
                self.scheduler.schedule(&Job::kickoff(&p.id, again.kickoff_at)).await?;
                self.store.update_process(&again, saved.version).await?;
            }
            tracing::info!(process = %p.id, from = %from, "sale date moved with the listing date");
            moved += 1;
        }
        Ok(moved)
    }

    /// What a confirmation settles beyond its tracker: a sell process whose execution reports are
    /// all confirmed asks for its statements at T+2; a stock whose last statement is confirmed
    /// gets its result summarised to staff. Failures are logged, never the confirmation's.
    /// `process` is the confirmation's own, as it loaded it: only its id, kind, stock and policy
    /// are read, which do not change.
    pub(crate) async fn after_confirm(&self, process: &Process) {
        let span = tracing::info_span!("after_confirm", process = %process.id);
        if let Err(e) = self.settle(process).instrument(span).await {
            tracing::error!(process = %process.id, error = %e, "follow-up of a confirmation failed");
        }
    }

    async fn settle(&self, process: &Process) -> Result<(), AppError> {
        let Some(stock_id) = &process.stock_id else { return Ok(()) };
        match process.kind {
            ProcessKind::Sell { sale_date } => self.ask_statements(process, stock_id, sale_date).await,
            ProcessKind::Statement { .. } => self.summarise_if_done(stock_id).await,
            ProcessKind::Participation { .. } | ProcessKind::Allotment | ProcessKind::Notice => Ok(()),
        }
    }

    async fn ask_statements(&self, sell: &Process, stock_id: &StockId, sale_date: NaiveDate) -> Result<(), AppError> {
        let trackers = self.store.trackers_of_process(&sell.id).await?;
        // Settled: confirmed, or a client staff chose not to chase (its sale is not asked about).
        if trackers.is_empty() || trackers.iter().any(|t| !settled(t.value.state())) {
            return Ok(());
        }
        let kind = ProcessKind::Statement { sale_date };
        // Only whether the date has its statement process already: the processes, not their trackers.
        let processes = all_pages(|page| async move { self.store.processes_of_stock(stock_id, &page).await }).await?;
        if processes.iter().any(|p| p.value.kind == kind && p.value.state() != ProcessState::Cancelled) {
            return Ok(());
        }
        let stock = self.store.get_stock(stock_id).await?.value;
        let now = self.clock.now();
        let id: ProcessId = format!("{}-statement", sell.id).parse().unwrap_or_else(|_| ProcessId::generate());
        let new_trackers: Vec<Tracker> = trackers
            .iter()
            .filter_map(|t| match t.value.answer() {
                Some(Answer::Sell(answer)) => StatementAdvice::from_execution(answer, sale_date, stock.market)
                    .map(|advice| Tracker::new(id.clone(), t.value.client_id.clone(), Advice::Statement(advice), now)),
                _ => None,
            })
            .collect();
        if new_trackers.is_empty() {
            self.notify_staff(templates::result::nothing_sold(stock.name.as_str(), sale_date)).await;
            return Ok(());
        }
        let kickoff = kind.default_kickoff(stock.schedule(), KrxCalendar::builtin()).unwrap_or(now);
        let process = Process::new(id.clone(), Some(stock_id.clone()), kind, kickoff, sell.policy, now);
        let created = match self.store.create_process(&process).await {
            Ok(created) => created,
            // Two confirmations finishing at once: the other one made it.
            Err(StoreError::AlreadyExists { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        self.store.save_draft_trackers(&id, created.version, &new_trackers).await?;
        let scheduled = match self.schedule_process(&id).await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(process = %id, error = %e, "statement process left in draft");
                false
            }
        };
        tracing::info!(process = %id, clients = new_trackers.len(), scheduled, "statements asked for");
        self.notify_staff(templates::result::statements_planned(
            stock.name.as_str(),
            sale_date,
            &format_kst(kickoff),
            new_trackers.len(),
            scheduled,
        ))
        .await;
        Ok(())
    }

    /// Tells staff the stock's result once nothing is left to confirm: every sell and statement
    /// process (not cancelled) has trackers and all are confirmed, and every sale date that sold
    /// has its statements confirmed.
    async fn summarise_if_done(&self, stock_id: &StockId) -> Result<(), AppError> {
        let work = self.stock_work(stock_id).await?;
        let mut sell_dates = Vec::new();
        let mut statement_dates = Vec::new();
        for (process, trackers) in &work {
            // A process with no trackers yet (a proposed sale date whose plan is still to come) is
            // work left, not work done.
            let all_confirmed = !trackers.is_empty() && trackers.iter().all(|t| settled(t.state()));
            match process.kind {
                ProcessKind::Sell { sale_date } => {
                    if !all_confirmed {
                        return Ok(());
                    }
                    let sold = trackers.iter().any(|t| {
                        matches!(t.answer(), Some(Answer::Sell(a)) if a.lines.iter().any(|l| l.execution.sold() > 0))
                    });
                    if sold {
                        sell_dates.push(sale_date);
                    }
                }
                ProcessKind::Statement { sale_date } => {
                    if !all_confirmed {
                        return Ok(());
                    }
                    statement_dates.push(sale_date);
                }
                ProcessKind::Participation { .. } | ProcessKind::Allotment | ProcessKind::Notice => {}
            }
        }
        if sell_dates.iter().any(|d| !statement_dates.contains(d)) {
            return Ok(());
        }
        let result = self.result_of(stock_id, &work).await?;
        self.notify_staff(templates::result::summary(&result)).await;
        Ok(())
    }
}

/// A tracker nothing more is expected of: confirmed, or skipped by staff.
fn settled(state: TrackerState) -> bool {
    matches!(state, TrackerState::Confirmed | TrackerState::Skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::phase::FundLines;
    use crate::domain::phase::allotment::AllotmentLine;

    fn answer(lines: &[(&str, Option<(u64, LockUp)>)]) -> AllotmentAnswer {
        let lines = lines
            .iter()
            .map(|(fund, allotted)| AllotmentLine {
                fund_id: fund.parse().unwrap(),
                allotted: match allotted {
                    Some((q, l)) => Allotted::Shares { quantity: Quantity::new(*q).unwrap(), lockup: *l },
                    None => Allotted::None,
                },
            })
            .collect();
        AllotmentAnswer::new(FundLines::new(lines).unwrap())
    }

    #[test]
    fn the_demo_allotments_make_three_sale_days() {
        // As phases_demo confirms them for (가상)한빛로보틱스, listed Tuesday 2026-04-07.
        let allotments: BTreeMap<ClientId, AllotmentAnswer> = [
            ("saebyeok", answer(&[("hy", Some((12_000, LockUp::None))), ("pv-kv", None)])),
            ("nuri", answer(&[("kv", Some((61_500, LockUp::Months3)))])),
            ("gaon", answer(&[("ipo", Some((500_000, LockUp::Months1)))])),
            ("dasom", answer(&[("hedge", Some((50_000, LockUp::None)))])),
        ]
        .into_iter()
        .map(|(c, a)| (c.parse().unwrap(), a))
        .collect();
        let days = sale_days(&allotments, "2026-04-07".parse().unwrap(), Regulation::builtin(), KrxCalendar::builtin())
            .unwrap();
        let summary: Vec<(String, LockUp, Vec<String>)> = days
            .iter()
            .map(|d| (d.date.to_string(), d.lockup, d.clients.keys().map(ToString::to_string).collect()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("2026-04-07".into(), LockUp::None, vec!["dasom".into(), "saebyeok".into()]),
                ("2026-05-07".into(), LockUp::Months1, vec!["gaon".into()]),
                ("2026-07-07".into(), LockUp::Months3, vec!["nuri".into()]),
            ]
        );
        assert_eq!(days[0].clients[&"saebyeok".parse::<ClientId>().unwrap()][0].quantity.get(), 12_000);
        // Moved by an amendment: listed a week later, every date moves with it.
        let moved =
            sale_days(&allotments, "2026-04-14".parse().unwrap(), Regulation::builtin(), KrxCalendar::builtin())
                .unwrap();
        assert_eq!(moved[1].date.to_string(), "2026-05-14");
    }
}
