//! The demo IPO (가상)한빛로보틱스 from the first-day bid to the last statement, end to end on both
//! store engines: Telegram's (fake) servers deliver every client action to our webhook, the local
//! scheduler fires kickoffs on a fake clock, staff work through the staff API and the use cases.
//!
//! Phases 1 and 2 as clients answer them exactly; the allotments leave shares unlocked on listing
//! day (새벽 사모 코벤, 다솜, 바른) and released after 1개월 (새벽 하이일드, 가온). Phase 3: the system
//! proposes one sell process per sale date; the listing-day plan comes in by CSV, where an off-grid
//! limit price and a row for 가온's locked shares are refused; 바른 keeps its shares, which carry to
//! the 1개월 plan (in by JSON). 가온 reports selling more than was released (an error staff see),
//! and staff confirm what it really sold. Phase 4: each confirmed sale date asks for its statements
//! at T+2; 새벽's first statement has the 2025 tax rate (the difference is told to staff with both
//! amounts) and staff confirm the right figures; 다솜 sends its statement as a file that staff read.
//! The last statement confirmed, the staff group gets the result, asserted to the won, as the
//! result route serves it (JSON, CSV and xlsx).

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use shared::app::{Audience, AudiencePlan, Proposal};
use shared::domain::ids::{ChatId, ProcessId, StaffId};
use shared::domain::phase::LineInput;
use shared::domain::process::{Process, ProcessAction, ProcessKind, ReminderPolicy, Round};
use shared::domain::staff::{Role, Staff};
use shared::domain::text::Label;
use shared::domain::time::Timestamp;
use shared::domain::tracker::{Tracker, TrackerState};
use shared::http::api::auth::{Principal, StaticTokens};
use shared::ports::clock::{Clock, ManualClock};
use shared::ports::store::*;
use std::sync::Arc;
use support::*;
use testkit::Engine;
use testkit::fake_telegram::FakeConfig;
use tower::ServiceExt;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn manager(chat: ChatId) -> Value {
    json!({ "id": 6_000_000_000i64 - chat.0 % 1_000, "is_bot": false, "first_name": "매니저" })
}

fn ops() -> StaffId {
    "ops-kim".parse().unwrap()
}

struct Scenario {
    bed: Bed,
    clock: Arc<ManualClock>,
    api: axum::Router,
    next_update: i64,
}

impl Scenario {
    fn chat_json(chat: ChatId) -> Value {
        json!({ "id": chat.0, "title": "고객사 x 자문", "type": "supergroup" })
    }

    /// The client replies to the bot's latest message in its chat.
    async fn reply(&mut self, chat: ChatId, body: Value) {
        self.next_update += 1;
        let sent = self.bed.fake.sent(chat.0);
        let last = sent.last().unwrap();
        let mut message = json!({
            "message_id": 5_000 + self.next_update,
            "from": manager(chat),
            "chat": Self::chat_json(chat),
            "date": 1_773_622_900,
            "reply_to_message": {
                "message_id": last.message_id,
                "from": { "id": self.bed.fake.bot_id(), "is_bot": true, "first_name": "Test Bot", "username": "test_bot" },
                "chat": Self::chat_json(chat),
                "date": 1_773_622_800,
                "text": last.plain_text,
            },
        });
        for (k, v) in body.as_object().unwrap() {
            message[k] = v.clone();
        }
        self.bed.deliver(json!({ "update_id": self.next_update, "message": message })).await;
    }

    async fn text(&mut self, chat: ChatId, text: &str) {
        self.reply(chat, json!({ "text": text })).await;
    }

    async fn at(&self, t: Timestamp) {
        self.clock.set(t);
        self.bed.app.run_due_jobs(t).await.unwrap();
    }

    async fn tracker(&self, process: &ProcessId, client: &str) -> Tracker {
        self.bed.store.get_tracker(process, &client.parse().unwrap()).await.unwrap().value
    }

    async fn confirm(&self, process: &ProcessId, client: &str, lines: Option<&[LineInput]>) {
        self.bed.app.confirm(process, &client.parse().unwrap(), &ops(), lines).await.unwrap();
    }

    async fn confirm_all(&self, process: &ProcessId) {
        for t in self.bed.store.trackers_of_process(process).await.unwrap() {
            if t.value.state() == TrackerState::Submitted {
                self.confirm(process, t.value.client_id.as_str(), None).await;
            }
        }
    }

    async fn states(&self, process: &ProcessId) -> Vec<(String, TrackerState)> {
        let mut v: Vec<_> = self
            .bed
            .store
            .trackers_of_process(process)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.value.client_id.to_string(), t.value.state()))
            .collect();
        v.sort();
        v
    }

    /// A staff API call as the advisor; the status and the body's bytes.
    async fn call(&self, method: &str, uri: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let mut request = Request::builder().method(method).uri(uri).header("authorization", "Bearer advisor-token");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = self.api.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
        let status = response.status();
        (status, axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec())
    }

    async fn call_json(&self, method: &str, uri: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let (status, bytes) = self.call(method, uri, &[("content-type", content_type)], body).await;
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

fn statement_line(fund: &str, q: &str, p: &str, gross: &str, commission: &str, tax: &str, net: &str) -> LineInput {
    LineInput {
        fund: fund.into(),
        quantity: Some(q.into()),
        price: Some(p.into()),
        amount: Some(gross.into()),
        commission: Some(commission.into()),
        tax: Some(tax.into()),
        net: Some(net.into()),
        ..LineInput::default()
    }
}

async fn scenario(engine: Engine) -> Option<Scenario> {
    let clock = Arc::new(ManualClock::new(kst_on("2026-03-16", 8, 50)));
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), clock.clone()).await?;
    bed.store
        .create_staff(&Staff {
            id: ops(),
            name: Label::new("김운영").unwrap(),
            role: Role::Operator,
            telegram_user_id: Some(shared::domain::ids::TelegramUserId(7_100_000_001)),
            active: true,
        })
        .await
        .unwrap();
    for (client, chat) in demo_clients() {
        let created = bed.store.create_client(&client).await.unwrap();
        let binding =
            shared::domain::client::ChatBinding {
                chat_id: chat, title: Some("고객사 x 자문".into()), active: true
            };
        bed.store.link_chat(&created.value.id, &binding, created.version).await.unwrap();
    }
    bed.store.create_stock(&shared::demo::hanbit()).await.unwrap();
    let auth = StaticTokens::default().with(
        "advisor-token",
        Principal { name: "박자문".into(), role: Role::Advisor, staff_id: Some("ops-kim".parse().unwrap()) },
    );
    let api = shared::http::api::routes(bed.app.clone(), Arc::new(auth));
    Some(Scenario { bed, clock, api, next_update: 90_000 })
}

/// Phases 1 and 2, every client answering as advised; returns when the allotments are confirmed.
async fn bids_and_allotments(s: &mut Scenario) {
    let stock = shared::demo::hanbit();
    let kind = ProcessKind::Participation { round: Round::FirstDay };
    let first_day: ProcessId = "hanbit-first-day".parse().unwrap();
    let process = Process::new(
        first_day.clone(),
        Some(stock.id.clone()),
        kind,
        kst_on("2026-03-16", 9, 0),
        ReminderPolicy::default(),
        s.clock.now(),
    );
    let created = s.bed.store.create_process(&process).await.unwrap();
    let trackers: Vec<Tracker> = shared::demo::hanbit_first_day_advice()
        .into_iter()
        .map(|(client, advice)| Tracker::new(first_day.clone(), client, advice, s.clock.now()))
        .collect();
    s.bed.store.save_draft_trackers(&first_day, created.version, &trackers).await.unwrap();
    s.bed.app.schedule_process(&first_day).await.unwrap();
    s.at(kst_on("2026-03-16", 9, 0)).await;
    s.text(SAEBYEOK, "하이일드 17,500 / 300,000 / 1개월\n사모 코벤 17,000 / 100,000 / 미확약").await;
    s.text(NURI, "17,500 / 500,000 / 3개월").await;
    s.text(GAON, "17,500 / 300,000 / 1개월").await;
    s.text(DASOM, "17,500 / 500,000 / 미확약").await;
    s.text(BAREUN, "17,000 / 30,000 / 미확약").await;
    s.at(kst_on("2026-03-16", 10, 0)).await;
    s.confirm_all(&first_day).await;
    s.bed.app.control_process(&first_day, ProcessAction::Complete).await.unwrap();

    let allotment: ProcessId = "hanbit-allotment".parse().unwrap();
    let process = Process::new(
        allotment.clone(),
        Some(stock.id.clone()),
        ProcessKind::Allotment,
        kst_on("2026-03-26", 9, 0),
        ReminderPolicy::default(),
        s.clock.now(),
    );
    s.bed.store.create_process(&process).await.unwrap();
    let plan = AudiencePlan { audience: Audience::ConfirmedBids, notice: None };
    s.bed.app.choose_audience(&allotment, plan, false).await.unwrap();
    s.clock.set(kst_on("2026-03-24", 15, 0));
    let mut stored = s.bed.store.get_stock(&stock.id).await.unwrap();
    stored
        .value
        .set_final_price(shared::domain::money::Price::new(17_000).unwrap(), "2026-03-24".parse().unwrap())
        .unwrap();
    s.bed.store.update_stock(&stored.value, stored.version).await.unwrap();
    s.bed.app.schedule_process(&allotment).await.unwrap();
    s.at(kst_on("2026-03-26", 9, 0)).await;
    s.text(SAEBYEOK, "하이일드 12,000주 1개월\n사모 코벤 3,000주 미확약").await;
    s.text(NURI, "미배정").await;
    s.text(GAON, "18,000주 1개월").await;
    s.text(DASOM, "30,000주 미확약").await;
    s.text(BAREUN, "2,000주 미확약").await;
    s.at(kst_on("2026-03-26", 10, 0)).await;
    s.confirm_all(&allotment).await;
    assert!(s.states(&allotment).await.iter().all(|(_, st)| *st == TrackerState::Confirmed));
    s.bed.app.control_process(&allotment, ProcessAction::Complete).await.unwrap();
}

const LISTING_PLAN: &str = "기관명,펀드,매도수량,주문유형,지정가,조건,코멘트,발송
(가상)새벽자산운용,사모 코벤,전량,시가,,,,
(가상)다솜자산운용,사모 헤지,50%,시가,,시가가 공모가 대비 +30% 이상이면,,
(가상)다솜자산운용,사모 헤지,잔량,지정가,\"34,010\",,,
(가상)바른투자일임,일임,전량,지정가,\"30,000\",,,
(가상)가온자산운용,공모주 채권혼합,\"18,000\",시가,,,,
";

async fn play(engine: Engine) {
    let Some(mut s) = scenario(engine).await else { return };
    bids_and_allotments(&mut s).await;
    let before_phase3 = s.bed.staff_notices().len();

    // The sell processes the allotments call for: listing day and 1개월, none for 누리 (미배정).
    s.clock.set(kst_on("2026-04-01", 10, 0));
    let (status, body) =
        s.call_json("POST", "/api/v1/stocks/hanbit/sell-plan?dry_run=true", "application/json", vec![]).await;
    assert_eq!(status, StatusCode::OK, "[{engine}] {body}");
    assert_eq!(body["sales"][0]["proposal"], json!("would_create"));
    let (status, body) = s.call_json("POST", "/api/v1/stocks/hanbit/sell-plan", "application/json", vec![]).await;
    assert_eq!(status, StatusCode::OK, "[{engine}] {body}");
    let sales: Vec<(String, String, String, Vec<String>)> = body["sales"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["process_id"].as_str().unwrap().to_owned(),
                p["sale_date"].as_str().unwrap().to_owned(),
                p["kickoff_at"].as_str().unwrap().to_owned(),
                p["clients"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap().to_owned()).collect(),
            )
        })
        .collect();
    assert_eq!(
        sales,
        vec![
            (
                "hanbit-sell-listing".into(),
                "2026-04-07".into(),
                "2026-04-06T23:00:00Z".into(),
                vec!["bareun".into(), "dasom".into(), "saebyeok".into()]
            ),
            (
                "hanbit-sell-1m".into(),
                "2026-05-07".into(),
                "2026-05-06T23:00:00Z".into(),
                vec!["gaon".into(), "saebyeok".into()]
            ),
        ],
        "[{engine}]"
    );
    let again = s.bed.app.propose_sell_processes(&"hanbit".parse().unwrap(), false).await.unwrap();
    assert!(again.iter().all(|p| p.proposal == Proposal::Exists), "[{engine}] proposing again keeps them");
    let listing: ProcessId = "hanbit-sell-listing".parse().unwrap();
    let one_month: ProcessId = "hanbit-sell-1m".parse().unwrap();

    // The listing-day plan by CSV: the off-grid limit and 가온's locked shares are refused, nothing written.
    let uri = format!("/api/v1/processes/{listing}/advice");
    let (status, body) = s.call_json("POST", &uri, "text/csv", LISTING_PLAN.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "[{engine}] {body}");
    let report = &body["report"];
    assert_eq!((report["accepted"].as_u64(), report["rejected"].as_u64()), (Some(3), Some(2)), "[{engine}] {report}");
    assert_eq!(
        report["rows"][2]["outcome"]["reasons"],
        json!(["csv row 4: limit price 34,010원 is off the tick grid (ticks of 50원 at that price)"])
    );
    assert_eq!(
        report["rows"][4]["outcome"]["reasons"],
        json!([
            "csv row 6: (가상)가온자산운용 공모주 채권혼합 may sell nothing on 2026-04-07: locked until 2026-05-07 (1개월)"
        ])
    );
    assert!(s.bed.store.trackers_of_process(&listing).await.unwrap().is_empty());
    let fixed: String = LISTING_PLAN.replace("34,010", "34,000").lines().take(5).map(|l| format!("{l}\n")).collect();
    let (status, body) = s.call_json("POST", &uri, "text/csv", fixed.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "[{engine}] {body}");
    assert_eq!(body["report"]["accepted"], json!(4));
    s.bed.app.schedule_process(&listing).await.unwrap();

    // Listing day, 08:00: each client gets its own plan.
    s.at(kst_on("2026-04-07", 8, 0)).await;
    for chat in [SAEBYEOK, DASOM, BAREUN] {
        let last = s.bed.texts(chat).pop().unwrap();
        assert!(last.contains("상장 후 매도의견"), "[{engine}] {chat}: {last}");
    }
    assert!(!s.bed.texts(GAON).last().unwrap().contains("매도의견"), "[{engine}] 가온's shares are locked");
    s.at(kst_on("2026-04-07", 15, 35)).await;
    s.text(SAEBYEOK, "3,000주 평균 28,500").await;
    s.text(DASOM, "30,000주 평균 32,000").await;
    s.text(BAREUN, "미매도 - 지정가 미도달").await;
    s.at(kst_on("2026-04-07", 15, 40)).await;
    s.confirm_all(&listing).await;

    // Every execution report confirmed: the statements of the two funds that sold, at T+2 09:00.
    let statements: ProcessId = "hanbit-sell-listing-statement".parse().unwrap();
    let p = s.bed.store.get_process(&statements).await.unwrap().value;
    assert_eq!(
        (p.kind, p.kickoff_at, p.state()),
        (
            ProcessKind::Statement { sale_date: "2026-04-07".parse().unwrap() },
            kst_on("2026-04-09", 9, 0),
            shared::domain::process::ProcessState::Scheduled
        ),
        "[{engine}]"
    );
    assert_eq!(s.states(&statements).await.len(), 2, "[{engine}] 새벽 and 다솜; 바른 sold nothing");
    s.at(kst_on("2026-04-09", 9, 0)).await;
    // 새벽 types its statement with 2025's tax rate; 다솜 sends the broker's PDF.
    s.text(
        SAEBYEOK,
        "수량 3,000주 단가 28,500원 매매금액 85,500,000원 수수료 12,825원 거래세 128,250원 정산금액 85,358,925원",
    )
    .await;
    s.reply(
        DASOM,
        json!({ "document": { "file_id": "BQACAgUAAxkBAAIC", "file_unique_id": "AgADC", "file_name": "매매명세서.pdf", "file_size": 64_321 } }),
    )
    .await;
    assert_eq!(s.tracker(&statements, "dasom").await.evidence().len(), 1, "[{engine}]");
    s.at(kst_on("2026-04-09", 10, 0)).await;
    s.confirm(
        &statements,
        "saebyeok",
        Some(&[statement_line("사모 코벤", "3,000", "28,500", "85,500,000", "12,825", "171,000", "85,316,175")]),
    )
    .await;
    s.confirm(
        &statements,
        "dasom",
        Some(&[statement_line("사모 헤지", "30,000", "32,000", "960,000,000", "144,000", "1,920,000", "957,936,000")]),
    )
    .await;

    // The 1개월 release: 새벽 하이일드, 가온, and 바른's shares kept on listing day; by JSON.
    s.clock.set(kst_on("2026-05-04", 10, 0));
    let rows = json!([
        {"client": "(가상)새벽자산운용", "fund": "하이일드", "quantity": "50%", "order": "시가"},
        {"client": "(가상)새벽자산운용", "fund": "하이일드", "quantity": "잔량", "order": "지정가", "limit_price": "30,000"},
        {"client": "(가상)가온자산운용", "fund": "공모주 채권혼합", "quantity": "전량", "order": "시장가"},
        {"client": "(가상)바른투자일임", "quantity": "전량", "order": "시가", "comment": "상장일 미매도분"}
    ]);
    // Staff know the previous close (27,000원): the day's limits are exact, 18,900–35,100원.
    let uri = format!("/api/v1/processes/{one_month}/advice?previous_close=27000");
    let mut too_high = rows.clone();
    too_high[1]["limit_price"] = json!("36,000");
    let (status, body) = s
        .call_json("POST", &format!("{uri}&dry_run=true"), "application/json", too_high.to_string().into_bytes())
        .await;
    assert_eq!(status, StatusCode::OK, "[{engine}] {body}");
    assert_eq!(
        body["report"]["rows"][1]["outcome"]["reasons"],
        json!(["json row 2: limit price 36,000원 is outside the day's price limits 18,900원 – 35,100원"]),
        "[{engine}]"
    );
    let (status, body) = s.call_json("POST", &uri, "application/json", rows.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "[{engine}] {body}");
    assert_eq!(body["report"]["accepted"], json!(4));
    s.bed.app.schedule_process(&one_month).await.unwrap();
    s.at(kst_on("2026-05-07", 8, 0)).await;
    s.at(kst_on("2026-05-07", 15, 35)).await;
    s.text(SAEBYEOK, "12,000주 평균 29,000").await;
    // 가온 reports 20,000 shares: 2,000 more than were released.
    s.text(GAON, "20,000주 평균 26,000").await;
    s.text(BAREUN, "2,000주 평균 25,500").await;
    s.at(kst_on("2026-05-07", 15, 40)).await;
    s.confirm(&one_month, "saebyeok", None).await;
    s.confirm(&one_month, "bareun", None).await;
    // Staff call 가온: it sold 18,000.
    s.confirm(
        &one_month,
        "gaon",
        Some(&[LineInput {
            fund: "공모주 채권혼합".into(),
            quantity: Some("18,000".into()),
            price: Some("26,000".into()),
            ..LineInput::default()
        }]),
    )
    .await;
    let statements_1m: ProcessId = "hanbit-sell-1m-statement".parse().unwrap();
    // 2026-05-07 is a Thursday: settled Monday 05-11.
    s.at(kst_on("2026-05-11", 9, 0)).await;
    s.text(
        SAEBYEOK,
        "수량 12,000주 단가 29,000원 매매금액 348,000,000원 수수료 52,200원 거래세 696,000원 정산금액 347,251,800원",
    )
    .await;
    s.text(
        GAON,
        "수량 18,000주 단가 26,000원 매매금액 468,000,000원 수수료 70,200원 거래세 936,000원 정산금액 466,993,800원",
    )
    .await;
    s.text(
        BAREUN,
        "수량 2,000주 단가 25,500원 매매금액 51,000,000원 수수료 7,650원 거래세 102,000원 정산금액 50,890,350원",
    )
    .await;
    s.at(kst_on("2026-05-11", 10, 0)).await;
    s.confirm_all(&statements_1m).await;

    // What staff read from phase 3 on: the wrong tax with both amounts, 가온's sale of unreleased
    // shares, the statements asked for, and the result.
    let notices: Vec<String> = s.bed.staff_notices().split_off(before_phase3);
    let told = |text: &str| assert!(notices.iter().any(|n| n == text), "[{engine}] not told {text:?}: {notices:#?}");
    told(
        "📥 (가상)새벽자산운용 — (가상)한빛로보틱스 매매명세서 내역 제출\n🚫 사모 코벤 거래세 128,250원 ≠ 세율에 따른 세액 171,000원 (차이 -42,750원)",
    );
    told("📎 (가상)다솜자산운용 — (가상)한빛로보틱스 자료 제출 (캡처/파일): 값을 확인해 확정해 주세요.");
    told(
        "📥 (가상)가온자산운용 — (가상)한빛로보틱스 매도 내역 제출\n🚫 공모주 채권혼합 매도 20,000주 이(가) 매도 가능 수량 18,000주 초과 (보호예수 물량 또는 이미 매도한 물량)\nℹ\u{fe0f} 공모주 채권혼합 20,000주 매도 · 평균 26,000원 · 매도금액 520,000,000원\n⚠\u{fe0f} 공모주 채권혼합 매도 20,000주 (자문 18,000주, +2,000주)",
    );
    // 바른 kept its shares on listing day: they carry to the next sale date.
    told(
        "📥 (가상)바른투자일임 — (가상)한빛로보틱스 매도 내역 제출\nℹ\u{fe0f} 일임 미매도 (지정가 미도달)\n⚠\u{fe0f} 일임 매도 0주 (자문 2,000주, -2,000주)\nℹ\u{fe0f} 일임 잔여 2,000주는 다음 매도일로 이월",
    );
    let planned: Vec<&String> = notices.iter().filter(|n| n.starts_with("🧾")).collect();
    assert_eq!(
        planned,
        vec![
            "🧾 <b>(가상)한빛로보틱스</b> 04-07 매도 체결 확정: 매매명세서 확인 2곳, 2026-04-09 09:00 KST 예약",
            "🧾 <b>(가상)한빛로보틱스</b> 05-07 매도 체결 확정: 매매명세서 확인 3곳, 2026-05-11 09:00 KST 예약",
        ],
        "[{engine}]"
    );
    let results: Vec<&String> = notices.iter().filter(|n| n.starts_with("🏁")).collect();
    assert_eq!(results.len(), 1, "[{engine}] told once, after the last statement: {results:#?}");
    let summary = notices.last().unwrap();
    assert_eq!(
        summary,
        "🏁 <b>(가상)한빛로보틱스</b> 결과 (명세 확정 완료)\n\
         공모가 17,000원 · 배정 65,000주 · 매도 65,000주 (평균 29,423원)\n\
         매도금액 1,912,500,000원 · 수수료 286,875원 · 거래세 3,825,000원\n\
         실현손익 +803,388,125원 (+72.70%)\n\
         • (가상)바른투자일임 일임: 2,000주 중 2,000주 매도 평균 25,500원 · +16,890,350원 (+49.67%)\n\
         • (가상)다솜자산운용 사모 헤지: 30,000주 중 30,000주 매도 평균 32,000원 · +447,936,000원 (+87.83%)\n\
         • (가상)가온자산운용 공모주 채권혼합: 18,000주 중 18,000주 매도 평균 26,000원 · +160,993,800원 (+52.61%)\n\
         • (가상)새벽자산운용 하이일드: 12,000주 중 12,000주 매도 평균 29,000원 · +143,251,800원 (+70.22%)\n\
         • (가상)새벽자산운용 사모 코벤: 3,000주 중 3,000주 매도 평균 28,500원 · +34,316,175원 (+67.28%)\n\
         자문 이행: 따름 5건 · 65,000주 · +803,388,125원 (+72.70%)\n\
         자문 이탈: 벗어남 1건 · 0주 · +0원 (-)",
        "[{engine}]"
    );

    // The result route, to the won.
    let (status, body) = s.call_json("GET", "/api/v1/stocks/hanbit/result", "application/json", vec![]).await;
    assert_eq!(status, StatusCode::OK, "[{engine}] {body}");
    let funds: Vec<Value> = body["funds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            json!([
                f["fund_id"],
                f["allotted"],
                f["paid"],
                f["sold"],
                f["average_price"],
                f["gross"],
                f["commission"],
                f["tax"],
                f["net"],
                f["realised_profit"],
                f["return_bp"]
            ])
        })
        .collect();
    assert_eq!(
        funds,
        vec![
            json!([
                "ilim", 2_000, 34_000_000, 2_000, 25_500, 51_000_000, 7_650, 102_000, 50_890_350, 16_890_350, 4_967
            ]),
            json!([
                "hedge",
                30_000,
                510_000_000,
                30_000,
                32_000,
                960_000_000,
                144_000,
                1_920_000,
                957_936_000,
                447_936_000,
                8_783
            ]),
            json!([
                "ipo",
                18_000,
                306_000_000,
                18_000,
                26_000,
                468_000_000,
                70_200,
                936_000,
                466_993_800,
                160_993_800,
                5_261
            ]),
            json!([
                "hy",
                12_000,
                204_000_000,
                12_000,
                29_000,
                348_000_000,
                52_200,
                696_000,
                347_251_800,
                143_251_800,
                7_022
            ]),
            json!([
                "pv-kv", 3_000, 51_000_000, 3_000, 28_500, 85_500_000, 12_825, 171_000, 85_316_175, 34_316_175, 6_728
            ]),
        ],
        "[{engine}]"
    );
    assert_eq!(body["complete"], json!(true));
    let verdicts: Vec<(String, String, String)> = body["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["fund_name"].as_str().unwrap().into(),
                a["date"].as_str().unwrap().into(),
                a["verdict"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("일임".into(), "2026-04-07".into(), "sold_less".into()),
            ("일임".into(), "2026-05-07".into(), "followed".into()),
            ("사모 헤지".into(), "2026-04-07".into(), "followed".into()),
            ("공모주 채권혼합".into(), "2026-05-07".into(), "followed".into()),
            ("하이일드".into(), "2026-05-07".into(), "followed".into()),
            ("사모 코벤".into(), "2026-04-07".into(), "followed".into()),
        ],
        "[{engine}]"
    );
    let (status, csv) = s.call("GET", "/api/v1/stocks/hanbit/result", &[("accept", "text/csv")], vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("(가상)새벽자산운용,사모 코벤,미확약,3000,51000000,3000,28500,85500000,12825,171000,85316175,34316175,67.28%,0,"), "{csv}");
    let (status, xlsx) = s.call("GET", "/api/v1/stocks/hanbit/result", &[("accept", XLSX)], vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xlsx.starts_with(b"PK\x03\x04"), "[{engine}] a workbook");
    let (status, _) = s.call("GET", "/api/v1/stocks/hanbit/result", &[("accept", "image/png")], vec![]).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
}

/// An amendment of the listing date moves the proposed sell processes, their kickoffs and the
/// sale date their plans carry.
async fn amendment_moves_sale_dates(engine: Engine) {
    let Some(mut s) = scenario(engine).await else { return };
    bids_and_allotments(&mut s).await;
    s.clock.set(kst_on("2026-03-30", 10, 0));
    s.bed.app.propose_sell_processes(&"hanbit".parse().unwrap(), false).await.unwrap();
    let listing: ProcessId = "hanbit-sell-listing".parse().unwrap();
    // A dry run writes nothing; `partial` applies the accepted rows despite a refused one.
    let csv = "기관명,펀드,매도수량,주문유형\n(가상)다솜자산운용,사모 헤지,전량,시가\n(가상)가온자산운용,공모주 채권혼합,전량,시가\n";
    let uri = format!("/api/v1/processes/{listing}/advice");
    let (status, body) = s.call_json("POST", &format!("{uri}?dry_run=true"), "text/csv", csv.into()).await;
    assert_eq!((status, &body["applied"], &body["report"]["rejected"]), (StatusCode::OK, &json!(false), &json!(1)));
    assert!(s.bed.store.trackers_of_process(&listing).await.unwrap().is_empty(), "[{engine}]");
    let (status, body) = s.call_json("POST", &format!("{uri}?partial=true"), "text/csv", csv.into()).await;
    assert_eq!((status, &body["applied"], &body["report"]["accepted"]), (StatusCode::OK, &json!(true), &json!(1)));
    assert_eq!(s.bed.store.trackers_of_process(&listing).await.unwrap().len(), 1, "[{engine}]");
    // The plan again from the firm's workbook, its sheet named `sell` (no sheet for the date itself).
    let mut sheet = shared::export::Table::new("sell", &["기관명", "펀드", "매도수량", "주문유형", "지정가"]);
    sheet.push(vec![
        shared::export::Cell::text("(가상)다솜자산운용"),
        shared::export::Cell::text("사모 헤지"),
        shared::export::Cell::text("전량"),
        shared::export::Cell::text("시가"),
        shared::export::Cell::Empty,
    ]);
    let (status, body) = s.call_json("POST", &uri, XLSX, sheet.to_xlsx().unwrap()).await;
    assert_eq!((status, &body["report"]["accepted"]), (StatusCode::OK, &json!(1)), "[{engine}] {body}");
    s.bed.app.schedule_process(&listing).await.unwrap();
    let stock = s.bed.store.get_stock(&"hanbit".parse().unwrap()).await.unwrap();
    let mut dates = *stock.value.schedule().dates();
    dates.listing = "2026-04-14".parse().unwrap();
    let schedule = shared::domain::stock::Schedule::new(dates).unwrap();
    let (_, moved) = s.bed.app.amend_schedule(&"hanbit".parse().unwrap(), schedule, stock.version).await.unwrap();
    assert_eq!(moved, 2, "[{engine}]");
    let p = s.bed.store.get_process(&listing).await.unwrap().value;
    assert_eq!(
        (p.kind, p.kickoff_at),
        (ProcessKind::Sell { sale_date: "2026-04-14".parse().unwrap() }, kst_on("2026-04-14", 8, 0)),
        "[{engine}]"
    );
    let p = s.bed.store.get_process(&"hanbit-sell-1m".parse().unwrap()).await.unwrap().value;
    assert_eq!(p.kind, ProcessKind::Sell { sale_date: "2026-05-14".parse().unwrap() }, "[{engine}]");
    // Scheduled: its advice was sent to nobody yet, and the job moved with it.
    let before = s.bed.texts(DASOM).len();
    s.at(kst_on("2026-04-07", 8, 0)).await;
    assert_eq!(s.bed.texts(DASOM).len(), before, "[{engine}] nothing on the old listing day");
    s.at(kst_on("2026-04-14", 8, 0)).await;
    let advice = s.bed.texts(DASOM).pop().unwrap();
    assert!(
        advice.contains("상장 후 매도의견") && advice.contains("04-14"),
        "[{engine}] sent on the new one: {advice}"
    );
}

/// The finished IPO `--demo` loads, (가상)세솔소재, has its result at once; proposing its sell
/// processes again finds them there.
async fn the_demo_finished_ipo_has_its_result(engine: Engine) {
    let Some(s) = scenario(engine).await else { return };
    s.bed.store.create_stock(&shared::demo::sesol()).await.unwrap();
    for (process, trackers) in shared::demo::sesol_finished(s.clock.now()) {
        s.bed.store.create_process(&process).await.unwrap();
        for tracker in &trackers {
            s.bed.store.create_tracker(tracker).await.unwrap();
        }
    }
    let (status, body) = s.call_json("GET", "/api/v1/stocks/sesol/result", "application/json", vec![]).await;
    assert_eq!(status, StatusCode::OK, "[{engine}] {body}");
    let funds: Vec<Value> = body["funds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| json!([f["fund_id"], f["sold"], f["average_price"], f["net"], f["realised_profit"], f["return_bp"]]))
        .collect();
    assert_eq!(
        funds,
        vec![
            json!(["hedge", 8_000, 17_662, 140_996_205, 44_996_205, 4_687]),
            json!(["ipo", 15_000, 15_200, 227_509_800, 47_509_800, 2_639]),
            json!(["kv", 20_000, 18_500, 369_204_500, 129_204_500, 5_383]),
        ],
        "[{engine}]"
    );
    assert_eq!(
        (body["complete"].clone(), body["advice_summary"]["deviated"]["sales"].clone()),
        (json!(true), json!(1))
    );
    let (status, body) = s.call_json("POST", "/api/v1/stocks/sesol/sell-plan", "application/json", vec![]).await;
    assert_eq!(status, StatusCode::OK, "[{engine}] {body}");
    let proposals: Vec<&str> =
        body["sales"].as_array().unwrap().iter().map(|p| p["proposal"].as_str().unwrap()).collect();
    assert_eq!(proposals, vec!["exists", "exists"], "[{engine}]");
}

on_both_engines!(play, amendment_moves_sale_dates, the_demo_finished_ipo_has_its_result);
