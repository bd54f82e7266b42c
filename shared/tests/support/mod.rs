//! A test bed for the Telegram layer: the store on the embedded engine, the fake Bot API, and the
//! shared router served on 127.0.0.1 with the fake's webhook pointed at it.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it; fixtures from literals

use shared::adapters::dynamodb::{DynamoStore, TABLE};
use shared::adapters::telegram::TelegramBot;
use shared::app::{App, AppConfig};
use shared::domain::client::{ChatBinding, Client, FundAccount, FundKind};
use shared::domain::ids::{ChatId, ClientId};
use shared::domain::money::Won;
use shared::domain::pacing::{Rate, TelegramLimits};
use shared::domain::text::Label;
use shared::http::{WebhookConfig, router};
use shared::ports::clock::SystemClock;
use shared::ports::messenger::Messenger;
use shared::ports::store::*;
use std::sync::Arc;
use std::time::Duration;
use testkit::fake_telegram::{FakeConfig, FakeTelegram};

pub const SECRET: &str = "test-webhook-secret";
/// The staff group of the payloads in `events/telegram/`.
pub const STAFF: ChatId = ChatId(-1_001_876_543_210);
/// The client group of the payloads.
pub const GROUP: ChatId = ChatId(-1_001_987_654_321);

/// The demo clients' groups, in `shared::demo::clients()` order.
pub const SAEBYEOK: ChatId = ChatId(-1_001_500_000_001);
pub const NURI: ChatId = ChatId(-1_001_500_000_002);
pub const GAON: ChatId = ChatId(-1_001_500_000_003);
pub const DASOM: ChatId = ChatId(-1_001_500_000_004);
pub const BAREUN: ChatId = ChatId(-1_001_500_000_005);

/// The five demo clients, each with its group (not linked yet).
pub fn demo_clients() -> Vec<(Client, ChatId)> {
    shared::demo::clients().into_iter().zip([SAEBYEOK, NURI, GAON, DASOM, BAREUN]).collect()
}

/// `h:m` KST on `day` (`YYYY-MM-DD`).
pub fn kst_on(day: &str, h: u32, m: u32) -> shared::domain::time::Timestamp {
    shared::domain::time::at_kst(day.parse().unwrap(), chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

pub struct Bed {
    pub fake: FakeTelegram,
    pub app: Arc<App>,
    pub store: Arc<DynamoStore>,
    pub router: axum::Router,
    pub webhook_url: String,
    pub engine: testkit::EngineHandle,
    /// What the store was sent, by operation.
    pub requests: testkit::store_requests::StoreRequests,
}

/// Limits with no waiting, for tests about behaviour rather than pacing.
pub fn no_pacing() -> TelegramLimits {
    let fast = Rate { interval_ms: 1, burst: 1 };
    TelegramLimits { per_bot: fast, per_chat: fast, per_group_minute: fast }
}

pub async fn bed(fake: FakeConfig, limits: TelegramLimits) -> Bed {
    bed_on(testkit::Engine::Dynoxide, fake, limits, Arc::new(SystemClock)).await.unwrap()
}

/// A bed on `engine` (`None` when DynamoDB Local is not running) with business time from `clock`.
pub async fn bed_on(
    engine: testkit::Engine,
    fake: FakeConfig,
    limits: TelegramLimits,
    clock: Arc<dyn shared::ports::clock::Clock>,
) -> Option<Bed> {
    bed_faulty(engine, fake, limits, clock, &testkit::store_faults::StoreFaults::new()).await
}

/// [`bed_on`] with a store whose requests fail when `faults` says so.
pub async fn bed_faulty(
    engine: testkit::Engine,
    fake: FakeConfig,
    limits: TelegramLimits,
    clock: Arc<dyn shared::ports::clock::Clock>,
    faults: &testkit::store_faults::StoreFaults,
) -> Option<Bed> {
    let engine = testkit::engine(engine).await?;
    TABLE.create(&engine.client, &engine.table).await.unwrap();
    let requests = testkit::store_requests::StoreRequests::new();
    let client = requests.attach(&faults.attach(&engine.client));
    let store = Arc::new(DynamoStore::new(client, engine.table.clone()));
    let fake = FakeTelegram::start(fake).await;
    let bot = TelegramBot::new(fake.api_base(), fake.token()).unwrap();
    let app = Arc::new(App {
        store: store.clone(),
        messenger: Arc::new(bot.clone()),
        scheduler: Arc::new(shared::adapters::local_scheduler::LocalScheduler::new(store.clone())),
        clock,
        pacing_clock: Arc::new(SystemClock),
        send_gate: Default::default(),
        memo: Default::default(),
        config: AppConfig { staff_chat: Some(STAFF), limits, ..AppConfig::default() },
    });
    let router = router(app.clone(), WebhookConfig { secret: SECRET.into() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let webhook_url = format!("http://{}/telegram/webhook", listener.local_addr().unwrap());
    let served = router.clone();
    tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });
    bot.set_webhook(&webhook_url, SECRET, &["message", "edited_message", "callback_query", "my_chat_member"])
        .await
        .unwrap();
    Some(Bed { fake, app, store, router, webhook_url, engine, requests })
}

pub fn client(id: &str, name: &str) -> Client {
    let funds = vec![FundAccount {
        id: "main".parse().unwrap(),
        name: Label::new("공모주").unwrap(),
        kind: FundKind::IpoFund,
        aum: Won::new(100_000_000_000),
    }];
    Client::new(id.parse().unwrap(), Label::new(name).unwrap(), "rep".parse().unwrap(), funds).unwrap()
}

impl Bed {
    /// A client whose group is already linked.
    pub async fn linked_client(&self, id: &str, chat: ChatId) -> ClientId {
        let created = self.store.create_client(&client(id, &format!("(가상){id}자산운용"))).await.unwrap();
        let binding = ChatBinding { chat_id: chat, title: Some(format!("{id} x 자문")), active: true };
        self.store.link_chat(&created.value.id, &binding, created.version).await.unwrap();
        created.value.id
    }

    /// Pushes an update through the fake's webhook delivery and waits until our server took it.
    pub async fn deliver(&self, update: serde_json::Value) -> i64 {
        let id = self.fake.push_update(update);
        assert!(self.fake.wait_delivered(id, Duration::from_secs(10)).await, "update {id} was not accepted");
        id
    }

    pub fn texts(&self, chat: ChatId) -> Vec<String> {
        self.fake.sent(chat.0).into_iter().filter_map(|m| m.text).collect()
    }

    /// What the staff group was sent that is not a progress card, in order.
    pub fn staff_notices(&self) -> Vec<String> {
        self.texts(STAFF).into_iter().filter(|t| !t.starts_with("📊")).collect()
    }

    /// The staff group's progress cards as they read now (each one's latest edit), in the order
    /// they were first sent.
    pub fn cards(&self) -> Vec<String> {
        let edits = self.fake.edits();
        self.fake
            .sent(STAFF.0)
            .into_iter()
            .filter(|m| m.text.as_deref().is_some_and(|t| t.starts_with("📊")))
            .map(|m| {
                edits
                    .iter()
                    .rev()
                    .find(|e| e.chat_id == Some(STAFF.0) && e.message_id == Some(m.message_id))
                    .and_then(|e| e.text.clone())
                    .or(m.text)
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// The chat of the `i`-th client of [`first_day_process`].
pub fn client_chat(i: usize) -> ChatId {
    ChatId(-1_003_000_000_000 - i as i64)
}

/// `n` clients of one fund each, linked to their chats, and a first-day process `id` of the demo
/// stock advising all of them (a draft with its trackers saved).
pub async fn first_day_process(bed: &Bed, id: &str, n: usize) -> shared::domain::ids::ProcessId {
    use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
    let stock = shared::demo::hanbit();
    bed.store.create_stock(&stock).await.unwrap();
    let now = bed.app.clock.now();
    let process = Process::new(
        id.parse().unwrap(),
        Some(stock.id.clone()),
        ProcessKind::Participation { round: Round::FirstDay },
        now,
        ReminderPolicy::default(),
        now,
    );
    let created = bed.store.create_process(&process).await.unwrap();
    let advice = bids_advised(&[("main", 17_500, 300_000, shared::domain::lockup::LockUp::Months1)]);
    let mut trackers = Vec::with_capacity(n);
    for i in 0..n {
        let client = client(&format!("c{i:04}"), &format!("(가상)고객{i:04}"));
        let stored = bed.store.create_client(&client).await.unwrap();
        let binding = ChatBinding { chat_id: client_chat(i), title: None, active: true };
        bed.store.link_chat(&client.id, &binding, stored.version).await.unwrap();
        trackers.push(shared::domain::tracker::Tracker::new(
            process.id.clone(),
            client.id.clone(),
            advice.clone(),
            now,
        ));
    }
    bed.store.save_draft_trackers(&process.id, created.version, &trackers).await.unwrap();
    process.id
}

/// A tracker's bid advice, for tests of phase 1.
pub fn bid_advice(tracker: &shared::domain::tracker::Tracker) -> &[shared::domain::phase::bid::AdviceLine] {
    match tracker.advice() {
        shared::domain::phase::Advice::Bid(a) => a.lines.as_slice(),
        other => panic!("not a bid: {other:?}"),
    }
}

/// A tracker's bid answer, for tests of phase 1.
pub fn bid_answer(tracker: &shared::domain::tracker::Tracker) -> &[shared::domain::phase::bid::BidLine] {
    match tracker.answer() {
        Some(shared::domain::phase::Answer::Bid(a)) => a.lines.as_slice(),
        other => panic!("not a bid answer: {other:?}"),
    }
}

/// Bid advice from (fund, price, quantity, lock-up) lines.
pub fn bids_advised(lines: &[(&str, u64, u64, shared::domain::lockup::LockUp)]) -> shared::domain::phase::Advice {
    use shared::domain::money::{Price, Quantity};
    let lines = lines
        .iter()
        .map(|(fund, price, qty, lockup)| shared::domain::phase::bid::AdviceLine {
            fund_id: fund.parse().unwrap(),
            price: Price::new(*price).unwrap(),
            quantity: Quantity::new(*qty).unwrap(),
            lockup: *lockup,
            comment: String::new(),
        })
        .collect();
    shared::domain::phase::Advice::Bid(shared::domain::phase::bid::BidAdvice {
        lines: shared::domain::phase::FundLines::new(lines).unwrap(),
    })
}

/// A bid answer from (fund, price, quantity, lock-up) lines.
pub fn bids_answered(lines: &[(&str, u64, u64, shared::domain::lockup::LockUp)]) -> shared::domain::phase::Answer {
    use shared::domain::money::{Price, Quantity};
    let lines = lines
        .iter()
        .map(|(fund, price, qty, lockup)| shared::domain::phase::bid::BidLine {
            fund_id: fund.parse().unwrap(),
            price: Price::new(*price).unwrap(),
            quantity: Quantity::new(*qty).unwrap(),
            lockup: *lockup,
        })
        .collect();
    shared::domain::phase::Answer::Bid(shared::domain::phase::bid::BidAnswer {
        lines: shared::domain::phase::FundLines::new(lines).unwrap(),
    })
}

pub fn event(name: &str) -> serde_json::Value {
    // Relative to the package folder, where cargo runs tests: a path baked in at compile time
    // would point at another clone that shared the build cache.
    let path = format!("../events/telegram/{name}.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A text message in a group from a client's fund manager.
pub fn group_text(update_id: i64, chat: ChatId, text: &str) -> serde_json::Value {
    serde_json::json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id % 100_000,
            "from": { "id": 6_123_456_789i64, "is_bot": false, "first_name": "서연", "last_name": "김" },
            "chat": { "id": chat.0, "title": "새벽 x 자문", "type": "supergroup" },
            "date": 1_773_622_800,
            "text": text,
            "entities": [{ "offset": 0, "length": text.split(' ').next().map_or(0, |w| w.encode_utf16().count()), "type": "bot_command" }]
        }
    })
}

/// Runs each named `async fn(testkit::Engine)` of the file on both store engines, as
/// `dynoxide::<name>` and `dynamodb_local::<name>` (the names `cargo xtask test` counts). Without
/// DynamoDB Local the second is skipped under a plain `cargo test`, saying so on stderr, and fails
/// under the test command (`testkit::available`).
#[allow(unused_macros)] // a file that runs on one engine does not use it
macro_rules! on_both_engines {
    ($($test:ident),* $(,)?) => {
        mod dynoxide {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(testkit::Engine::Dynoxide).await;
                }
            )*
        }
        mod dynamodb_local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if testkit::available(testkit::Engine::DynamoDbLocal) {
                        super::$test(testkit::Engine::DynamoDbLocal).await;
                    }
                }
            )*
        }
    };
}
#[allow(unused_imports)] // a file that runs on one engine does not use it
pub(crate) use on_both_engines;
