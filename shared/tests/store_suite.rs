//! The store suite: one set of tests, run against the embedded engine (`dynoxide::…`) and against
//! AWS's DynamoDB Local (`dynamodb_local::…`) through the one DynamoDB adapter.

#![allow(clippy::unwrap_used)] // fixtures built from literals

use chrono::TimeDelta;
use shared::adapters::dynamodb::{DynamoStore, MAX_ITEM_BYTES, TABLE, TableDefinition};
use shared::domain::client::{ChatBinding, Client, FundAccount, FundKind};
use shared::domain::ids::{ChatId, ClientId, ProcessId, StaffId, StockId, TelegramUserId};
use shared::domain::lockup::LockUp;
use shared::domain::message_log::{Direction, MessageLogEntry};
use shared::domain::money::{Price, Quantity, Won};
use shared::domain::phase::bid::{AdviceLine, BidAdvice};
use shared::domain::phase::{Advice, FundLines};
use shared::domain::process::{Process, ProcessAction, ProcessKind, ReminderPolicy, Round};
use shared::domain::staff::{Role, Staff};
use shared::domain::stock::{Market, NewStock, PriceBand, Schedule, ScheduleDates, Stock};
use shared::domain::text::Label;
use shared::domain::time::Timestamp;
use shared::domain::tracker::{ChatActor, Tracker, TrackerEvent, TrackerState};
use shared::ports::store::*;
use std::collections::HashSet;
use testkit::Engine;
use testkit::store_requests::StoreRequests;

struct Fixture {
    store: DynamoStore,
    engine: Engine,
    handle: testkit::EngineHandle,
}

impl Fixture {
    /// Another process's store on the same table, its requests counted.
    fn other_process(&self) -> (DynamoStore, StoreRequests) {
        let requests = StoreRequests::new();
        (DynamoStore::new(requests.attach(&self.handle.client), self.handle.table.clone()), requests)
    }
}

async fn fixture(engine: Engine) -> Option<Fixture> {
    let handle = testkit::engine(engine).await?;
    if let Err(e) = TABLE.create(&handle.client, &handle.table).await {
        panic!("[{engine}] {e}");
    }
    // Small read pages, so that reading a whole process crosses page boundaries.
    let store = DynamoStore::new(handle.client.clone(), handle.table.clone()).with_read_page_size(7);
    Some(Fixture { store, engine, handle })
}

macro_rules! store_suite {
    ($($test:ident),* $(,)?) => {
        mod dynoxide {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let fx = super::fixture(testkit::Engine::Dynoxide).await.expect("the embedded engine always starts");
                    super::$test(&fx).await;
                }
            )*
        }
        mod dynamodb_local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    // Without DynamoDB Local a skip under `cargo test`, said on stderr, and a
                    // failure under `cargo xtask test` (testkit::server_endpoint).
                    let Some(fx) = super::fixture(testkit::Engine::DynamoDbLocal).await else { return };
                    super::$test(&fx).await;
                }
            )*
        }
    };
}

store_suite!(
    crud_round_trips_every_record,
    an_existing_table_of_another_layout_is_refused,
    transitions_are_conditional,
    concurrent_writers_on_one_version_exactly_one_wins,
    lists_paginate_with_opaque_cursors,
    chat_lookup_is_unique_and_follows_relinks,
    expired_idempotency_records_read_as_absent,
    oversized_items_are_refused_clearly,
    message_log_reads_by_time,
    trackers_of_a_process_and_open_trackers,
    the_staff_feed_keeps_notices_and_stale_cards,
    trackers_stored_before_phases_read_as_bids,
    inbound_messages_name_the_process_they_answered,
    pace_records_are_shared_and_written_without_reading_first,
    progress_counts_move_with_every_tracker,
    an_update_is_taken_retried_and_logged_once,
    a_chats_client_is_one_read_and_follows_its_changes,
    a_process_its_stock_and_a_tracker_read_together,
    only_a_clients_latest_link_code_links_and_only_once,
    the_bot_switch_is_one_versioned_record,
);

// ---- fixtures -------------------------------------------------------------------------------

fn t(minutes: i64) -> Timestamp {
    "2026-03-16T00:00:00Z".parse::<Timestamp>().unwrap() + TimeDelta::minutes(minutes)
}

fn staff(id: &str) -> Staff {
    Staff {
        id: id.parse().unwrap(),
        name: Label::new("김운영").unwrap(),
        role: Role::Operator,
        telegram_user_id: Some(TelegramUserId(7_000_000_001)),
        active: true,
    }
}

fn client(id: &str) -> Client {
    let funds = vec![
        FundAccount {
            id: "hy".parse().unwrap(),
            name: Label::new("하이일드").unwrap(),
            kind: FundKind::HighYield,
            aum: Won::new(85_000_000_000),
        },
        FundAccount {
            id: "pv-kv".parse().unwrap(),
            name: Label::new("사모 코벤").unwrap(),
            kind: FundKind::KosdaqVenture,
            aum: Won::new(42_000_000_000),
        },
    ];
    Client::new(id.parse().unwrap(), Label::new("(가상)새벽자산운용").unwrap(), "rep".parse().unwrap(), funds).unwrap()
}

fn stock(id: &str, start: &str) -> Stock {
    let d = |s: &str| s.parse().unwrap();
    let start: chrono::NaiveDate = d(start);
    let plus = |days: u64| start + chrono::Days::new(days);
    Stock::new(NewStock {
        id: id.parse().unwrap(),
        name: Label::new("(가상)한빛로보틱스").unwrap(),
        code: None,
        market: Market::Kosdaq,
        lead_manager: Label::new("(가상)미래증권").unwrap(),
        band: PriceBand::new(Price::new(14_000).unwrap(), Price::new(16_000).unwrap()).unwrap(),
        schedule: Schedule::new(ScheduleDates {
            filing: start - chrono::Days::new(20),
            bookbuilding_start: start,
            bookbuilding_end: plus(4),
            price_fixing: plus(8),
            subscription_start: plus(10),
            subscription_end: plus(11),
            payment: plus(15),
            listing: plus(22),
        })
        .unwrap(),
        spac: false,
    })
}

fn process(id: &str, stock: &str, kickoff: Timestamp) -> Process {
    Process::new(
        id.parse().unwrap(),
        Some(stock.parse().unwrap()),
        ProcessKind::Participation { round: Round::FirstDay },
        kickoff,
        ReminderPolicy::default(),
        t(-60),
    )
}

fn tracker(process: &str, client: &str) -> Tracker {
    let lines = vec![AdviceLine {
        fund_id: "hy".parse().unwrap(),
        price: Price::new(17_500).unwrap(),
        quantity: Quantity::new(300_000).unwrap(),
        lockup: LockUp::Months1,
        comment: "밴드 상단 초과".into(),
    }];
    let advice = Advice::Bid(BidAdvice { lines: FundLines::new(lines).unwrap() });
    Tracker::new(process.parse().unwrap(), client.parse().unwrap(), advice, t(0))
}

fn binding(chat: i64) -> ChatBinding {
    ChatBinding { chat_id: ChatId(chat), title: Some("새벽 x 자문".into()), active: true }
}

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

async fn all_pages<T, F, Fut>(mut read: F) -> (Vec<T>, usize)
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, StoreError>>,
{
    let mut items = Vec::new();
    let mut pages = 0;
    let mut request = PageRequest::first(5);
    loop {
        let page = read(request.clone()).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= 5, "a page holds at most its limit");
        items.extend(page.items);
        match page.next {
            Some(cursor) => request = PageRequest::after(5, cursor),
            None => return (items, pages),
        }
        assert!(pages < 100, "pagination must end");
    }
}

// ---- the suite ------------------------------------------------------------------------------

async fn crud_round_trips_every_record(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;

    let created = s.create_staff(&staff("op1")).await.unwrap();
    assert_eq!(created.version, 1, "[{e}]");
    assert_eq!(s.get_staff(&id("op1")).await.unwrap(), created, "[{e}]");
    let mut promoted = created.value.clone();
    promoted.role = Role::Advisor;
    let updated = s.update_staff(&promoted, 1).await.unwrap();
    assert_eq!((updated.version, updated.value.role), (2, Role::Advisor), "[{e}]");
    assert_eq!(s.get_staff(&id("op1")).await.unwrap(), updated, "[{e}]");

    let c = s.create_client(&client("saebyeok")).await.unwrap();
    assert_eq!(s.get_client(&id("saebyeok")).await.unwrap(), c, "[{e}]");
    assert_eq!(
        s.create_client(&client("saebyeok")).await,
        Err(StoreError::AlreadyExists { entity: "client", id: "saebyeok".into() }),
        "[{e}]"
    );

    let st = s.create_stock(&stock("hanbit", "2026-03-16")).await.unwrap();
    assert_eq!(s.get_stock(&id("hanbit")).await.unwrap(), st, "[{e}]");
    let mut priced = st.value.clone();
    priced.set_final_price(Price::new(17_000).unwrap(), "2026-03-24".parse().unwrap()).unwrap();
    let priced = s.update_stock(&priced, 1).await.unwrap();
    assert_eq!(s.get_stock(&id("hanbit")).await.unwrap().value.final_price(), Some(Price::new(17_000).unwrap()));
    assert_eq!(priced.version, 2);

    let p = s.create_process(&process("p1", "hanbit", t(0))).await.unwrap();
    let mut scheduled = p.value.clone();
    scheduled.apply(ProcessAction::Schedule).unwrap();
    let scheduled = s.update_process(&scheduled, p.version).await.unwrap();
    assert_eq!(s.get_process(&id("p1")).await.unwrap(), scheduled, "[{e}]");

    let tr = s.create_tracker(&tracker("p1", "saebyeok")).await.unwrap();
    assert_eq!(s.get_tracker(&id("p1"), &id("saebyeok")).await.unwrap(), tr, "[{e}]");

    assert_eq!(
        s.get_client(&id("nobody")).await,
        Err(StoreError::NotFound { entity: "client", id: "nobody".into() }),
        "[{e}]"
    );
    assert_eq!(
        s.update_staff(&staff("ghost"), 1).await,
        Err(StoreError::NotFound { entity: "staff", id: "ghost".into() }),
        "[{e}] updating a missing record is not found, not a conflict"
    );
}

async fn an_existing_table_of_another_layout_is_refused(fx: &Fixture) {
    let e = fx.engine;
    let client = &fx.handle.client;
    // Creating the table again is harmless.
    TABLE.create(client, &fx.handle.table).await.unwrap_or_else(|err| panic!("[{e}] {err}"));
    // A table left by an older layout (one index fewer) is named, not used.
    let older =
        TableDefinition { indexes: &TABLE.indexes[..1], string_attributes: &["PK", "SK", "GSI1PK", "GSI1SK"], ..TABLE };
    let name = testkit::unique_name("older-layout");
    older.create(client, &name).await.unwrap();
    let err = TABLE.create(client, &name).await.expect_err("a different layout must be refused");
    assert!(err.to_string().contains("index GSI2 is missing"), "[{e}] {err}");
}

async fn transitions_are_conditional(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    let stored = s.create_tracker(&tracker("p1", "c1")).await.unwrap();

    let mut sent = stored.value.clone();
    sent.apply(TrackerEvent::Sent { at: t(1) }).unwrap();
    let after = s.transition_tracker(&sent, TrackerState::Pending, stored.version).await.unwrap();
    assert_eq!((after.version, after.value.state()), (2, TrackerState::Sent), "[{e}]");

    // A second worker that read the same version loses, and is told what it lost to.
    let mut failed = stored.value.clone();
    failed.apply(TrackerEvent::SendFailed { reason: "403".into(), at: t(1) }).unwrap();
    match s.transition_tracker(&failed, TrackerState::Pending, stored.version).await {
        Err(StoreError::Conflict { entity: "tracker", detail, .. }) => {
            assert!(detail.contains("expected version 1, found version 2 in state sent"), "[{e}] {detail}")
        }
        other => panic!("[{e}] expected a conflict, got {other:?}"),
    }

    // Right version, wrong state: still refused.
    let mut acked = after.value.clone();
    acked
        .apply(TrackerEvent::Acknowledged { by: ChatActor { user_id: TelegramUserId(1), name: "a".into() }, at: t(2) })
        .unwrap();
    assert!(
        matches!(
            s.transition_tracker(&acked, TrackerState::Pending, after.version).await,
            Err(StoreError::Conflict { .. })
        ),
        "[{e}]"
    );
    let done = s.transition_tracker(&acked, TrackerState::Sent, after.version).await.unwrap();
    assert_eq!(done.value.state(), TrackerState::Acknowledged);
    assert_eq!(s.get_tracker(&id("p1"), &id("c1")).await.unwrap(), done, "[{e}] the winner's write is what is stored");
}

async fn concurrent_writers_on_one_version_exactly_one_wins(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    s.create_client(&client("contended")).await.unwrap();
    let writers = (0..8).map(|i| {
        let store = s.clone();
        tokio::spawn(async move {
            let mut c = client("contended");
            c.memo = format!("writer {i}");
            store.update_client(&c, 1).await
        })
    });
    let mut wins = Vec::new();
    let mut conflicts = 0;
    for w in writers.collect::<Vec<_>>() {
        match w.await.unwrap() {
            Ok(v) => wins.push(v),
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            Err(other) => panic!("[{e}] unexpected {other:?}"),
        }
    }
    assert_eq!((wins.len(), conflicts), (1, 7), "[{e}] exactly one writer wins");
    let stored = s.get_client(&id("contended")).await.unwrap();
    assert_eq!(stored, wins[0], "[{e}]");
    assert_eq!(stored.version, 2, "[{e}]");
}

async fn lists_paginate_with_opaque_cursors(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    for i in 0..23 {
        s.create_client(&client(&format!("client-{i:02}"))).await.unwrap();
    }
    let (clients, pages) = all_pages(|p| async move { s.list_clients(&p).await }).await;
    assert_eq!(clients.len(), 23, "[{e}]");
    assert!(pages >= 5, "[{e}] 23 items in pages of 5 take at least 5 pages, took {pages}");
    let ids: HashSet<ClientId> = clients.iter().map(|c| c.value.id.clone()).collect();
    assert_eq!(ids.len(), 23, "[{e}] no item twice");

    for (i, start) in ["2026-03-23", "2026-03-16", "2026-03-19"].iter().enumerate() {
        s.create_stock(&stock(&format!("s{i}"), start)).await.unwrap();
    }
    let stocks = s.list_stocks(&PageRequest::first(10)).await.unwrap();
    let order: Vec<&str> = stocks.items.iter().map(|v| v.value.id.as_str()).collect();
    assert_eq!(order, vec!["s1", "s2", "s0"], "[{e}] stocks by book-building start");
    assert_eq!(stocks.next, None, "[{e}]");

    // A cursor from the client list does not walk the stock list, and junk is refused.
    let first = s.list_clients(&PageRequest::first(5)).await.unwrap();
    let cursor = first.next.unwrap();
    assert_eq!(s.list_stocks(&PageRequest::after(5, cursor)).await, Err(StoreError::InvalidCursor), "[{e}]");
    assert_eq!(
        s.list_clients(&PageRequest::after(5, Cursor("garbage".into()))).await,
        Err(StoreError::InvalidCursor),
        "[{e}]"
    );
}

async fn chat_lookup_is_unique_and_follows_relinks(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    let a = ChatId(-5_000_000_001);
    let b = ChatId(-1_009_000_000_001);
    s.create_client(&client("first")).await.unwrap();
    s.create_client(&client("second")).await.unwrap();
    assert_eq!(s.client_by_chat(a).await.unwrap(), None, "[{e}]");

    let linked = s.link_chat(&id("first"), &binding(a.0), 1).await.unwrap();
    assert_eq!(linked.version, 2);
    let found = s.client_by_chat(a).await.unwrap().unwrap();
    assert_eq!((found.value.id.as_str(), found.version), ("first", 2), "[{e}]");
    assert_eq!(found.value.chat, Some(binding(a.0)), "[{e}]");

    assert_eq!(
        s.link_chat(&id("second"), &binding(a.0), 1).await,
        Err(StoreError::ChatTaken { chat_id: a, client_id: id("first") }),
        "[{e}] one chat, one client"
    );
    assert_eq!(s.get_client(&id("second")).await.unwrap().version, 1, "[{e}] the failed link changed nothing");

    // A group became a supergroup: the client moves to the new id and the old one is freed.
    let moved = s.link_chat(&id("first"), &binding(b.0), 2).await.unwrap();
    assert_eq!(moved.value.chat.as_ref().map(|c| c.chat_id), Some(b));
    assert_eq!(s.client_by_chat(b).await.unwrap().map(|c| c.value.id), Some(id("first")), "[{e}]");
    assert_eq!(s.client_by_chat(a).await.unwrap(), None, "[{e}] the old chat id is free");
    s.link_chat(&id("second"), &binding(a.0), 1).await.unwrap();

    // Updating the client's other fields keeps its chat; a stale version is refused.
    let mut renamed = moved.value.clone();
    renamed.chat = None;
    renamed.name = Label::new("(가상)새벽자산운용 (신)").unwrap();
    let renamed = s.update_client(&renamed, 3).await.unwrap();
    assert_eq!(renamed.value.chat.map(|c| c.chat_id), Some(b), "[{e}] only the link operations change the chat");
    assert!(matches!(s.link_chat(&id("first"), &binding(b.0), 3).await, Err(StoreError::Conflict { .. })), "[{e}]");

    let unlinked = s.unlink_chat(&id("first"), 4).await.unwrap();
    assert_eq!((unlinked.value.chat, unlinked.version), (None, 5), "[{e}]");
    assert_eq!(s.client_by_chat(b).await.unwrap(), None, "[{e}]");
    assert_eq!(s.get_client(&id("first")).await.unwrap().value.chat, None, "[{e}]");
}

async fn expired_idempotency_records_read_as_absent(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    let request = |key: &str, now: Timestamp, hash: &str| IdempotencyRequest {
        key: key.to_owned(),
        payload_hash: Some(hash.to_owned()),
        now,
        in_progress_until: now + TimeDelta::seconds(30),
        expires_at: now + TimeDelta::hours(25),
    };
    let acquired = |claim: IdempotencyClaim| match claim {
        IdempotencyClaim::Acquired { token } => token,
        other => panic!("[{e}] expected to acquire, got {other:?}"),
    };

    let first = request("update-1001", t(0), "h1");
    let stale = acquired(s.claim(&first).await.unwrap());
    match s.claim(&request("update-1001", t(0) + TimeDelta::seconds(5), "h1")).await.unwrap() {
        IdempotencyClaim::InProgress { until } => {
            assert_eq!(until, first.in_progress_until, "[{e}]")
        }
        other => panic!("[{e}] expected in progress, got {other:?}"),
    }
    // The first attempt overran its deadline: a retry takes over, and the late first attempt can
    // neither release nor complete the retry's lock.
    let retry = request("update-1001", t(1), "h1");
    let token = acquired(s.claim(&retry).await.unwrap());
    assert_ne!(token, stale);
    assert!(matches!(s.release("update-1001", &stale).await, Err(StoreError::Conflict { .. })), "[{e}]");
    assert!(
        matches!(
            s.complete("update-1001", &stale, Some("late"), retry.expires_at).await,
            Err(StoreError::Conflict { .. })
        ),
        "[{e}]"
    );
    s.complete("update-1001", &token, Some("sent 3"), retry.expires_at).await.unwrap();
    assert_eq!(
        s.claim(&request("update-1001", t(2), "h1")).await.unwrap(),
        IdempotencyClaim::Completed { result: Some("sent 3".into()) },
        "[{e}]"
    );
    assert_eq!(
        s.claim(&request("update-1001", t(2), "other")).await.unwrap(),
        IdempotencyClaim::PayloadMismatch,
        "[{e}]"
    );
    assert!(
        matches!(s.release("update-1001", &token).await, Err(StoreError::Conflict { .. })),
        "[{e}] completed records stay"
    );

    // TTL deletion is lazy: the record is still in the table, and must count as gone.
    let after_expiry = t(0) + TimeDelta::hours(26);
    let late = acquired(s.claim(&request("update-1001", after_expiry, "h1")).await.unwrap());

    // A failed attempt releases the key, and the next one acquires it at once.
    s.release("update-1001", &late).await.unwrap();
    acquired(s.claim(&request("update-1001", after_expiry, "h1")).await.unwrap());
    assert_eq!(
        s.complete("never-claimed", "x", None, t(0)).await,
        Err(StoreError::NotFound { entity: "idempotency record", id: "never-claimed".into() }),
        "[{e}]"
    );
}

async fn oversized_items_are_refused_clearly(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    let mut big = client("bulky");
    big.memo = "가".repeat(150_000); // 450,000 bytes of UTF-8
    match s.create_client(&big).await {
        Err(err @ StoreError::ItemTooLarge { entity: "client", size, limit, .. }) => {
            assert!(size > 450_000 && limit == MAX_ITEM_BYTES, "[{e}] {size}");
            let message = err.to_string();
            assert!(
                message.starts_with("client bulky is ") && message.contains("409600-byte item limit"),
                "[{e}] {message}"
            );
        }
        other => panic!("[{e}] expected ItemTooLarge, got {other:?}"),
    }
    assert!(matches!(s.get_client(&id("bulky")).await, Err(StoreError::NotFound { .. })), "[{e}] nothing was written");

    let small = s.create_client(&client("bulky")).await.unwrap();
    assert!(matches!(s.update_client(&big, small.version).await, Err(StoreError::ItemTooLarge { .. })), "[{e}]");
    assert_eq!(s.get_client(&id("bulky")).await.unwrap(), small, "[{e}] the stored client is unchanged");

    // Just under the limit is accepted by both our check and the engine.
    let mut fits = small.value.clone();
    fits.memo = "a".repeat(MAX_ITEM_BYTES - 2_000);
    s.update_client(&fits, small.version).await.unwrap_or_else(|err| panic!("[{e}] {err}"));
}

async fn message_log_reads_by_time(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    let entry = |client: &str, n: i64| MessageLogEntry {
        id: format!("m{n}"),
        client_id: Some(client.parse().unwrap()),
        chat_id: ChatId(-5_000_000_001),
        direction: if n % 2 == 0 { Direction::Outbound } else { Direction::Inbound },
        text: Some(format!("메시지 {n}")),
        file: None,
        process_id: Some("p1".parse().unwrap()),
        telegram_message_id: Some(n),
        at: t(n),
    };
    for n in 0..12 {
        s.append_messages(&[entry("saebyeok", n)]).await.unwrap();
    }
    s.append_messages(&[entry("nuri", 3)]).await.unwrap();
    s.append_messages(&[entry("saebyeok", 3)]).await.unwrap(); // a retried write: kept once

    let client: ClientId = id("saebyeok");
    let (window, _) = all_pages(|p| {
        let client = client.clone();
        async move { s.client_messages(&client, t(2), t(9), &p).await }
    })
    .await;
    let ns: Vec<i64> = window.iter().filter_map(|m| m.telegram_message_id).collect();
    assert_eq!(ns, vec![2, 3, 4, 5, 6, 7, 8], "[{e}] from <= at < until, oldest first, once each");
    assert_eq!(window[0], entry("saebyeok", 2), "[{e}]");
    let nuri = s.client_messages(&id("nuri"), t(0), t(60), &PageRequest::default()).await.unwrap();
    assert_eq!(nuri.items.len(), 1, "[{e}] clients never see each other's messages");
}

async fn trackers_of_a_process_and_open_trackers(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    let process_id: ProcessId = id("p-batch");
    let draft = s.create_process(&process("p-batch", "hanbit", t(0))).await.unwrap();
    // 150 trackers take two transactions of at most 99 (plus the draft check).
    let trackers: Vec<Tracker> = (0..150).map(|i| tracker("p-batch", &format!("c{i:03}"))).collect();
    s.save_draft_trackers(&process_id, draft.version, &trackers).await.unwrap();
    // Saving the draft again replaces the pending trackers; versions only grow.
    s.save_draft_trackers(&process_id, draft.version, &trackers[..60]).await.unwrap();
    s.create_tracker(&tracker("p-other", "c000")).await.unwrap();

    let all = s.trackers_of_process(&process_id).await.unwrap();
    assert_eq!(all.len(), 150, "[{e}] the whole process, across read pages");
    assert!(all.iter().all(|t| t.value.process_id == process_id), "[{e}]");
    let versions: Vec<u64> = all.iter().map(|t| t.version).collect();
    assert_eq!((versions[..60].iter().all(|v| *v == 2), versions[60..].iter().all(|v| *v == 1)), (true, true), "[{e}]");

    let sent = {
        let mut tr = all[0].value.clone();
        tr.apply(TrackerEvent::Sent { at: t(1) }).unwrap();
        s.transition_tracker(&tr, TrackerState::Pending, all[0].version).await.unwrap()
    };
    let skipped = {
        let mut tr = all[1].value.clone();
        tr.apply(TrackerEvent::Skipped { by: StaffId::generate(), at: t(1) }).unwrap();
        s.transition_tracker(&tr, TrackerState::Pending, all[1].version).await.unwrap()
    };
    assert_eq!(skipped.value.state(), TrackerState::Skipped);

    let (pending, _) = all_pages(|p| async move { s.trackers_in_state(TrackerState::Pending, &p).await }).await;
    assert_eq!(pending.len(), 149, "[{e}] 148 of this process and 1 of another; the closed one left the list");
    let waiting = s.trackers_in_state(TrackerState::Sent, &PageRequest::default()).await.unwrap();
    assert_eq!(waiting.items, vec![sent], "[{e}]");
    let closed = s.trackers_in_state(TrackerState::Skipped, &PageRequest::default()).await.unwrap();
    assert!(closed.items.is_empty(), "[{e}] closed trackers are not listed as open");

    // A late save of the draft must not undo progress: the sent tracker refuses it, and nothing in
    // that transaction is written.
    match s.save_draft_trackers(&process_id, draft.version, &trackers[..5]).await {
        Err(StoreError::Conflict { entity: "tracker", id, .. }) => assert_eq!(id, "p-batch/c000", "[{e}]"),
        other => panic!("[{e}] expected a tracker conflict, got {other:?}"),
    }
    assert_eq!(s.get_tracker(&process_id, &id("c002")).await.unwrap().version, 2, "[{e}] all or nothing");
    let mut running = draft.value.clone();
    running.apply(ProcessAction::Start).unwrap();
    s.update_process(&running, draft.version).await.unwrap();
    match s.save_draft_trackers(&process_id, draft.version, &trackers[100..]).await {
        Err(StoreError::Conflict { entity: "process", .. }) => {}
        other => panic!("[{e}] expected a process conflict, got {other:?}"),
    }

    // A client's trackers across processes.
    let of_client = s.trackers_of_client(&id("c000"), &PageRequest::default()).await.unwrap();
    let processes: HashSet<&str> = of_client.items.iter().map(|t| t.value.process_id.as_str()).collect();
    assert_eq!(processes, HashSet::from(["p-batch", "p-other"]), "[{e}]");

    // Processes of a stock, by kickoff.
    s.create_process(&process("late", "hanbit", t(600))).await.unwrap();
    s.create_process(&process("early", "hanbit", t(0))).await.unwrap();
    s.create_process(&process("elsewhere", "nuri", t(300))).await.unwrap();
    let stock: StockId = id("hanbit");
    let of_stock = s.processes_of_stock(&stock, &PageRequest::default()).await.unwrap();
    let order: Vec<&str> = of_stock.items.iter().map(|p| p.value.id.as_str()).collect();
    assert_eq!(order, vec!["early", "p-batch", "late"], "[{e}] by kickoff, then id");
    let every = s.list_processes(&PageRequest::default()).await.unwrap();
    assert_eq!(every.items.len(), 4, "[{e}]");
}

async fn the_staff_feed_keeps_notices_and_stale_cards(fx: &Fixture) {
    use shared::domain::staff_feed::{ProgressCard, StaffNotice};
    let s = &fx.store;
    let e = fx.engine;
    let notice = |id: &str, at: i64| StaffNotice {
        id: id.into(),
        html: format!("<b>{id}</b>"),
        process_id: Some("p1".parse().unwrap()),
        created_at: t(at),
        attempts: 0,
    };
    for (id, at) in [("late", 2), ("early", 0), ("middle", 1), ("late", 2)] {
        s.enqueue_staff_notice(&notice(id, at)).await.unwrap();
    }
    let queued = s.queued_staff_notices(10).await.unwrap();
    let ids: Vec<&str> = queued.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, vec!["early", "middle", "late"], "[{e}] oldest first, a repeat queued once");
    s.count_staff_notice_attempt(&queued[0]).await.unwrap();
    s.remove_staff_notice(&queued[1]).await.unwrap();
    s.remove_staff_notice(&queued[1]).await.unwrap();
    let queued = s.queued_staff_notices(10).await.unwrap();
    assert_eq!(
        queued.iter().map(|n| (n.id.as_str(), n.attempts)).collect::<Vec<_>>(),
        vec![("early", 1), ("late", 0)],
        "[{e}]"
    );

    let p1: ProcessId = id("p1");
    let first = s.touch_card(&p1).await.unwrap();
    assert_eq!((first.was_stale, first.edited_at), (false, None), "[{e}] a new card");
    assert!(s.touch_card(&p1).await.unwrap().was_stale, "[{e}]");
    let stale = s.stale_cards(10).await.unwrap();
    assert_eq!(
        stale,
        vec![ProgressCard {
            process_id: p1.clone(),
            message: None,
            edited_at: None,
            changes: 2,
            shown: 0,
            counts: None
        }],
        "[{e}]"
    );
    let drawn = ProgressCard {
        message: Some((ChatId(-1_001_876_543_210), 7)),
        edited_at: Some(t(5)),
        shown: 2,
        ..stale[0].clone()
    };
    assert!(!s.save_card(&drawn).await.unwrap(), "[{e}] up to date");
    assert!(s.stale_cards(10).await.unwrap().is_empty(), "[{e}] out of the stale list");
    assert_eq!(s.get_card(&p1).await.unwrap(), Some(drawn.clone()), "[{e}]");
    let touched = s.touch_card(&p1).await.unwrap();
    assert_eq!((touched.was_stale, touched.edited_at), (false, Some(t(5))), "[{e}]");
    // A change that came in while the card was drawn keeps it stale.
    s.touch_card(&p1).await.unwrap();
    let racing = ProgressCard { shown: 3, edited_at: Some(t(6)), ..drawn };
    assert!(s.save_card(&racing).await.unwrap(), "[{e}] still stale");
    let stale = s.stale_cards(10).await.unwrap();
    assert_eq!((stale.len(), stale[0].changes, stale[0].shown, stale[0].edited_at), (1, 4, 3, Some(t(6))), "[{e}]");
    assert_eq!(s.get_card(&id("nothing")).await.unwrap(), None, "[{e}]");
}

/// Before phases had their own content, a tracker held its advice as a bare list and the client's
/// bids as `actual`: such an item reads as the bid phase, and its next write drops `actual`.
async fn trackers_stored_before_phases_read_as_bids(fx: &Fixture) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let s = &fx.store;
    let e = fx.engine;
    let mut tracker = tracker("old", "c1");
    tracker.apply(TrackerEvent::Sent { at: t(1) }).unwrap();
    let mut json = serde_json::to_value(&tracker).unwrap();
    let lines = json["advice"]["lines"].clone();
    json["advice"] = lines.clone();
    json["actual"] = serde_json::json!([]);
    json.as_object_mut().unwrap().remove("answer");
    let mut item: std::collections::HashMap<String, AttributeValue> = serde_dynamo::to_item(json).unwrap();
    for (k, v) in [
        ("PK", "PROCESS#old"),
        ("SK", "TRACKER#c1"),
        ("Entity", "tracker"),
        ("GSI2PK", "CLIENT#c1"),
        ("GSI2SK", "TRACKER#old"),
    ] {
        item.insert(k.into(), AttributeValue::S(v.into()));
    }
    item.insert("Version".into(), AttributeValue::N("1".into()));
    let client = &fx.handle.client;
    client.put_item().table_name(&fx.handle.table).set_item(Some(item)).send().await.unwrap();

    let stored = s.get_tracker(&id("old"), &id("c1")).await.unwrap();
    assert_eq!(stored.value.phase(), shared::domain::phase::Phase::Bid, "[{e}]");
    assert_eq!(bid_lines(&stored.value), lines, "[{e}]");
    let mut next = stored.value.clone();
    let by = ChatActor { user_id: TelegramUserId(1), name: "a".into() };
    next.apply(TrackerEvent::Acknowledged { by, at: t(2) }).unwrap();
    s.transition_tracker(&next, TrackerState::Sent, stored.version).await.unwrap();
    let raw = client
        .get_item()
        .table_name(&fx.handle.table)
        .key("PK", AttributeValue::S("PROCESS#old".into()))
        .key("SK", AttributeValue::S("TRACKER#c1".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(!raw.contains_key("actual"), "[{e}] the old attribute is gone");
    assert!(raw["advice"].as_m().is_ok(), "[{e}] the advice is stored with its phase");
}

fn bid_lines(tracker: &Tracker) -> serde_json::Value {
    serde_json::to_value(tracker).unwrap()["advice"]["lines"].clone()
}

async fn inbound_messages_name_the_process_they_answered(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    let entry = MessageLogEntry {
        id: "in-1".into(),
        client_id: Some(id("nuri")),
        chat_id: ChatId(-5_000_000_002),
        direction: Direction::Inbound,
        text: Some("17,500 / 500,000 / 3개월".into()),
        file: None,
        process_id: None,
        telegram_message_id: Some(11),
        at: t(3),
    };
    s.append_messages(std::slice::from_ref(&entry)).await.unwrap();
    s.note_answered_process(&entry, &id("p1")).await.unwrap();
    let log = s.client_messages(&id("nuri"), t(0), t(10), &PageRequest::default()).await.unwrap().items;
    assert_eq!(log, vec![MessageLogEntry { process_id: Some(id("p1")), ..entry.clone() }], "[{e}]");
    // Noting a message that was never logged changes nothing.
    let stray = MessageLogEntry { id: "in-2".into(), ..entry };
    s.note_answered_process(&stray, &id("p1")).await.unwrap();
    assert_eq!(
        s.client_messages(&id("nuri"), t(0), t(10), &PageRequest::default()).await.unwrap().items.len(),
        1,
        "[{e}]"
    );
}

async fn pace_records_are_shared_and_written_without_reading_first(fx: &Fixture) {
    use shared::domain::pacing::{Limit, Rate};
    use shared::ports::pacer::{PaceStore, Window};
    let e = fx.engine;
    let (a, a_requests) = fx.other_process();
    let (b, _) = fx.other_process();
    let bot = Limit { record: "bot".into(), field: "Tat", rate: Rate { interval_ms: 37, burst: 1 }, shared: true };
    let at = |ms: i64| t(0) + TimeDelta::milliseconds(ms);
    let slot = |r: shared::ports::pacer::Reservation| r.slots[0].unwrap();
    // Two processes, each with its own memory of the record, take turns: never the same slot.
    let mut slots = Vec::new();
    for i in 0..6 {
        let store = if i % 2 == 0 { &a } else { &b };
        slots.push(slot(store.reserve(&[vec![bot.clone()]], at(0), Window::default()).await.unwrap()));
    }
    let gaps: Vec<i64> = slots.windows(2).map(|w| (w[1] - w[0]).num_milliseconds()).collect();
    assert_eq!(gaps, vec![37; 5], "[{e}] {slots:?}");
    // A process whose memory went stale (the other wrote last) learns the value from the refused
    // write itself; once it knows it, a reservation is one write, reading nothing.
    a_requests.reset();
    let learned = slot(a.reserve(&[vec![bot.clone()]], at(0), Window::default()).await.unwrap());
    assert_eq!((learned - slots[5]).num_milliseconds(), 37, "[{e}]");
    assert_eq!(a_requests.total(), 2, "[{e}] {:?}", a_requests.by_operation());
    a_requests.reset();
    let next = slot(a.reserve(&[vec![bot.clone()]], at(0), Window::default()).await.unwrap());
    assert_eq!((next - learned).num_milliseconds(), 37, "[{e}]");
    assert_eq!(a_requests.by_operation().into_iter().collect::<Vec<_>>(), vec![("UpdateItem".into(), 1)], "[{e}]");
    // A batch across records is one transaction.
    let chat = |c: i64| Limit {
        record: format!("chat:{c}"),
        field: "Tat",
        rate: Rate { interval_ms: 1_050, burst: 1 },
        shared: false,
    };
    a_requests.reset();
    let batch =
        a.reserve(&[vec![bot.clone(), chat(1)], vec![bot.clone(), chat(2)]], at(0), Window::default()).await.unwrap();
    assert_eq!(batch.slots.iter().flatten().count(), 2, "[{e}]");
    assert_eq!(
        a_requests.by_operation().into_iter().collect::<Vec<_>>(),
        vec![("TransactWriteItems".into(), 1)],
        "[{e}]"
    );
    // A chat busy beyond the window holds nothing, not even the bot.
    let busy = a
        .reserve(&[vec![bot.clone(), chat(1)]], at(0), Window { own_by: Some(at(500)), first_by: None })
        .await
        .unwrap();
    assert_eq!(busy.slots, vec![None], "[{e}]");
    assert!(busy.next.is_some_and(|n| n > at(500)), "[{e}] {busy:?}");
    // Telegram said wait: the limit moves on for every process.
    b.advance(&bot, at(60_000)).await.unwrap();
    let after = slot(a.reserve(&[vec![bot.clone()]], at(0), Window::default()).await.unwrap());
    assert_eq!(after, at(60_000), "[{e}]");
}

async fn progress_counts_move_with_every_tracker(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    s.create_stock(&stock("counted", "2026-03-16")).await.unwrap();
    let created = s.create_process(&process("counted-p", "counted", t(10))).await.unwrap();
    let p: ProcessId = id("counted-p");
    let counts = |card: Option<shared::domain::staff_feed::ProgressCard>| {
        card.and_then(|c| c.counts).map(|c| c.into_iter().filter(|(_, n)| *n > 0).collect::<Vec<_>>())
    };
    assert_eq!(counts(s.get_card(&p).await.unwrap()), None, "[{e}] nothing counted yet");
    s.save_draft_trackers(&p, created.version, &[tracker("counted-p", "a"), tracker("counted-p", "b")]).await.unwrap();
    assert_eq!(counts(s.get_card(&p).await.unwrap()), Some(vec![(TrackerState::Pending, 2)]), "[{e}]");
    s.create_tracker(&tracker("counted-p", "c")).await.unwrap();
    s.remove_pending_tracker(&p, &id("b")).await.unwrap();
    s.remove_pending_tracker(&p, &id("b")).await.unwrap();
    assert_eq!(
        counts(s.get_card(&p).await.unwrap()),
        Some(vec![(TrackerState::Pending, 2)]),
        "[{e}] a removal counts once"
    );

    // A send: the tracker, its count and its message's log entry in one write.
    let stored = s.get_tracker(&p, &id("a")).await.unwrap();
    let mut sent = stored.value.clone();
    sent.apply(TrackerEvent::Sent { at: t(10) }).unwrap();
    let entry = MessageLogEntry {
        id: "out-1".into(),
        client_id: Some(id("a")),
        chat_id: ChatId(-100),
        direction: Direction::Outbound,
        text: Some("자문".into()),
        file: None,
        process_id: Some(p.clone()),
        telegram_message_id: Some(1),
        at: t(10),
    };
    let saved = s
        .transition_tracker_logged(&sent, TrackerState::Pending, stored.version, std::slice::from_ref(&entry))
        .await
        .unwrap();
    assert_eq!(saved.version, stored.version + 1, "[{e}]");
    assert_eq!(s.get_tracker(&p, &id("a")).await.unwrap(), saved, "[{e}]");
    let card = s.get_card(&p).await.unwrap();
    assert_eq!(counts(card.clone()), Some(vec![(TrackerState::Pending, 1), (TrackerState::Sent, 1)]), "[{e}]");
    assert!(card.is_some_and(|c| c.is_stale()), "[{e}] the card shows less than happened");
    let logged = s.client_messages(&id("a"), t(0), t(60), &PageRequest::first(10)).await.unwrap();
    assert_eq!(logged.items, vec![entry], "[{e}]");
    // A lost race writes nothing: neither the tracker, nor the count, nor the log.
    let late = s.transition_tracker_logged(&sent, TrackerState::Pending, stored.version, &[]).await;
    assert!(matches!(late, Err(StoreError::Conflict { .. })), "[{e}] {late:?}");
    assert_eq!(
        counts(s.get_card(&p).await.unwrap()),
        Some(vec![(TrackerState::Pending, 1), (TrackerState::Sent, 1)]),
        "[{e}]"
    );
}

async fn an_update_is_taken_retried_and_logged_once(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    let request = |hash: &str| IdempotencyRequest {
        key: "telegram-update:77".into(),
        payload_hash: Some(hash.into()),
        now: t(0),
        in_progress_until: t(1),
        expires_at: t(60 * 26),
    };
    let entry = MessageLogEntry {
        id: "in-77".into(),
        client_id: Some(id("a")),
        chat_id: ChatId(-100),
        direction: Direction::Inbound,
        text: Some("확인".into()),
        file: None,
        process_id: None,
        telegram_message_id: Some(5),
        at: t(0),
    };
    let first = s.begin_update(&request("h"), std::slice::from_ref(&entry)).await.unwrap();
    let UpdateClaim::Taken { token, attempt: 1 } = first else { panic!("[{e}] a first delivery: {first:?}") };
    assert!(
        matches!(
            s.begin_update(&request("h"), std::slice::from_ref(&entry)).await.unwrap(),
            UpdateClaim::InProgress { .. }
        ),
        "[{e}] a redelivery while the first attempt runs"
    );
    // The attempt fails and gives the update back: the redelivery takes it as the second attempt.
    s.fail_update("telegram-update:77", &token, "the store failed").await.unwrap();
    let second = s.begin_update(&request("h"), std::slice::from_ref(&entry)).await.unwrap();
    let UpdateClaim::Taken { token: _, attempt: 2 } = second else { panic!("[{e}] after a failure: {second:?}") };
    // The second attempt dies without a word; once its deadline passed, a third takes over.
    let after_deadline = IdempotencyRequest { now: t(2), in_progress_until: t(3), ..request("h") };
    let third = s.begin_update(&after_deadline, &[]).await.unwrap();
    let UpdateClaim::Taken { token, attempt: 3 } = third else { panic!("[{e}] after a dead attempt: {third:?}") };
    s.complete("telegram-update:77", &token, Some("handled"), t(60 * 26)).await.unwrap();
    assert_eq!(s.begin_update(&after_deadline, &[]).await.unwrap(), UpdateClaim::Done, "[{e}] once handled");
    assert_eq!(s.begin_update(&request("other"), &[]).await.unwrap(), UpdateClaim::PayloadMismatch, "[{e}]");
    // A record given back with `release` (no owner left) is taken over as well.
    let other = IdempotencyRequest { key: "telegram-update:78".into(), ..request("h") };
    let UpdateClaim::Taken { token, attempt: 1 } = s.begin_update(&other, &[]).await.unwrap() else { panic!("[{e}]") };
    s.release("telegram-update:78", &token).await.unwrap();
    let again = s.begin_update(&other, &[]).await.unwrap();
    assert!(matches!(again, UpdateClaim::Taken { attempt: 2, .. }), "[{e}] after a release: {again:?}");
    let logged = s.client_messages(&id("a"), t(-1), t(1), &PageRequest::first(10)).await.unwrap();
    assert_eq!(logged.items, vec![entry], "[{e}]");
}

async fn a_chats_client_is_one_read_and_follows_its_changes(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    let created = s.create_client(&client("copied")).await.unwrap();
    let linked = s.link_chat(&id("copied"), &binding(-4242), created.version).await.unwrap();
    let (other, requests) = fx.other_process();
    assert_eq!(other.client_by_chat(ChatId(-4242)).await.unwrap(), Some(linked.clone()), "[{e}]");
    assert_eq!(requests.total(), 1, "[{e}] one read");
    let mut renamed = linked.value.clone();
    renamed.name = Label::new("(가상)새벽투자").unwrap();
    let updated = s.update_client(&renamed, linked.version).await.unwrap();
    assert_eq!(updated.value.chat, linked.value.chat, "[{e}] the chat stays");
    assert_eq!(s.client_by_chat(ChatId(-4242)).await.unwrap(), Some(updated.clone()), "[{e}] the copy follows");
    assert_eq!(s.get_client(&id("copied")).await.unwrap(), updated, "[{e}]");
    let stale = s.update_client(&renamed, linked.version).await;
    assert!(matches!(stale, Err(StoreError::Conflict { .. })), "[{e}] {stale:?}");
    let got = s.get_clients(&[id("copied"), id("nobody")]).await.unwrap();
    assert_eq!(got, vec![updated], "[{e}] only those that exist");
}

async fn a_process_its_stock_and_a_tracker_read_together(fx: &Fixture) {
    let s = &fx.store;
    let e = fx.engine;
    let stored_stock = s.create_stock(&stock("bundled", "2026-03-16")).await.unwrap();
    let created = s.create_process(&process("bundled-p", "bundled", t(10))).await.unwrap();
    let p: ProcessId = id("bundled-p");
    s.save_draft_trackers(&p, created.version, &[tracker("bundled-p", "a")]).await.unwrap();
    let (other, requests) = fx.other_process();
    let bundle = other.process_bundle(&p, Some(&id("bundled")), Some(&id("a"))).await.unwrap();
    assert_eq!(requests.total(), 1, "[{e}] one read");
    assert_eq!(bundle.process, s.get_process(&p).await.unwrap(), "[{e}]");
    assert_eq!(bundle.stock, Some(stored_stock), "[{e}]");
    assert_eq!(bundle.tracker, Some(s.get_tracker(&p, &id("a")).await.unwrap()), "[{e}]");
    let no_tracker = s.process_bundle(&p, None, Some(&id("z"))).await.unwrap();
    assert_eq!((no_tracker.stock, no_tracker.tracker), (None, None), "[{e}]");
    assert!(matches!(s.process_bundle(&id("nope"), None, None).await, Err(StoreError::NotFound { .. })), "[{e}]");
    assert!(
        matches!(
            s.process_bundle(&p, Some(&id("gone")), None).await,
            Err(StoreError::NotFound { entity: "stock", .. })
        ),
        "[{e}]"
    );
}

async fn only_a_clients_latest_link_code_links_and_only_once(fx: &Fixture) {
    let e = fx.engine;
    let store = &fx.store;
    let (saebyeok, nuri): (ClientId, ClientId) = ("saebyeok".parse().unwrap(), "nuri".parse().unwrap());
    let code = |s: &str| s.parse::<shared::domain::link_code::LinkCode>().unwrap();
    let (first, second, other) = (code("AAAA2222"), code("BBBB3333"), code("CCCC4444"));
    store.create_link_code(&first, &saebyeok, t(60)).await.unwrap();
    store.create_link_code(&other, &nuri, t(60)).await.unwrap();
    store.create_link_code(&second, &saebyeok, t(61)).await.unwrap();
    // A new code revokes the client's earlier one, not another client's.
    assert_eq!(store.redeem_link_code(&first, t(1)).await.unwrap(), None, "[{e}] revoked by the newer code");
    assert_eq!(store.redeem_link_code(&other, t(1)).await.unwrap(), Some((nuri, t(60))), "[{e}]");
    assert_eq!(store.redeem_link_code(&second, t(1)).await.unwrap(), Some((saebyeok.clone(), t(61))), "[{e}]");
    // Once linked, the same code does not link again; one issued afterwards does, until it expires.
    assert_eq!(store.redeem_link_code(&second, t(2)).await.unwrap(), None, "[{e}]");
    let again = code("DDDD5555");
    store.create_link_code(&again, &saebyeok, t(62)).await.unwrap();
    assert_eq!(store.redeem_link_code(&again, t(70)).await.unwrap(), None, "[{e}] expired");
    assert_eq!(store.redeem_link_code(&again, t(3)).await.unwrap(), Some((saebyeok.clone(), t(62))), "[{e}]");
    // Staff can revoke every code at once: the next one issued links again.
    let (leaked, fresh) = (code("EEEE6666"), code("FFFF7777"));
    store.create_link_code(&leaked, &saebyeok, t(63)).await.unwrap();
    store.revoke_link_codes(&saebyeok, t(63)).await.unwrap();
    assert_eq!(store.redeem_link_code(&leaked, t(4)).await.unwrap(), None, "[{e}] revoked");
    store.create_link_code(&fresh, &saebyeok, t(64)).await.unwrap();
    assert_eq!(store.redeem_link_code(&fresh, t(4)).await.unwrap(), Some((saebyeok, t(64))), "[{e}]");
}

/// The emergency stop's record: running until first written, then versioned like every record,
/// so a stop and a resume at once cannot both win.
async fn the_bot_switch_is_one_versioned_record(fx: &Fixture) {
    use shared::domain::bot::{BotControl, Resume, Stop};
    let s = &fx.store;
    let fresh = s.get_bot_control().await.unwrap();
    assert_eq!((fresh.value.clone(), fresh.version), (BotControl::default(), 0), "never written: running");
    let mut stopped = fresh.value.clone();
    let stop =
        Stop {
            by: "김운영".into(), staff_id: Some(id("kim")), since: t(0), reason: Label::new("오발송").unwrap()
        };
    stopped.stop(stop.clone()).unwrap();
    let saved = s.put_bot_control(&stopped, 0).await.unwrap();
    assert_eq!(saved.version, 1);
    assert!(matches!(s.put_bot_control(&stopped, 0).await, Err(StoreError::Conflict { .. })), "a second first write");
    let read = s.get_bot_control().await.unwrap();
    assert_eq!((read.value.stopped, read.version), (Some(stop), 1));
    let mut resumed = stopped.clone();
    resumed.resume(Resume { by: "박자문".into(), at: t(30) }).unwrap();
    assert_eq!(s.put_bot_control(&resumed, 1).await.unwrap().version, 2);
    assert!(matches!(s.put_bot_control(&stopped, 1).await, Err(StoreError::Conflict { .. })), "a stale write");
    let read = s.get_bot_control().await.unwrap();
    assert_eq!((read.value, read.version), (resumed, 2));
}
