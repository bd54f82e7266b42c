//! The data a bench starts from: N linked clients of one fund each, and one first-day process per
//! stock advising all of them.

use crate::Error;
use shared::adapters::dynamodb::DynamoStore;
use shared::domain::client::{ChatBinding, Client, FundAccount, FundKind};
use shared::domain::ids::{ChatId, ProcessId};
use shared::domain::lockup::LockUp;
use shared::domain::money::{Price, Quantity, Won};
use shared::domain::phase::bid::{AdviceLine, BidAdvice};
use shared::domain::phase::{Advice, FundLines};
use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
use shared::domain::stock::Stock;
use shared::domain::text::Label;
use shared::domain::tracker::Tracker;
use shared::ports::clock::{Clock, SystemClock};
use shared::ports::store::{ClientStore, ProcessStore, StockStore, TrackerStore};

/// Each client advises 300,000 shares at this price under a one-month lock-up, and answers so.
pub struct Advised {
    pub process: ProcessId,
    pub price: u64,
}

pub const QUANTITY: u64 = 300_000;
pub const LOCKUP: &str = "1개월";

pub fn chat(i: usize) -> ChatId {
    ChatId(-1_003_000_000_000 - i as i64)
}

/// The demo's three offerings, each with a price inside its band.
fn stocks(k: usize) -> Result<Vec<(Stock, u64)>, Error> {
    let all = [
        (shared::demo::hanbit(), 15_000),
        (shared::demo::nuri_energy(), 45_000),
        (shared::demo::hangyeol_spac(), 2_000),
    ];
    if k > all.len() {
        return Err(format!("--stocks: at most {} (the demo's offerings)", all.len()).into());
    }
    Ok(all.into_iter().take(k).collect())
}

pub async fn clients(store: &DynamoStore, n: usize) -> Result<(), Error> {
    for i in 0..n {
        let fund = FundAccount {
            id: "main".parse()?,
            name: Label::new("공모주")?,
            kind: FundKind::IpoFund,
            aum: Won::new(100_000_000_000),
        };
        let client = Client::new(
            format!("c{i:04}").parse()?,
            Label::new(format!("(가상)고객{i:04}"))?,
            "rep".parse()?,
            vec![fund],
        )?;
        let stored = store.create_client(&client).await?;
        let binding = ChatBinding { chat_id: chat(i), title: None, active: true };
        store.link_chat(&client.id, &binding, stored.version).await?;
    }
    Ok(())
}

/// One draft first-day process per stock, advising clients `0..n`.
pub async fn processes(store: &DynamoStore, n: usize, k: usize) -> Result<Vec<Advised>, Error> {
    let now = SystemClock.now();
    let mut advised = Vec::with_capacity(k);
    for (stock, price) in stocks(k)? {
        store.create_stock(&stock).await?;
        let process = Process::new(
            ProcessId::generate(),
            Some(stock.id.clone()),
            ProcessKind::Participation { round: Round::FirstDay },
            now,
            ReminderPolicy::default(),
            now,
        );
        let created = store.create_process(&process).await?;
        let line = AdviceLine {
            fund_id: "main".parse()?,
            price: Price::new(price)?,
            quantity: Quantity::new(QUANTITY)?,
            lockup: LockUp::Months1,
            comment: String::new(),
        };
        let advice = Advice::Bid(BidAdvice { lines: FundLines::new(vec![line])? });
        let trackers: Vec<Tracker> = (0..n)
            .map(|i| -> Result<Tracker, Error> {
                Ok(Tracker::new(process.id.clone(), format!("c{i:04}").parse()?, advice.clone(), now))
            })
            .collect::<Result<_, _>>()?;
        store.save_draft_trackers(&process.id, created.version, &trackers).await?;
        advised.push(Advised { process: process.id, price });
    }
    Ok(advised)
}
