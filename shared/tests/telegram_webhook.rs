//! The Telegram layer end to end: Telegram's (fake) servers deliver updates to our webhook, which
//! answers through the Bot API, on the embedded store.

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use shared::app::{AppError, Outgoing};
use shared::domain::ids::ChatId;
use shared::domain::ids::ProcessId;
use shared::domain::staff::Role;
use shared::domain::tracker::Tracker;
use shared::ports::store::{
    ClientStore, IdempotencyStore, JournalStore, MessageLogStore, PageRequest, ProcessStore, StaffStore, StockStore,
    TrackerStore,
};
use shared::telegram::error::TelegramError;
use std::time::Duration;
use support::*;
use testkit::fake_telegram::FakeConfig;
use tower::ServiceExt;

async fn post(bed: &Bed, secret: Option<&str>, body: Vec<u8>) -> StatusCode {
    let mut request = Request::post("/telegram/webhook").header("content-type", "application/json");
    if let Some(secret) = secret {
        request = request.header("x-telegram-bot-api-secret-token", secret);
    }
    bed.router.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_a_group_confirms_in_korean_and_tells_staff() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let client = bed.store.create_client(&client("saebyeok", "(가상)새벽자산운용")).await.unwrap();
    let (code, _) = bed.app.issue_link_code(&client.value).await.unwrap();

    bed.deliver(group_text(9_001, GROUP, &format!("/link {}", code.as_str().to_lowercase()))).await;

    let linked = bed.store.client_by_chat(GROUP).await.unwrap().expect("the group is linked");
    assert_eq!(linked.value.id, client.value.id);
    assert_eq!(
        bed.texts(GROUP),
        vec![
            "✅ 이 그룹이 <b>(가상)새벽자산운용</b>와(과) 연결되었습니다.\n앞으로 공모주 자문 안내를 이 그룹으로 보내드립니다."
        ]
    );
    assert_eq!(bed.texts(STAFF), vec![format!("🔗 (가상)새벽자산운용 그룹 연결: 새벽 x 자문 ({})", GROUP.0)]);

    // The code is single-use: a second group cannot take it.
    let other = ChatId(-1_001_000_000_777);
    bed.deliver(group_text(9_002, other, &format!("/link {code}"))).await;
    assert_eq!(bed.store.client_by_chat(other).await.unwrap(), None);
    assert_eq!(
        bed.texts(other),
        vec!["연결 코드가 올바르지 않거나 만료되었습니다.\n담당자에게 새 코드를 요청해 주세요."]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_another_group_tells_the_former_group_and_staff() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let client = bed.store.create_client(&client("saebyeok", "(가상)새벽자산운용")).await.unwrap();
    let (first, _) = bed.app.issue_link_code(&client.value).await.unwrap();
    bed.deliver(group_text(9_010, GROUP, &format!("/link {first}"))).await;
    let (second, _) = bed.app.issue_link_code(&client.value).await.unwrap();
    let elsewhere = ChatId(-1_001_000_000_888);
    bed.deliver(group_text(9_011, elsewhere, &format!("/link {second}"))).await;

    assert_eq!(bed.store.client_by_chat(elsewhere).await.unwrap().map(|c| c.value.id), Some(client.value.id));
    assert_eq!(bed.store.client_by_chat(GROUP).await.unwrap(), None);
    assert_eq!(bed.texts(GROUP).last().unwrap(), &shared::domain::templates::group_moved("(가상)새벽자산운용"));
    assert_eq!(
        bed.texts(STAFF).last().unwrap(),
        &format!("↪️ (가상)새벽자산운용: 이전 그룹 새벽 x 자문 ({}) 은(는) 더 이상 알림을 받지 않습니다.", GROUP.0)
    );
    // The former group is free for another client.
    let other = bed.store.create_client(&support::client("nuri", "(가상)누리자산운용")).await.unwrap();
    let (code, _) = bed.app.issue_link_code(&other.value).await.unwrap();
    bed.deliver(group_text(9_012, GROUP, &format!("/link {code}"))).await;
    assert_eq!(bed.store.client_by_chat(GROUP).await.unwrap().map(|c| c.value.id), Some(other.value.id));
    // Codes taken, groups freed, staff notices sent: the webhook's IAM grants no DeleteItem or Scan.
    let sent = bed.requests.by_operation();
    assert!(!sent.contains_key("DeleteItem") && !sent.contains_key("Scan"), "{sent:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_update_has_no_second_effect() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let client = bed.store.create_client(&client("saebyeok", "(가상)새벽자산운용")).await.unwrap();
    let (code, _) = bed.app.issue_link_code(&client.value).await.unwrap();
    let id = bed.deliver(group_text(9_100, GROUP, &format!("/link {code}"))).await;
    // The first delivery linked the group, confirmed it there and told staff.
    let linked = bed.store.get_client(&client.value.id).await.unwrap();
    assert_eq!(linked.value.reachable_chat(), Some(GROUP), "the first delivery linked the group");
    assert_eq!(linked.version, 2);
    assert_eq!(bed.texts(GROUP), vec![shared::domain::templates::link_confirmed("(가상)새벽자산운용")]);
    assert_eq!(bed.texts(STAFF).len(), 1, "staff told: {:?}", bed.texts(STAFF));
    let calls = bed.fake.calls().len();
    assert!(bed.fake.redeliver(id));
    assert!(
        bed.fake
            .wait_for(Duration::from_secs(10), |f| f
                .deliveries()
                .iter()
                .filter(|d| d.update_id == id && d.succeeded())
                .count()
                == 2)
            .await
    );
    // And once more straight at the handler, as a concurrent duplicate would arrive.
    let body = serde_json::to_vec(&group_text(9_100, GROUP, &format!("/link {code}"))).unwrap();
    assert_eq!(post(&bed, Some(SECRET), body).await, StatusCode::OK);

    assert_eq!(bed.texts(GROUP).len(), 1, "one confirmation: {:?}", bed.texts(GROUP));
    assert_eq!(bed.texts(STAFF).len(), 1, "one staff notice");
    assert_eq!(bed.fake.calls().len(), calls, "no call to Telegram at all the second and third time");
    assert_eq!(bed.store.get_client(&client.value.id).await.unwrap().version, 2, "linked once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_fired_twice_under_one_name_and_time_acts_once() {
    use shared::ports::store::{IdempotencyClaim, IdempotencyRequest};
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let process = first_day_process(&bed, "twice", 2).await;
    bed.app.schedule_process(&process).await.unwrap();
    let job = shared::ports::scheduler::Job::kickoff(&process, bed.app.clock.now());
    let key = format!("schedule:{}:{}", job.name, job.at.to_rfc3339());
    bed.app.run_job(&key, &job.payload).await.unwrap();
    // The first fire sent each client its advice and recorded the job as done.
    for i in 0..2 {
        assert_eq!(bed.texts(client_chat(i)).len(), 1, "client {i} advised by the first fire");
    }
    let now = chrono::Utc::now();
    let probe = IdempotencyRequest {
        key: key.clone(),
        payload_hash: None,
        now,
        in_progress_until: now + chrono::TimeDelta::seconds(1),
        expires_at: now + chrono::TimeDelta::hours(1),
    };
    assert!(matches!(bed.store.claim(&probe).await.unwrap(), IdempotencyClaim::Completed { .. }), "the job is done");
    // EventBridge fires it again under the same name and time: nothing more happens.
    let calls = bed.fake.calls().len();
    bed.app.run_job(&key, &job.payload).await.unwrap();
    assert_eq!(bed.fake.calls().len(), calls, "no second send");
    for i in 0..2 {
        assert_eq!(bed.texts(client_chat(i)).len(), 1, "client {i} advised once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_while_sending_to_60_groups_loses_nothing() {
    // Telegram's real limits in the fake, our real pacing in the app.
    let bed = bed(FakeConfig::default(), shared::domain::pacing::TelegramLimits::default()).await;
    let mut targets = Vec::new();
    for i in 0..60 {
        let chat = ChatId(-1_001_100_000_000 - i);
        targets.push((bed.linked_client(&format!("c{i:02}"), chat).await, chat));
    }
    bed.fake.retry_after_storm(6, 1);
    let sends = targets.iter().map(|(client, chat)| {
        let app = bed.app.clone();
        let out = Outgoing {
            client: Some(client.clone()),
            ..Outgoing::text(*chat, format!("<b>{client}</b> 자문 안내"))
        };
        tokio::spawn(async move { app.deliver(&out).await })
    });
    for send in futures_join(sends.collect()).await {
        assert_eq!(send.unwrap().unwrap().len(), 1);
    }
    for (client, chat) in &targets {
        assert_eq!(bed.texts(*chat), vec![format!("<b>{client}</b> 자문 안내")], "exactly once to {chat}");
    }
    assert_eq!(bed.fake.injected_429s(), 6, "the storm happened");
    assert_eq!(bed.fake.violations(), 0, "and no limit was broken: {:?}", bed.fake.violation_log());
}

/// (가상)한빛로보틱스 with a first-day participation process for two clients.
async fn demo_process(bed: &Bed) -> (ProcessId, Vec<Tracker>) {
    use shared::domain::lockup::LockUp;
    use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
    let stock = shared::demo::hanbit();
    let kind = ProcessKind::Participation { round: Round::FirstDay };
    let kickoff = kind.default_kickoff(stock.schedule(), shared::domain::calendar::KrxCalendar::builtin()).unwrap();
    bed.store.create_stock(&stock).await.unwrap();
    let process =
        Process::new(ProcessId::generate(), Some(stock.id.clone()), kind, kickoff, ReminderPolicy::default(), kickoff);
    bed.store.create_process(&process).await.unwrap();
    let advice = bids_advised(&[("main", 17_500, 300_000, LockUp::Months1)]);
    let trackers = ["saebyeok", "gaon"]
        .iter()
        .map(|c| Tracker::new(process.id.clone(), c.parse().unwrap(), advice.clone(), kickoff))
        .collect();
    (process.id, trackers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_messages_to_one_group_keep_its_limits() {
    let bed = bed(FakeConfig::default(), shared::domain::pacing::TelegramLimits::default()).await;
    let client = bed.linked_client("gaon", GROUP).await;
    let sends = (0..4).map(|i| {
        let app = bed.app.clone();
        let out = Outgoing { client: Some(client.clone()), ..Outgoing::text(GROUP, format!("안내 {i}")) };
        tokio::spawn(async move { app.deliver(&out).await })
    });
    for send in futures_join(sends.collect()).await {
        send.unwrap().unwrap();
    }
    let sent = bed.fake.sent(GROUP.0);
    assert_eq!(sent.len(), 4);
    for pair in sent.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(gap >= Duration::from_millis(500), "messages to one chat {gap:?} apart (slots are 1.05 s apart)");
    }
    assert_eq!(bed.fake.violations(), 0, "{:?}", bed.fake.violation_log());
}

async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrated_group_keeps_receiving() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let old = ChatId(-4_012_345_678);
    let new = ChatId(-1_002_456_789_012);
    let client = bed.linked_client("gaon", old).await;
    bed.fake.migrate(old.0, new.0);

    let out = Outgoing { client: Some(client.clone()), ..Outgoing::text(old, "안내".into()) };
    let sent = bed.app.deliver(&out).await.unwrap();
    assert_eq!(sent[0].chat.id, new.0);
    assert_eq!(bed.texts(new), vec!["안내"], "resent once to the supergroup");
    assert_eq!(bed.store.client_by_chat(new).await.unwrap().map(|c| c.value.id), Some(client.clone()));
    assert_eq!(bed.store.client_by_chat(old).await.unwrap(), None);
    assert_eq!(
        bed.texts(STAFF),
        vec![format!("ℹ️ (가상)gaon자산운용 그룹이 슈퍼그룹으로 전환되어 연결을 옮겼습니다: {} → {}", old.0, new.0)]
    );

    // Both halves of Telegram's own migration notice arrive later and change nothing more.
    bed.deliver(event("migrate_to_chat")).await;
    bed.deliver(event("migrate_from_chat")).await;
    assert_eq!(bed.store.client_by_chat(new).await.unwrap().map(|c| c.value.id), Some(client));
    assert_eq!(bed.texts(STAFF).len(), 1);
    bed.app.deliver(&Outgoing::text(new, "두 번째".into())).await.unwrap();
    assert_eq!(bed.texts(new), vec!["안내", "두 번째"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_notice_moves_the_binding_before_any_send() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let client = bed.linked_client("gaon", ChatId(-4_012_345_678)).await;
    bed.deliver(event("migrate_to_chat")).await;
    let moved = bed.store.client_by_chat(ChatId(-1_002_456_789_012)).await.unwrap();
    assert_eq!(moved.map(|c| c.value.id), Some(client));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kicked_bot_stops_sending_and_staff_are_told() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let client = bed.linked_client("nuri", GROUP).await;
    bed.fake.kick(GROUP.0);

    let out = Outgoing { client: Some(client.clone()), ..Outgoing::text(GROUP, "안내".into()) };
    match bed.app.deliver(&out).await {
        Err(AppError::Telegram(TelegramError::Forbidden { .. })) => {}
        other => panic!("expected Forbidden, got {other:?}"),
    }
    let stored = bed.store.get_client(&client).await.unwrap().value;
    assert_eq!(stored.reachable_chat(), None, "no more sends or reminders to it");
    assert_eq!(
        bed.texts(STAFF),
        vec![format!(
            "🚨 (가상)nuri자산운용 그룹({})에서 봇이 제외되었습니다. 이 고객사로의 발송과 리마인드를 중단합니다.",
            GROUP.0
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_updates_keep_the_binding_right() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let client = bed.linked_client("nuri", GROUP).await;
    bed.deliver(event("my_chat_member_kicked")).await;
    assert_eq!(bed.store.get_client(&client).await.unwrap().value.reachable_chat(), None);
    assert_eq!(bed.texts(STAFF).len(), 1, "staff told once");
    assert!(bed.texts(GROUP).is_empty(), "nothing sent to a group that removed the bot");

    // Added back: the binding is active again.
    let mut added = event("my_chat_member_added");
    added["update_id"] = serde_json::json!(9_200);
    added["my_chat_member"]["chat"] =
        serde_json::json!({ "id": GROUP.0, "title": "누리 x 자문", "type": "supergroup" });
    bed.deliver(added).await;
    assert_eq!(bed.store.get_client(&client).await.unwrap().value.reachable_chat(), Some(GROUP));
    assert_eq!(bed.texts(STAFF)[1], "✅ (가상)nuri자산운용 그룹에 봇이 다시 추가되어 발송을 재개합니다.");

    // Added to a group no client owns: the group is asked to link, staff are told.
    bed.deliver(event("my_chat_member_added")).await;
    let unknown = ChatId(-4_012_345_678);
    assert_eq!(bed.texts(unknown).len(), 1);
    assert!(bed.texts(STAFF)[2].starts_with("ℹ️ 봇이 연결되지 않은 그룹에 추가됨"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_commands_answer_in_the_staff_group_only() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    bed.store.create_client(&client("saebyeok", "(가상)새벽자산운용")).await.unwrap();
    // Anyone can be added to the staff group: a person on no staff record gets no answer but why.
    bed.deliver(event("staff_help")).await;
    assert_eq!(bed.texts(STAFF)[0], shared::domain::templates::staff_only(Role::Viewer));
    let registered = |id: &str, user: i64, role: Role, active: bool| shared::domain::staff::Staff {
        id: id.parse().unwrap(),
        name: shared::domain::text::Label::new(format!("직원 {id}")).unwrap(),
        role,
        telegram_user_id: Some(shared::domain::ids::TelegramUserId(user)),
        active,
    };
    // The help's sender is a viewer; the other sender an operator; one more left the firm.
    bed.store.create_staff(&registered("lee", 6_345_678_901, Role::Viewer, true)).await.unwrap();
    bed.store.create_staff(&registered("kim", 6_123_456_789, Role::Operator, true)).await.unwrap();
    bed.app.memo.forget_staff();
    let mut again = event("staff_help");
    again["update_id"] = serde_json::json!(9_299);
    bed.deliver(again).await;
    assert!(bed.texts(STAFF)[1].starts_with("<b>운영팀 명령어</b>"));
    bed.deliver(group_text(9_300, STAFF, "/code 새벽")).await;
    assert!(
        bed.texts(STAFF)[2].starts_with("🔗 <b>(가상)새벽자산운용</b> 연결 코드: <code>"),
        "{}",
        bed.texts(STAFF)[2]
    );
    bed.deliver(group_text(9_301, STAFF, "/status 없는종목")).await;
    assert_eq!(bed.texts(STAFF)[3], "종목을 찾을 수 없습니다: 없는종목");
    let (process, trackers) = demo_process(&bed).await;
    bed.store.save_draft_trackers(&process, 1, &trackers).await.unwrap();
    bed.deliver(group_text(9_303, STAFF, "/status 한빛")).await;
    assert_eq!(
        bed.texts(STAFF)[4],
        "📊 <b>(가상)한빛로보틱스</b>\n• 수요예측 참여 (첫날) (2026-03-16 09:00 KST) — 대기 2"
    );
    // Each command is in the audit log, by the person who gave it.
    let (from, until) =
        (chrono::Utc::now() - chrono::TimeDelta::hours(1), chrono::Utc::now() + chrono::TimeDelta::hours(1));
    let audit = bed.store.audit(from, until, &PageRequest::default()).await.unwrap().items;
    let by: Vec<(&str, &str)> = audit.iter().map(|a| (a.actor.as_str(), a.action.as_str())).collect();
    assert!(by.contains(&("직원 kim", "telegram/code")), "{by:?}");
    assert!(by.contains(&("직원 lee", "telegram/help")), "{by:?}");
    // A link code needs an operator, as in the API; a deactivated operator is no one.
    let mut kim = bed.store.get_staff(&"kim".parse().unwrap()).await.unwrap();
    kim.value.active = false;
    bed.store.update_staff(&kim.value, kim.version).await.unwrap();
    bed.app.memo.forget_staff();
    bed.deliver(group_text(9_304, STAFF, "/code 새벽")).await;
    assert_eq!(bed.texts(STAFF)[5], shared::domain::templates::staff_only(Role::Operator));
    // The same command in a client group is not a staff command.
    bed.linked_client("gaon", GROUP).await;
    bed.deliver(group_text(9_302, GROUP, "/code 새벽")).await;
    assert!(bed.texts(GROUP).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_refused_with_401_before_the_body_is_read_and_an_oversized_body_with_413() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let body = serde_json::to_vec(&event("staff_help")).unwrap();
    assert_eq!(post(&bed, Some("wrong-secret"), body.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post(&bed, None, body.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post(&bed, Some(&SECRET[..SECRET.len() - 1]), body.clone()).await, StatusCode::UNAUTHORIZED);
    assert!(bed.texts(STAFF).is_empty(), "nothing was handled");
    let huge = vec![b' '; shared::http::MAX_UPDATE_BYTES + 1];
    // The secret is checked before the body is read: a stranger learns nothing about the limit.
    assert_eq!(post(&bed, Some("wrong-secret"), huge.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post(&bed, Some(SECRET), huge).await, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(post(&bed, Some(SECRET), body).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_held_by_a_live_attempt_asks_for_a_retry() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    // Another attempt holds this update's lock: Telegram must retry later, not drop it.
    let update = group_text(9_400, GROUP, "/help");
    let claim = shared::ports::store::IdempotencyRequest {
        key: "telegram-update:9400".into(),
        payload_hash: None,
        now: chrono::Utc::now(),
        in_progress_until: chrono::Utc::now() + chrono::TimeDelta::seconds(30),
        expires_at: chrono::Utc::now() + chrono::TimeDelta::hours(1),
    };
    bed.store.claim(&claim).await.unwrap();
    assert_eq!(post(&bed, Some(SECRET), serde_json::to_vec(&update).unwrap()).await, StatusCode::SERVICE_UNAVAILABLE);
    assert!(bed.texts(GROUP).is_empty(), "nothing was done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_part_way_asks_for_the_update_again_and_the_redelivery_applies_it_once() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    bed.linked_client("saebyeok", GROUP).await;
    // Telegram fails the reply and each of its retries: handling fails after the update was taken.
    bed.fake.fail_next(6, 500);
    let stranger = ChatId(-1_001_000_000_555);
    let update = serde_json::to_vec(&group_text(9_500, stranger, "/start")).unwrap();
    assert_eq!(post(&bed, Some(SECRET), update.clone()).await, StatusCode::SERVICE_UNAVAILABLE);
    assert!(bed.texts(stranger).is_empty());
    let from = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    let errors = bed.store.errors(from, chrono::Utc::now(), &PageRequest::default()).await.unwrap().items;
    assert!(errors.iter().any(|e| e.context == "telegram-update:9500"), "the failure is in the error log: {errors:?}");
    // Telegram is back: the redelivery replies, once.
    assert_eq!(post(&bed, Some(SECRET), update.clone()).await, StatusCode::OK);
    assert_eq!(bed.texts(stranger).len(), 1);
    let calls = bed.fake.calls().len();
    assert_eq!(post(&bed, Some(SECRET), update).await, StatusCode::OK);
    assert_eq!(bed.fake.calls().len(), calls, "a redelivery of a handled update does nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_record_the_update_asks_for_a_retry() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    // A store whose table is gone: nothing can be recorded, so Telegram must keep the update.
    let broken =
        shared::adapters::dynamodb::DynamoStore::new(embedded_store::local_client("http://127.0.0.1:9"), "missing");
    let app = shared::app::App { store: std::sync::Arc::new(broken), ..(*bed.app).clone() };
    let router = shared::http::router(std::sync::Arc::new(app), shared::http::WebhookConfig { secret: SECRET.into() });
    let request = Request::post("/telegram/webhook")
        .header("x-telegram-bot-api-secret-token", SECRET)
        .body(Body::from(serde_json::to_vec(&event("staff_help")).unwrap()))
        .unwrap();
    assert_eq!(router.oneshot(request).await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_inbound_and_outbound_message_is_logged() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let client = bed.linked_client("saebyeok", GROUP).await;
    bed.deliver(event("reply_to_bot")).await;
    bed.deliver(event("callback_query")).await;
    bed.deliver(event("photo_reply")).await;
    bed.app.deliver(&Outgoing { client: Some(client.clone()), ..Outgoing::text(GROUP, "안내".into()) }).await.unwrap();
    let from = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    let until = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    let log = bed.store.client_messages(&client, from, until, &PageRequest::default()).await.unwrap().items;
    let texts: Vec<String> = log.iter().map(|m| m.text.clone().unwrap_or_default()).collect();
    assert_eq!(log.len(), 4, "{texts:?}");
    assert!(texts.contains(&"17,500 / 300,000 / 1개월".to_owned()));
    assert!(texts.iter().any(|t| t.starts_with("[버튼] ack:")));
    assert!(
        log.iter().any(|m| m.file.as_ref().is_some_and(|f| f.file_id.starts_with("AgAC"))),
        "the photo is kept by file id"
    );
    assert!(texts.contains(&"안내".to_owned()));
}

/// Every reading of this clock finds the machine 100 ms further behind, as on a starved machine:
/// each sender wakes too late for its slot, every time.
struct Starved(std::sync::atomic::AtomicI64);

impl shared::ports::clock::Clock for Starved {
    fn now(&self) -> shared::domain::time::Timestamp {
        let calls = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        chrono::Utc::now() + chrono::TimeDelta::milliseconds(100 * calls)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_that_always_wakes_late_still_sends_once() {
    let bed = bed(FakeConfig::default().without_limits(), no_pacing()).await;
    let starved = shared::app::App { pacing_clock: std::sync::Arc::new(Starved(0.into())), ..(*bed.app).clone() };
    let out = Outgoing::text(GROUP, "늦어도 한 번".into());
    // It gives up a few missed slots, then goes: never stuck, never twice.
    let sent = tokio::time::timeout(Duration::from_secs(10), starved.deliver(&out)).await;
    assert_eq!(sent.expect("not stuck giving up slots").unwrap().len(), 1);
    assert_eq!(bed.texts(GROUP), vec!["늦어도 한 번".to_owned()]);
}
