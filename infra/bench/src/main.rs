//! `fanout --clients N`: the phase-1 kickoff to N linked clients on the embedded store, against the
//! fake Bot API with Telegram's limits on, with the production pacing. Prints one line:
//! `fanout clients=N seconds=S floor=F ratio=R violations=V lost=L`, where F is the time Telegram's
//! 30 messages a second allow at best (N/30) and R = S/F.

use embedded_store::EmbeddedDynamo;
use shared::adapters::dynamodb::{DynamoStore, TABLE};
use shared::adapters::local_scheduler::LocalScheduler;
use shared::adapters::telegram::TelegramBot;
use shared::app::{App, AppConfig};
use shared::domain::client::{ChatBinding, Client, FundAccount, FundKind};
use shared::domain::ids::{ChatId, ProcessId};
use shared::domain::lockup::LockUp;
use shared::domain::money::{Price, Quantity, Won};
use shared::domain::pacing::TelegramLimits;
use shared::domain::phase::bid::{AdviceLine, BidAdvice};
use shared::domain::phase::{Advice, FundLines};
use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
use shared::domain::text::Label;
use shared::domain::tracker::Tracker;
use shared::ports::clock::SystemClock;
use shared::ports::store::{ClientStore, ProcessStore, StockStore, TrackerStore};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use testkit::fake_telegram::{FakeConfig, FakeTelegram};

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("fanout") => match clients_arg(&args[1..]) {
            Ok(n) => fanout(n).await,
            Err(e) => Err(e),
        },
        _ => Err("usage: bench fanout --clients N".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn clients_arg(args: &[String]) -> Result<usize, Error> {
    match args {
        [flag, n] if flag == "--clients" => {
            let n: usize = n.parse().map_err(|_| format!("--clients: {n:?} is not a number"))?;
            if n == 0 { Err("--clients must be at least 1".into()) } else { Ok(n) }
        }
        _ => Err("usage: bench fanout --clients N".into()),
    }
}

async fn fanout(n: usize) -> Result<(), Error> {
    let engine = EmbeddedDynamo::in_memory().await?;
    let client = engine.client();
    TABLE.create(&client, "bench").await?;
    let store = Arc::new(DynamoStore::new(client, "bench"));
    let fake = FakeTelegram::start(FakeConfig::default()).await;
    let app = App {
        store: store.clone(),
        messenger: Arc::new(TelegramBot::new(fake.api_base(), fake.token())?),
        scheduler: Arc::new(LocalScheduler::new(store.clone())),
        clock: Arc::new(SystemClock),
        pacing_clock: Arc::new(SystemClock),
        send_gate: Default::default(),
        config: AppConfig { staff_chat: None, limits: TelegramLimits::default(), ..AppConfig::default() },
    };
    let process = setup(&store, n).await?;

    let started = Instant::now();
    let report = app.start_now(&process).await?;
    let seconds = started.elapsed().as_secs_f64();

    let delivered = (0..n).filter(|i| fake.sent(chat(*i).0).len() == 1).count();
    let lost = n - delivered;
    let floor = n as f64 / 30.0;
    println!(
        "fanout clients={n} seconds={seconds:.2} floor={floor:.2} ratio={:.3} violations={} lost={lost}",
        seconds / floor,
        fake.violations()
    );
    if report.sent.len() != n {
        eprintln!("bench: sent {} of {n}; failed: {:?}", report.sent.len(), report.failed.first());
    }
    Ok(())
}

fn chat(i: usize) -> ChatId {
    ChatId(-1_003_000_000_000 - i as i64)
}

async fn setup(store: &DynamoStore, n: usize) -> Result<ProcessId, Error> {
    let stock = shared::demo::hanbit();
    store.create_stock(&stock).await?;
    let now = shared::ports::clock::Clock::now(&SystemClock);
    let process = Process::new(
        ProcessId::generate(),
        Some(stock.id.clone()),
        ProcessKind::Participation { round: Round::FirstDay },
        now,
        ReminderPolicy::default(),
        now,
    );
    let created = store.create_process(&process).await?;
    let mut trackers = Vec::with_capacity(n);
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
        let lines = vec![AdviceLine {
            fund_id: "main".parse()?,
            price: Price::new(17_500)?,
            quantity: Quantity::new(300_000)?,
            lockup: LockUp::Months1,
            comment: String::new(),
        }];
        let advice = Advice::Bid(BidAdvice { lines: FundLines::new(lines)? });
        trackers.push(Tracker::new(process.id.clone(), client.id.clone(), advice, now));
    }
    store.save_draft_trackers(&process.id, created.version, &trackers).await?;
    Ok(process.id)
}
