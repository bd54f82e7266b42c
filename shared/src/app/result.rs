//! An IPO's result, gathered from the confirmed answers of its phases: the allotments (phase 2),
//! each sale date's plan and execution report (phase 3) and the statements (phase 4). The
//! arithmetic is [`StockResult::compute`]'s.

use super::{App, AppError, Refusal, all_pages};
use crate::domain::ids::{ClientId, FundId, StockId};
use crate::domain::phase::allotment::Allotted;
use crate::domain::phase::sell::Execution;
use crate::domain::phase::{Advice, Answer};
use crate::domain::process::{Process, ProcessKind};
use crate::domain::result::{AdvisedFacts, FundFacts, SaleFacts, StatementFacts, StockResult};
use crate::domain::stock::Stock;
use crate::domain::tracker::{Tracker, TrackerState};
use chrono::NaiveDate;
use std::collections::BTreeMap;

impl App {
    /// The stock's result from what staff confirmed so far.
    pub async fn stock_result(&self, stock_id: &StockId) -> Result<StockResult, AppError> {
        let stock = self.store.get_stock(stock_id).await?.value;
        self.result_from(&stock, &self.stock_work(stock_id).await?).await
    }

    /// The result from the stock's processes and trackers the caller read ([`App::stock_work`]).
    pub(crate) async fn result_of(
        &self,
        stock_id: &StockId,
        work: &[(Process, Vec<Tracker>)],
    ) -> Result<StockResult, AppError> {
        self.result_from(&self.store.get_stock(stock_id).await?.value, work).await
    }

    async fn result_from(&self, stock: &Stock, work: &[(Process, Vec<Tracker>)]) -> Result<StockResult, AppError> {
        let Some(offer) = stock.final_price() else {
            return Err(Refusal::NoFinalPrice { stock: stock.name.to_string() }.into());
        };
        let stock_id = &stock.id;
        let allotments = Self::allotments_in(work);
        let mut sales = Sales::new();
        for (process, trackers) in work {
            match process.kind {
                ProcessKind::Sell { sale_date } => {
                    for t in trackers {
                        if let Advice::Sell(advice) = t.advice() {
                            for line in advice.lines.iter() {
                                slot(&mut sales, &t.client_id, &line.fund_id, sale_date).advised = Some(AdvisedFacts {
                                    summary: crate::domain::templates::sell::summary(line),
                                    quantity: line.advised_quantity(),
                                    floor_price: line.floor_price().map(|p| p.get()),
                                });
                            }
                        }
                        let (TrackerState::Confirmed, Some(Answer::Sell(answer))) = (t.state(), t.answer()) else {
                            continue;
                        };
                        for line in answer.lines.iter() {
                            slot(&mut sales, &t.client_id, &line.fund_id, sale_date).reported =
                                Some(match line.execution {
                                    Execution::Sold { quantity, average_price } => {
                                        (quantity.get(), average_price.get())
                                    }
                                    Execution::NotSold { .. } => (0, 0),
                                });
                        }
                    }
                }
                ProcessKind::Statement { sale_date } => {
                    for t in trackers {
                        let (TrackerState::Confirmed, Some(Answer::Statement(answer))) = (t.state(), t.answer()) else {
                            continue;
                        };
                        for line in answer.lines.iter() {
                            slot(&mut sales, &t.client_id, &line.fund_id, sale_date).statement = Some(StatementFacts {
                                quantity: line.quantity.get(),
                                gross: line.gross.get(),
                                commission: line.commission.get(),
                                tax: line.tax.get(),
                            });
                        }
                    }
                }
                ProcessKind::Participation { .. } | ProcessKind::Allotment | ProcessKind::Notice => {}
            }
        }
        let clients = all_pages(|page| async move { self.store.list_clients(&page).await }).await?;
        let mut facts = Vec::new();
        for (client_id, allotment) in &allotments {
            let client = clients.iter().map(|c| &c.value).find(|c| &c.id == client_id);
            for line in allotment.lines.iter() {
                let Allotted::Shares { quantity, lockup } = line.allotted else { continue };
                let key = (client_id.clone(), line.fund_id.clone());
                facts.push(FundFacts {
                    client_id: client_id.clone(),
                    client_name: client.map_or_else(|| client_id.to_string(), |c| c.name.to_string()),
                    fund_id: line.fund_id.clone(),
                    fund_name: client
                        .and_then(|c| c.fund(&line.fund_id))
                        .map_or_else(|| line.fund_id.to_string(), |f| f.name.to_string()),
                    allotted: quantity.get(),
                    lockup,
                    sales: sales.remove(&key).map(|by_date| by_date.into_values().collect()).unwrap_or_default(),
                });
            }
        }
        Ok(StockResult::compute(stock_id.clone(), stock.name.to_string(), offer.get(), &facts))
    }
}

type Sales = BTreeMap<(ClientId, FundId), BTreeMap<NaiveDate, SaleFacts>>;

/// The facts of one fund's sale date, blank until something is known of it.
fn slot<'a>(sales: &'a mut Sales, client: &ClientId, fund: &FundId, date: NaiveDate) -> &'a mut SaleFacts {
    sales.entry((client.clone(), fund.clone())).or_default().entry(date).or_insert_with(|| SaleFacts {
        date,
        advised: None,
        reported: None,
        statement: None,
    })
}
