//! What a walk through the running system found, each as a test of the behaviour a person expects:
//! a button press goes on when Telegram refuses its answer; only an explicit act acknowledges; an
//! answer never overwrites one already in; what cannot start says why; staff can record an answer
//! taken by phone; advice is checked against its stock; the bot's own replies are logged with the
//! client and the process; errors read clearly.

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::NaiveTime;
use serde_json::{Value, json};
use shared::domain::client::ChatBinding;
use shared::domain::ids::{ChatId, ClientId, ProcessId};
use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
use shared::domain::staff::Role;
use shared::domain::time::{Timestamp, at_kst};
use shared::domain::tracker::{Tracker, TrackerState};
use shared::http::api::auth::{Principal, StaticTokens};
use shared::ports::clock::ManualClock;
use shared::ports::store::*;
use std::sync::Arc;
use support::*;
use testkit::fake_telegram::FakeConfig;
use tower::ServiceExt;

const SAEBYEOK: ChatId = ChatId(-1_001_500_000_001);
const NURI: ChatId = ChatId(-1_001_500_000_002);
const GAON: ChatId = ChatId(-1_001_500_000_003);

fn kst(h: u32, m: u32) -> Timestamp {
    at_kst("2026-03-16".parse().unwrap(), NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

struct Walk {
    bed: Bed,
    clock: Arc<ManualClock>,
    api: axum::Router,
    process: ProcessId,
    next_update: i64,
}

/// The demo's first-day process for 새벽 (two funds), 누리 and 가온, started at 09:00, with the
/// staff API.
async fn walk() -> Walk {
    let clock = Arc::new(ManualClock::new(kst(8, 50)));
    let bed = bed_on(testkit::Engine::Dynoxide, FakeConfig::default().without_limits(), no_pacing(), clock.clone())
        .await
        .unwrap();
    let walked = ["saebyeok", "nuri", "gaon"];
    for (client, chat) in
        shared::demo::clients().into_iter().filter(|c| walked.contains(&c.id.as_str())).zip([SAEBYEOK, NURI, GAON])
    {
        let created = bed.store.create_client(&client).await.unwrap();
        let binding = ChatBinding { chat_id: chat, title: Some("고객사 x 자문".into()), active: true };
        bed.store.link_chat(&created.value.id, &binding, created.version).await.unwrap();
    }
    bed.store.create_stock(&shared::demo::hanbit()).await.unwrap();
    bed.store.create_stock(&shared::demo::nuri_energy()).await.unwrap();
    let kind = ProcessKind::Participation { round: Round::FirstDay };
    let process = Process::new(
        "first".parse().unwrap(),
        Some("hanbit".parse().unwrap()),
        kind,
        kst(9, 0),
        ReminderPolicy::default(),
        kst(8, 50),
    );
    let created = bed.store.create_process(&process).await.unwrap();
    let trackers: Vec<Tracker> = shared::demo::hanbit_first_day_advice()
        .into_iter()
        .filter(|(c, _)| ["saebyeok", "nuri", "gaon"].contains(&c.as_str()))
        .map(|(client, advice)| Tracker::new(process.id.clone(), client, advice, kst(8, 50)))
        .collect();
    bed.store.save_draft_trackers(&process.id, created.version, &trackers).await.unwrap();
    clock.set(kst(9, 0));
    bed.app.start_now(&process.id).await.unwrap();
    let auth = StaticTokens::default()
        .with("advisor-token", Principal { name: "박자문".into(), role: Role::Advisor, staff_id: "park".parse().ok() })
        .with(
            "operator-token",
            Principal { name: "김운영".into(), role: Role::Operator, staff_id: "kim".parse().ok() },
        );
    let api = shared::http::api::routes(bed.app.clone(), Arc::new(auth));
    Walk { bed, clock, api, process: process.id, next_update: 80_000 }
}

impl Walk {
    fn update_id(&mut self) -> i64 {
        self.next_update += 1;
        self.next_update
    }

    fn chat(chat: ChatId) -> Value {
        json!({ "id": chat.0, "title": "고객사 x 자문", "type": "supergroup" })
    }

    fn bot_message(&self, chat: ChatId, index: usize) -> Value {
        let sent = &self.bed.fake.sent(chat.0)[index];
        json!({
            "message_id": sent.message_id,
            "from": { "id": self.bed.fake.bot_id(), "is_bot": true, "first_name": "Test Bot" },
            "chat": Self::chat(chat),
            "date": 1_773_622_800,
            "text": sent.plain_text,
        })
    }

    /// A message in the group: `fields` are merged into it (text, reply_to_message, service fields).
    async fn message(&mut self, chat: ChatId, fields: Value) {
        let mut message = json!({
            "message_id": 6_000 + self.next_update,
            "from": { "id": 6_200_000_001i64, "is_bot": false, "first_name": "서연" },
            "chat": Self::chat(chat),
            "date": 1_773_622_900,
        });
        for (k, v) in fields.as_object().unwrap() {
            message[k] = v.clone();
        }
        let update = json!({ "update_id": self.update_id(), "message": message });
        self.bed.deliver(update).await;
    }

    async fn press(&mut self, chat: ChatId, index: usize, data: &str) {
        let update = json!({
            "update_id": self.update_id(),
            "callback_query": {
                "id": format!("cb-{}", self.next_update),
                "from": { "id": 6_200_000_001i64, "is_bot": false, "first_name": "서연" },
                "chat_instance": "-1",
                "message": self.bot_message(chat, index),
                "data": data,
            }
        });
        self.bed.deliver(update).await;
    }

    async fn state(&self, client: &str) -> TrackerState {
        self.bed.store.get_tracker(&self.process, &client.parse().unwrap()).await.unwrap().value.state()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let response =
            self.api.clone().oneshot(request.body(body.map_or_else(Body::empty, Body::from)).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn post_json(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body.to_string().into_bytes()), Some("application/json")).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_press_goes_on_when_telegram_refuses_to_answer_it() {
    let mut w = walk().await;
    // A cold start took longer than Telegram waits: answering the press gets "query is too old".
    w.bed.fake.let_button_presses_expire();
    let data = format!("ack:{}", w.process);
    w.press(NURI, 0, &data).await;
    assert_eq!(w.state("nuri").await, TrackerState::Acknowledged);
    assert!(w.bed.fake.callback_answers().is_empty(), "Telegram took no answer");
    let texts = w.bed.texts(NURI);
    assert_eq!(texts.len(), 2, "the bid prompt still went out: {texts:?}");
    assert!(texts[1].contains("실제 참여 내역(가격 / 수량 / 확약)"));
    let pressed = w.bed.fake.sent(NURI.0)[0].message_id;
    assert!(
        w.bed.fake.edits().iter().any(|e| e.message_id == Some(pressed) && e.method == "editMessageReplyMarkup"),
        "the button was removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_button_or_a_reply_to_the_advice_acknowledges() {
    let mut w = walk().await;
    // Members joining, a pin, a title change, a command, and chat that is not a reply.
    w.message(NURI, json!({ "new_chat_members": [{ "id": 6_300_000_001i64, "is_bot": false, "first_name": "신입" }] }))
        .await;
    w.message(NURI, json!({ "pinned_message": w.bot_message(NURI, 0) })).await;
    w.message(NURI, json!({ "new_chat_title": "누리 x 자문 (2026)" })).await;
    w.message(
        NURI,
        json!({ "text": "/start@test_bot", "entities": [{ "offset": 0, "length": 15, "type": "bot_command" }] }),
    )
    .await;
    w.message(NURI, json!({ "text": "감사합니다" })).await;
    assert_eq!(w.state("nuri").await, TrackerState::Sent, "none of these acknowledges");
    assert_eq!(w.bed.texts(NURI).len(), 1, "and none gets an error reply: {:?}", w.bed.texts(NURI));

    // A reply to the advice that holds no bid does.
    let advice = w.bot_message(NURI, 0);
    w.message(NURI, json!({ "text": "확인했습니다", "reply_to_message": advice })).await;
    assert_eq!(w.state("nuri").await, TrackerState::Acknowledged);
    assert!(w.bed.texts(NURI)[1].contains("답장"), "the bid prompt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unprompted_answer_never_overwrites_a_submitted_one() {
    let mut w = walk().await;
    w.message(GAON, json!({ "text": "17,500 / 300,000 / 1개월", "reply_to_message": w.bot_message(GAON, 0) })).await;
    assert_eq!(w.state("gaon").await, TrackerState::Submitted);
    // A second answer, not after 수정: refused, the first stands.
    w.message(GAON, json!({ "text": "17,000 / 1 / 미확약" })).await;
    let tracker = w.bed.store.get_tracker(&w.process, &"gaon".parse().unwrap()).await.unwrap().value;
    assert_eq!(bid_answer(&tracker)[0].quantity.get(), 300_000, "the first answer stands");
    assert_eq!(
        w.bed.texts(GAON).last().unwrap(),
        "이미 참여 내역을 받았습니다. 바꾸시려면 접수 메시지의 [✏️ 수정] 을 누른 뒤 다시 보내 주세요."
    );
    // After 수정 the new answer is taken.
    let receipt = w.bed.texts(GAON).len() - 2;
    w.press(GAON, receipt, &format!("edit:{}", w.process)).await;
    assert_eq!(w.state("gaon").await, TrackerState::Acknowledged);
    w.message(GAON, json!({ "text": "17,000 / 100,000 / 미확약" })).await;
    let tracker = w.bed.store.get_tracker(&w.process, &"gaon".parse().unwrap()).await.unwrap().value;
    assert_eq!(bid_answer(&tracker)[0].quantity.get(), 100_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_start_says_why() {
    let w = walk().await;
    w.clock.set(kst(10, 0));
    let make = |id: &str, kind: Value, kickoff: &str| json!({ "id": id, "stock_id": "hanbit", "kind": kind, "kickoff_at": kickoff });
    let round = json!({ "kind": "participation", "round": "revision" });
    // A kickoff time already past: scheduling is refused, starting now is the way.
    let (status, _) =
        w.post_json("/api/v1/processes", "advisor-token", make("late", round.clone(), "2026-03-16T00:30:00Z")).await;
    assert_eq!(status, StatusCode::CREATED);
    let rows = json!([{ "client": "(가상)누리자산운용", "price": "17,500", "quantity": "500000", "lockup": "3개월" }]);
    w.post_json("/api/v1/processes/late/advice", "advisor-token", rows).await;
    let (status, problem) = w.post_json("/api/v1/processes/late/schedule", "advisor-token", json!({})).await;
    assert_eq!((status, problem["reason"].as_str()), (StatusCode::CONFLICT, Some("kickoff_passed")), "{problem}");
    assert_eq!(
        problem["detail"].as_str(),
        Some("the kickoff time 2026-03-16 09:30 KST has already passed: start the process now, or set a later kickoff")
    );

    // No advice.
    w.post_json("/api/v1/processes", "advisor-token", make("empty", round.clone(), "2026-03-17T00:00:00Z")).await;
    let (status, problem) = w.post_json("/api/v1/processes/empty/start", "advisor-token", json!({})).await;
    assert_eq!((status, problem["reason"].as_str()), (StatusCode::CONFLICT, Some("no_advice")), "{problem}");

    // Cancelled.
    w.post_json("/api/v1/processes/empty/cancel", "advisor-token", json!({})).await;
    let (status, problem) = w.post_json("/api/v1/processes/empty/start", "advisor-token", json!({})).await;
    assert_eq!((status, problem["reason"].as_str()), (StatusCode::CONFLICT, Some("not_startable")), "{problem}");
    assert_eq!(problem["detail"].as_str(), Some("the process is cancelled: it cannot start"));

    // An allotment check before the final price.
    let allotment = json!({ "id": "allot", "stock_id": "hanbit", "kind": { "kind": "allotment" } });
    w.post_json("/api/v1/processes", "advisor-token", allotment).await;
    let (status, problem) = w.post_json("/api/v1/processes/allot/start", "advisor-token", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(["no_final_price", "no_advice"].contains(&problem["reason"].as_str().unwrap()), "{problem}");
    use shared::domain::phase::allotment::{AllotmentAdvice, CommittedBid};
    let bid = CommittedBid {
        fund_id: "kv".parse().unwrap(),
        price: shared::domain::money::Price::new(17_500).unwrap(),
        quantity: shared::domain::money::Quantity::new(500_000).unwrap(),
        lockup: shared::domain::lockup::LockUp::Months3,
    };
    let advice = AllotmentAdvice { lines: shared::domain::phase::FundLines::new(vec![bid]).unwrap() };
    let tracker = Tracker::new(
        "allot".parse().unwrap(),
        "nuri".parse().unwrap(),
        shared::domain::phase::Advice::Allotment(advice),
        kst(10, 0),
    );
    let stored = w.bed.store.get_process(&"allot".parse().unwrap()).await.unwrap();
    w.bed.store.save_draft_trackers(&"allot".parse().unwrap(), stored.version, &[tracker]).await.unwrap();
    let (status, problem) = w.post_json("/api/v1/processes/allot/start", "advisor-token", json!({})).await;
    assert_eq!((status, problem["reason"].as_str()), (StatusCode::CONFLICT, Some("no_final_price")), "{problem}");
    assert_eq!(
        problem["detail"].as_str(),
        Some("(가상)한빛로보틱스 has no final price yet: set it before the allotment check starts")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_record_an_answer_taken_by_phone() {
    let mut w = walk().await;
    // 누리 acknowledged, then phoned its bid in; 가온 never answered in the group at all.
    w.press(NURI, 0, &format!("ack:{}", w.process)).await;
    let phoned =
        json!({ "lines": [{ "fund": "공모 코벤", "price": "17,500", "quantity": "500,000", "lockup": "3개월" }] });
    let (status, body) = w.post_json("/api/v1/processes/first/trackers/nuri/confirm", "operator-token", phoned).await;
    assert_eq!((status, body["value"]["state"].as_str()), (StatusCode::OK, Some("confirmed")), "{body}");
    let phoned = json!({ "lines": [{ "fund": "ipo", "price": "17,500", "quantity": "300,000", "lockup": "1개월" }] });
    let (status, body) = w.post_json("/api/v1/processes/first/trackers/gaon/confirm", "operator-token", phoned).await;
    assert_eq!((status, body["value"]["state"].as_str()), (StatusCode::OK, Some("confirmed")), "from sent: {body}");
    assert_eq!(body["value"]["confirmed_by"].as_str(), Some("kim"));
    assert_eq!(body["value"]["answer"]["lines"][0]["quantity"].as_u64(), Some(300_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advice_and_final_prices_are_checked_against_their_stock() {
    let w = walk().await;
    let round = json!({ "kind": "participation", "round": "revision" });
    let process = json!({ "id": "rev", "stock_id": "hanbit", "kind": round, "kickoff_at": "2026-03-18T00:00:00Z" });
    w.post_json("/api/v1/processes", "advisor-token", process).await;
    // 30,000 is far above 한빛's 14,000–16,000 band; 45,000 is 누리에너지솔루션's.
    let rows = json!([
        { "client": "(가상)누리자산운용", "price": "30,000", "quantity": "1,000", "lockup": "3개월" },
        { "client": "(가상)가온자산운용", "fund": "공모주 채권혼합", "price": "45,000", "quantity": "1,000", "lockup": "1개월" },
    ]);
    let (status, body) = w.post_json("/api/v1/processes/rev/advice?dry_run=true", "advisor-token", rows).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let kinds = |row: usize| -> Vec<String> {
        body["report"]["rows"][row]["outcome"]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(kinds(0), vec!["outside_band"]);
    assert_eq!(kinds(1), vec!["outside_band", "fits_other_stock"]);
    assert_eq!(body["report"]["rows"][1]["outcome"]["warnings"][1]["stock"].as_str(), Some("(가상)누리에너지솔루션"));

    // A final price off the tick grid and outside the band is kept, with both warnings.
    w.clock.set(at_kst("2026-03-24".parse().unwrap(), NaiveTime::from_hms_opt(15, 0, 0).unwrap()));
    let (status, body) = w
        .post_json("/api/v1/stocks/hanbit/final-price", "advisor-token", json!({ "price": 16_995, "version": 1 }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let warnings: Vec<&str> = body["warnings"].as_array().unwrap().iter().filter_map(|w| w["kind"].as_str()).collect();
    assert_eq!(warnings, vec!["final_price_off_grid", "final_price_outside_band"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bots_replies_and_the_answers_are_logged_with_client_and_process() {
    let mut w = walk().await;
    w.message(NURI, json!({ "text": "500,000주 3개월", "reply_to_message": w.bot_message(NURI, 0) })).await;
    let client: ClientId = "nuri".parse().unwrap();
    let log = w.bed.store.client_messages(&client, kst(0, 0), kst(23, 0), &PageRequest::first(50)).await.unwrap().items;
    let reply = log
        .iter()
        .find(|e| e.text.as_deref().is_some_and(|t| t.starts_with("입력하신 내용을 이해하지 못했습니다")))
        .expect("the error reply is in the client's log");
    assert_eq!(reply.process_id.as_ref(), Some(&w.process));
    let inbound = log.iter().find(|e| e.text.as_deref() == Some("500,000주 3개월")).unwrap();
    assert_eq!(inbound.process_id.as_ref(), Some(&w.process), "the answer names the process it answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_read_clearly() {
    let mut w = walk().await;
    // A token that is wrong, and none at all.
    let (status, body) = w.call(Method::GET, "/api/v1/processes", Some("nope"), None, None).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid token: sign in again for a new one"))
    );
    let (status, body) = w.call(Method::GET, "/api/v1/processes", None, None, None).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing token: send Authorization: Bearer <token>"))
    );

    // The firm's workbook uploaded without a content type is read as a workbook.
    let round = json!({ "kind": "participation", "round": "revision" });
    w.post_json(
        "/api/v1/processes",
        "advisor-token",
        json!({ "id": "rev", "stock_id": "hanbit", "kind": round, "kickoff_at": "2026-03-18T00:00:00Z" }),
    )
    .await;
    let workbook = std::fs::read("../events/advice/hanbit_advice.xlsx").unwrap();
    let (status, body) = w
        .call(Method::POST, "/api/v1/processes/rev/advice?dry_run=true", Some("advisor-token"), Some(workbook), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["report"]["accepted"].as_u64().unwrap() > 0, "{body}");

    // Confirm without a body confirms what the client sent.
    w.message(NURI, json!({ "text": "17,500 / 500,000 / 3개월", "reply_to_message": w.bot_message(NURI, 0) })).await;
    let (status, body) =
        w.call(Method::POST, "/api/v1/processes/first/trackers/nuri/confirm", Some("operator-token"), None, None).await;
    assert_eq!((status, body["value"]["state"].as_str()), (StatusCode::OK, Some("confirmed")), "{body}");

    // Reminding a client who has nothing left to do says why.
    let (status, body) =
        w.call(Method::POST, "/api/v1/processes/first/trackers/nuri/remind", Some("operator-token"), None, None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::CONFLICT, Some("not_awaiting_client")));
    assert_eq!(
        body["detail"].as_str(),
        Some("nothing to remind: the tracker is confirmed and needs nothing more from the client")
    );

    // Refusals are sentences: "an acknowledged tracker".
    w.press(GAON, 0, &format!("ack:{}", w.process)).await;
    let (status, body) =
        w.call(Method::POST, "/api/v1/processes/first/trackers/gaon/confirm", Some("operator-token"), None, None).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (StatusCode::CONFLICT, Some("an acknowledged tracker cannot take confirmed"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_reads_chat_the_way_people_write_it() {
    let mut w = walk().await;
    // A client with two funds says thanks, plainly and in reply to the advice.
    w.message(SAEBYEOK, json!({ "text": "감사합니다" })).await;
    assert_eq!((w.state("saebyeok").await, w.bed.texts(SAEBYEOK).len()), (TrackerState::Sent, 1), "no reply to chat");
    w.message(SAEBYEOK, json!({ "text": "확인했습니다", "reply_to_message": w.bot_message(SAEBYEOK, 0) })).await;
    assert_eq!(w.state("saebyeok").await, TrackerState::Acknowledged, "a reply to the advice acknowledges");

    // Chat with numbers in it is not taken for a broken answer.
    w.message(NURI, json!({ "text": "3시에 통화 가능할까요?" })).await;
    w.message(NURI, json!({ "text": "15일 맞죠?" })).await;
    assert_eq!(w.bed.texts(NURI).len(), 1, "{:?}", w.bed.texts(NURI));

    // A reminder answered with "네" gets no error; the bot's own error reply can be answered.
    w.clock.set(kst(9, 5));
    w.bed.app.run_due_jobs(kst(9, 5)).await.unwrap();
    let reminder = w.bed.texts(NURI).len() - 1;
    assert!(w.bed.texts(NURI)[reminder].starts_with("⏰"), "{:?}", w.bed.texts(NURI));
    w.message(NURI, json!({ "text": "네", "reply_to_message": w.bot_message(NURI, reminder) })).await;
    assert_eq!(w.state("nuri").await, TrackerState::Acknowledged, "a reply to the reminder acknowledges");
    let prompt = w.bed.texts(NURI).len() - 1;
    w.message(NURI, json!({ "text": "17,500 / 3개월", "reply_to_message": w.bot_message(NURI, prompt) })).await;
    let error = w.bed.texts(NURI).len() - 1;
    assert!(w.bed.texts(NURI)[error].starts_with("입력하신 내용을 이해하지 못했습니다"));
    w.message(NURI, json!({ "text": "17,500 / 500,000 / 3개월", "reply_to_message": w.bot_message(NURI, error) }))
        .await;
    assert_eq!(w.state("nuri").await, TrackerState::Submitted, "a reply to the error message is an answer");

    // A screenshot first, then the values typed: both kept, the values are the answer.
    w.message(GAON, json!({ "photo": [{ "file_id": "AgAD-gaon", "file_unique_id": "g1", "width": 800, "height": 600 }], "reply_to_message": w.bot_message(GAON, 0) })).await;
    assert_eq!(w.state("gaon").await, TrackerState::Submitted);
    w.message(GAON, json!({ "text": "17,500 / 300,000 / 1개월" })).await;
    let gaon = w.bed.store.get_tracker(&w.process, &"gaon".parse().unwrap()).await.unwrap().value;
    assert_eq!((gaon.evidence().len(), bid_answer(&gaon)[0].quantity.get()), (1, 300_000));

    // Staff confirm 누리; a new answer in reply to its receipt is told the request is settled.
    w.call(Method::POST, "/api/v1/processes/first/trackers/nuri/confirm", Some("operator-token"), None, None).await;
    let receipt =
        w.bed.fake.sent(NURI.0).iter().position(|m| m.plain_text.contains("참여 내역을 접수했습니다")).unwrap();
    w.message(NURI, json!({ "text": "17,000 / 500,000 / 3개월", "reply_to_message": w.bot_message(NURI, receipt) }))
        .await;
    assert_eq!(
        w.bed.texts(NURI).last().unwrap(),
        "이 요청은 이미 확정되었거나 마감되었습니다. 바꾸실 내용이 있으면 담당자에게 알려 주세요."
    );
    let nuri = w.bed.store.get_tracker(&w.process, &"nuri".parse().unwrap()).await.unwrap().value;
    assert_eq!((nuri.state(), bid_answer(&nuri)[0].price.get()), (TrackerState::Confirmed, 17_500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_screenshots_cannot_make_an_answer_unwritable() {
    const PHOTOS: i64 = 1_000;
    let mut w = walk().await;
    let advice = w.bot_message(GAON, 0);
    let started = std::time::Instant::now();
    for i in 0..PHOTOS {
        if i == PHOTOS / 2 {
            // Past the cap, the client is told again only once in a while.
            w.clock.set(kst(9, 0) + shared::domain::tracker::EVIDENCE_FULL_REPEAT);
        }
        // Straight to the handler, past the fake's delivery loop: quicker, and in order all the same.
        let update = json!({ "update_id": 90_000 + i, "message": {
            "message_id": 9_000 + i,
            "from": { "id": 6_200_000_001i64, "is_bot": false, "first_name": "서연" },
            "chat": Walk::chat(GAON),
            "date": 1_773_622_900,
            "photo": [{ "file_id": format!("AgAD-flood-{i}"), "file_unique_id": format!("f{i}"), "width": 800, "height": 600 }],
            "reply_to_message": advice,
        }});
        let outcome = w.bed.app.handle_webhook(&serde_json::to_vec(&update).unwrap()).await;
        assert_eq!(outcome, shared::app::WebhookOutcome::Processed, "photo {i}");
    }
    eprintln!("{PHOTOS} photos handled in {:?}", started.elapsed());
    let gaon = w.bed.store.get_tracker(&w.process, &"gaon".parse().unwrap()).await.unwrap().value;
    assert_eq!(gaon.evidence().len(), shared::domain::tracker::MAX_EVIDENCE, "the first files are kept, no more");
    let texts = w.bed.texts(GAON);
    let full = shared::domain::templates::evidence_full(shared::domain::tracker::MAX_EVIDENCE);
    assert_eq!(texts.iter().filter(|t| t.starts_with("📎 자료를 받았습니다")).count(), 20);
    assert_eq!(
        texts.iter().filter(|t| **t == full).count(),
        2,
        "the first file past the cap is answered, and the first one ten minutes later"
    );
    // The tracker can still be written: the values typed next are the answer.
    w.message(GAON, json!({ "text": "17,500 / 300,000 / 1개월" })).await;
    let gaon = w.bed.store.get_tracker(&w.process, &"gaon".parse().unwrap()).await.unwrap().value;
    assert_eq!(bid_answer(&gaon)[0].quantity.get(), 300_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_changes_an_answer_is_not_taken_and_says_how_to_change_it() {
    let mut w = walk().await;
    w.message(GAON, json!({ "text": "17,500 / 300,000 / 1개월", "reply_to_message": w.bot_message(GAON, 0) })).await;
    assert_eq!(w.state("gaon").await, TrackerState::Submitted);
    let answered_with = 6_000 + w.next_update - 1; // the id `message` gave it
    let edit = |w: &mut Walk, text: &str| {
        json!({ "update_id": w.update_id(), "edited_message": {
            "message_id": answered_with,
            "from": { "id": 6_200_000_001i64, "is_bot": false, "first_name": "서연" },
            "chat": Walk::chat(GAON),
            "date": 1_773_622_900,
            "edit_date": 1_773_623_000,
            "text": text,
            "reply_to_message": w.bot_message(GAON, 0),
        }})
    };
    // The same values, reformatted: nothing to say.
    let sent = w.bed.texts(GAON).len();
    let same = edit(&mut w, "17,500/300,000/1개월");
    w.bed.deliver(same).await;
    assert_eq!(w.bed.texts(GAON).len(), sent);
    // Other values: not taken, and the client is told how.
    let changed = edit(&mut w, "17,000 / 300,000 / 1개월");
    w.bed.deliver(changed).await;
    assert_eq!(w.bed.texts(GAON).last().unwrap(), &shared::domain::templates::edit_not_applied());
    let gaon = w.bed.store.get_tracker(&w.process, &"gaon".parse().unwrap()).await.unwrap().value;
    assert_eq!(bid_answer(&gaon)[0].price.get(), 17_500);
}
