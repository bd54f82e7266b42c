//! The demo IPO of the domain brief from the first bid to the allotment, end to end: Telegram's
//! (fake) servers deliver every client action to our webhook, the local scheduler fires kickoffs,
//! reminders and the staff feed on a fake clock, on both store engines.
//!
//! Phase 1 (수요예측 참여): one client matches the advice, two deviate (one off the tick grid),
//! one answers with a screenshot that staff confirm (over its fund's AUM), one stays silent and is
//! reminded, then escalated; a bid with no price is asked for again. Phase 2 (배정내역 및
//! 확약여부 확인) goes to the four clients with a confirmed bid: one allotment matches, one fund
//! was allotted under another lock-up than it committed to, one fund got nothing (미배정), one
//! client reports more shares than it bid for, one sends a screenshot staff read and confirm.
//! Confirmed allotments record when each fund's shares may first be sold. Duplicate webhooks and
//! scheduler fires change nothing; the staff group's messages are asserted exactly.

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use chrono::NaiveDate;
use serde_json::{Value, json};
use shared::domain::ids::{ChatId, ClientId, ProcessId, StaffId};
use shared::domain::lockup::LockUp;
use shared::domain::money::{Price, Quantity};
use shared::domain::phase::allotment::{Allotted, Release};
use shared::domain::phase::{Answer, LineInput};
use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
use shared::domain::staff::{Role, Staff};
use shared::domain::text::Label;
use shared::domain::time::Timestamp;
use shared::domain::tracker::{Tracker, TrackerState};
use shared::ports::clock::ManualClock;
use shared::ports::scheduler::Job;
use shared::ports::store::*;
use std::sync::Arc;
use support::*;
use testkit::Engine;
use testkit::fake_telegram::FakeConfig;

/// Book-building's first day, and the first subscription day.
const FIRST_DAY: &str = "2026-03-16";
const SUBSCRIPTION: &str = "2026-03-26";

fn kst(h: u32, m: u32) -> Timestamp {
    kst_on(FIRST_DAY, h, m)
}

/// A fund manager of the client in `chat`.
fn manager(chat: ChatId) -> Value {
    json!({ "id": 6_000_000_000i64 - chat.0 % 1_000, "is_bot": false, "first_name": "매니저", "last_name": format!("{}", -chat.0 % 1_000) })
}

fn ops() -> StaffId {
    "ops-kim".parse().unwrap()
}

struct Scenario {
    bed: Bed,
    clock: Arc<ManualClock>,
    /// The process the clients are answering now.
    process: ProcessId,
    next_update: i64,
}

impl Scenario {
    fn update_id(&mut self) -> i64 {
        self.next_update += 1;
        self.next_update
    }

    fn chat_json(chat: ChatId) -> Value {
        json!({ "id": chat.0, "title": "고객사 x 자문", "type": "supergroup" })
    }

    /// The bot's `index`-th message in `chat`, as a reply would quote it.
    fn bot_message(&self, chat: ChatId, index: usize) -> Value {
        let sent = &self.bed.fake.sent(chat.0)[index];
        json!({
            "message_id": sent.message_id,
            "from": { "id": self.bed.fake.bot_id(), "is_bot": true, "first_name": "Test Bot", "username": "test_bot" },
            "chat": Self::chat_json(chat),
            "date": 1_773_622_800,
            "text": sent.plain_text,
        })
    }

    /// The index of the bot's latest message in `chat`.
    fn last(&self, chat: ChatId) -> usize {
        self.bed.fake.sent(chat.0).len() - 1
    }

    /// The client presses the button of the bot's `index`-th message in its chat.
    async fn press(&mut self, chat: ChatId, index: usize) -> i64 {
        self.press_as(chat, index, manager(chat)).await
    }

    async fn press_as(&mut self, chat: ChatId, index: usize, who: Value) -> i64 {
        let data = format!("ack:{}", self.process);
        let update = json!({
            "update_id": self.update_id(),
            "callback_query": {
                "id": format!("cb-{}", self.next_update),
                "from": who,
                "chat_instance": "-1",
                "message": self.bot_message(chat, index),
                "data": data,
            }
        });
        self.bed.deliver(update).await
    }

    /// The client replies to the bot's `index`-th message in its chat.
    async fn reply(&mut self, chat: ChatId, index: usize, body: Value) -> i64 {
        let mut message = json!({
            "message_id": 5_000 + self.next_update,
            "from": manager(chat),
            "chat": Self::chat_json(chat),
            "date": 1_773_622_900,
            "reply_to_message": self.bot_message(chat, index),
        });
        for (k, v) in body.as_object().unwrap() {
            message[k] = v.clone();
        }
        let update = json!({ "update_id": self.update_id(), "message": message });
        self.bed.deliver(update).await
    }

    /// Time moves to `t` and the scheduler fires what is due.
    async fn at_time(&self, t: Timestamp) {
        self.clock.set(t);
        self.bed.app.run_due_jobs(t).await.unwrap();
    }

    async fn at(&self, h: u32, m: u32) {
        self.at_time(kst(h, m)).await;
    }

    async fn tracker(&self, client: &str) -> Tracker {
        self.bed.store.get_tracker(&self.process, &client.parse().unwrap()).await.unwrap().value
    }

    async fn states(&self) -> Vec<(String, TrackerState)> {
        let mut v: Vec<(String, TrackerState)> = self
            .bed
            .store
            .trackers_of_process(&self.process)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.value.client_id.to_string(), t.value.state()))
            .collect();
        v.sort();
        v
    }

    async fn confirm(&self, client: &str, lines: Option<&[LineInput]>) {
        self.bed.app.confirm(&self.process, &client.parse().unwrap(), &ops(), lines).await.unwrap();
    }
}

fn line(fund: &str, price: Option<&str>, quantity: &str, lockup: Option<&str>) -> LineInput {
    LineInput {
        fund: fund.into(),
        price: price.map(Into::into),
        quantity: Some(quantity.into()),
        lockup: lockup.map(Into::into),
        ..LineInput::default()
    }
}

async fn scenario(engine: Engine) -> Option<Scenario> {
    let clock = Arc::new(ManualClock::new(kst(8, 50)));
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), clock.clone()).await?;
    let store = &bed.store;
    store
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
        let created = store.create_client(&client).await.unwrap();
        let binding =
            shared::domain::client::ChatBinding {
                chat_id: chat, title: Some("고객사 x 자문".into()), active: true
            };
        store.link_chat(&created.value.id, &binding, created.version).await.unwrap();
    }
    let stock = shared::demo::hanbit();
    store.create_stock(&stock).await.unwrap();
    let kind = ProcessKind::Participation { round: Round::FirstDay };
    let kickoff = kind.default_kickoff(stock.schedule(), shared::domain::calendar::KrxCalendar::builtin()).unwrap();
    assert_eq!(kickoff, kst(9, 0));
    let process = Process::new(
        ProcessId::generate(),
        Some(stock.id.clone()),
        kind,
        kickoff,
        ReminderPolicy::default(),
        kst(8, 50),
    );
    let created = store.create_process(&process).await.unwrap();
    let trackers: Vec<Tracker> = shared::demo::hanbit_first_day_advice()
        .into_iter()
        .map(|(client, advice)| Tracker::new(process.id.clone(), client, advice, kst(8, 50)))
        .collect();
    store.save_draft_trackers(&process.id, created.version, &trackers).await.unwrap();
    bed.app.schedule_process(&process.id).await.unwrap();
    Some(Scenario { bed, clock, process: process.id, next_update: 70_000 })
}

/// Phase 1 as the demo plays it.
async fn bookbuilding(s: &mut Scenario, engine: Engine) {
    // 08:59: nothing is due yet.
    s.at(8, 59).await;
    assert!(s.bed.fake.all_sent().is_empty(), "[{engine}] nothing before 09:00");

    // 09:00: the kickoff sends each client only its own lines, with the button.
    s.at(9, 0).await;
    let advice = s.bed.texts(SAEBYEOK);
    assert_eq!(advice.len(), 1);
    assert!(
        advice[0].contains("<b>하이일드</b>\n• 참여가격: 17,500원\n• 참여수량: 300,000주\n• 확약: 1개월"),
        "{}",
        advice[0]
    );
    assert!(advice[0].contains("<b>사모 코벤</b>") && !advice[0].contains("공모 코벤"), "only its own funds");
    let markup = s.bed.fake.sent(SAEBYEOK.0)[0].reply_markup.clone().unwrap();
    assert_eq!(markup["inline_keyboard"][0][0]["callback_data"], json!(format!("ack:{}", s.process)));
    for chat in [NURI, GAON, DASOM, BAREUN] {
        assert_eq!(s.bed.texts(chat).len(), 1, "[{engine}] {chat}");
    }
    // A duplicate fire of the kickoff changes nothing.
    let kickoff = Job::kickoff(&s.process, kst(9, 0));
    s.bed
        .app
        .run_job(&format!("schedule:{}:{}", kickoff.name, kickoff.at.to_rfc3339()), &kickoff.payload)
        .await
        .unwrap();
    // Delivered again as a new attempt (a new key): it re-reads everything and finds nothing to send.
    s.bed.app.run_job(&format!("schedule:{}:retry", kickoff.name), &kickoff.payload).await.unwrap();
    assert_eq!(s.bed.fake.all_sent().len(), 6, "[{engine}] five advices and the progress card, once");

    // 누리: presses ✅, forgets the price, then answers exactly as advised.
    s.clock.set(kst(9, 1));
    s.press(NURI, 0).await;
    assert!(s.bed.texts(NURI)[1].contains("답장"), "the bid prompt");
    s.reply(NURI, 1, json!({ "text": "500,000주 3개월" })).await;
    assert!(
        s.bed.texts(NURI)[2]
            .starts_with("입력하신 내용을 이해하지 못했습니다: 1번째 줄 (공모 코벤): 참여가격이 없습니다")
    );
    assert_eq!(s.tracker("nuri").await.state(), TrackerState::Acknowledged);
    s.clock.set(kst(9, 2));
    let nuri_answer = s.reply(NURI, 1, json!({ "text": "17,500 / 500,000 / 3개월" })).await;
    assert!(s.bed.texts(NURI)[3].starts_with("📝 <b>(가상)한빛로보틱스</b> 참여 내역을 접수했습니다."));

    // 새벽: two funds, both deviating (price −200; price +1,000 and quantity +60%).
    s.press(SAEBYEOK, 0).await;
    s.clock.set(kst(9, 3));
    s.reply(SAEBYEOK, 1, json!({ "text": "하이일드 17,300 / 300,000 / 1개월\n사모코벤 18,000원 16만주 미확약" })).await;

    // 가온: answers the advice directly, +50% within AUM, at 16,995 (off the tick grid).
    s.reply(GAON, 0, json!({ "text": "16,995 / 450,000 / 1개월" })).await;

    // 다솜: presses ✅, sends a screenshot; staff read it and confirm 1,000,000 × 17,500 (over its 150억).
    s.clock.set(kst(9, 4));
    s.press(DASOM, 0).await;
    s.reply(
        DASOM,
        1,
        json!({ "photo": [
            { "file_id": "AgACAgUAAxkBAAIBQ2Xs-small", "file_unique_id": "AQADsmall", "width": 90, "height": 67, "file_size": 1_234 },
            { "file_id": "AgACAgUAAxkBAAIBQ2Xs-large", "file_unique_id": "AQADlarge", "width": 1280, "height": 960, "file_size": 98_765 }
        ], "caption": "참여 화면 캡처" }),
    )
    .await;
    let dasom = s.tracker("dasom").await;
    assert_eq!(
        (dasom.state(), dasom.evidence()[0].file_id.as_str()),
        (TrackerState::Submitted, "AgACAgUAAxkBAAIBQ2Xs-large")
    );
    s.confirm("dasom", Some(&[line("사모 헤지", Some("17,500"), "1,000,000", Some("미확약"))])).await;

    // 바른 stays silent: reminded at 09:05 and 09:10, escalated (and reminded) at 09:15.
    for (h, m) in [(9, 5), (9, 10), (9, 15)] {
        s.at(h, m).await;
    }
    assert_eq!(s.bed.texts(BAREUN).len(), 4, "[{engine}] the advice and three reminders: {:?}", s.bed.texts(BAREUN));
    assert!(
        s.bed.texts(BAREUN)[1]
            .starts_with("⏰ 📌 <b>(가상)한빛로보틱스</b> 수요예측 참여 (첫날) 안내를 확인해 주세요.")
    );

    // Duplicates change nothing: a redelivered answer, a chase fired again.
    let before = (s.bed.fake.all_sent().len(), s.tracker("nuri").await);
    assert!(s.bed.fake.redeliver(nuri_answer));
    assert!(
        s.bed
            .fake
            .wait_for(std::time::Duration::from_secs(10), |f| f
                .deliveries()
                .iter()
                .filter(|d| d.update_id == nuri_answer && d.succeeded())
                .count()
                == 2)
            .await
    );
    s.bed.app.run_due_jobs(kst(9, 15)).await.unwrap();
    let chase = Job::chase(&s.process, &"bareun".parse().unwrap(), kst(9, 15));
    s.bed.app.run_job(&format!("schedule:{}:{}", chase.name, chase.at.to_rfc3339()), &chase.payload).await.unwrap();
    s.bed.app.run_job(&format!("schedule:{}:retry", chase.name), &chase.payload).await.unwrap();
    assert_eq!((s.bed.fake.all_sent().len(), s.tracker("nuri").await), before, "[{engine}] duplicates had no effect");
    // Staff pressing the client's button is refused; the tracker does not move.
    let staff_member = json!({ "id": 7_100_000_001i64, "is_bot": false, "first_name": "운영", "last_name": "김" });
    s.press_as(BAREUN, 0, staff_member).await;
    assert_eq!(s.tracker("bareun").await.state(), TrackerState::Sent, "[{engine}]");
    let answer = s.bed.fake.callback_answers().last().and_then(|a| a.text.clone());
    assert_eq!(answer.as_deref(), Some("운영팀은 고객사 대신 확인할 수 없습니다."), "[{engine}]");

    assert_eq!(
        s.states().await,
        vec![
            ("bareun".into(), TrackerState::Sent),
            ("dasom".into(), TrackerState::Confirmed),
            ("gaon".into(), TrackerState::Submitted),
            ("nuri".into(), TrackerState::Submitted),
            ("saebyeok".into(), TrackerState::Submitted),
        ],
        "[{engine}]"
    );
    let bareun = s.tracker("bareun").await;
    assert_eq!((bareun.reminders_total(), bareun.escalated_at()), (3, Some(kst(9, 15))), "[{engine}]");
    assert_eq!(s.tracker("dasom").await.answer(), Some(&bids_answered(&[("hedge", 17_500, 1_000_000, LockUp::None)])));
    assert_eq!(bid_answer(&s.tracker("gaon").await)[0].price, Price::new(16_995).unwrap());

    // Staff confirm the rest at 10:00 (the deviations are shown again as they confirm them).
    s.at(10, 0).await;
    for client in ["nuri", "saebyeok", "gaon"] {
        s.confirm(client, None).await;
    }
    // Book-building is over: staff close the round, and 바른 is chased no more.
    s.bed.app.control_process(&s.process, shared::domain::process::ProcessAction::Complete).await.unwrap();
}

/// Phase 2 for the clients whose bids were confirmed.
async fn allotment(s: &mut Scenario, engine: Engine) -> ProcessId {
    let app = s.bed.app.clone();
    let process = Process::new(
        "hanbit-allotment".parse().unwrap(),
        Some("hanbit".parse().unwrap()),
        ProcessKind::Allotment,
        ProcessKind::Allotment
            .default_kickoff(shared::demo::hanbit().schedule(), shared::domain::calendar::KrxCalendar::builtin())
            .unwrap(),
        ReminderPolicy::default(),
        kst(10, 0),
    );
    s.bed.store.create_process(&process).await.unwrap();
    assert_eq!(process.kickoff_at, kst_on(SUBSCRIPTION, 9, 0));

    // Staff preview the audience, then name clients themselves: 바른 made no bid.
    let confirmed_bids = shared::app::AudiencePlan { audience: shared::app::Audience::ConfirmedBids, notice: None };
    let preview = app.choose_audience(&process.id, confirmed_bids.clone(), true).await.unwrap();
    let mut who: Vec<&str> = preview.recipients.iter().map(|r| r.client_id.as_str()).collect();
    who.sort();
    assert_eq!(who, vec!["dasom", "gaon", "nuri", "saebyeok"], "[{engine}]");
    let listed = shared::app::AudiencePlan {
        audience: shared::app::Audience::Clients {
            clients: ["nuri", "bareun"].iter().map(|c| c.parse().unwrap()).collect(),
        },
        notice: None,
    };
    let outcome = app.choose_audience(&process.id, listed, false).await.unwrap();
    assert_eq!(outcome.recipients.len(), 1);
    assert_eq!(
        (outcome.excluded[0].client_id.as_str(), outcome.excluded[0].reason.as_str()),
        ("bareun", "no bid of this client was confirmed for the stock")
    );
    // Back to everyone with a confirmed bid: the list is replaced whole.
    app.choose_audience(&process.id, confirmed_bids, false).await.unwrap();
    assert_eq!(s.bed.store.trackers_of_process(&process.id).await.unwrap().len(), 4);

    // Refused until the final price is set.
    let refused = app.schedule_process(&process.id).await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        "(가상)한빛로보틱스 has no final price yet: set it before the allotment check starts"
    );
    s.clock.set(kst_on("2026-03-24", 15, 0));
    let mut stock = s.bed.store.get_stock(&"hanbit".parse().unwrap()).await.unwrap();
    stock.value.set_final_price(Price::new(17_000).unwrap(), "2026-03-24".parse().unwrap()).unwrap();
    s.bed.store.update_stock(&stock.value, stock.version).await.unwrap();
    app.schedule_process(&process.id).await.unwrap();

    s.process = process.id.clone();
    s.at_time(kst_on(SUBSCRIPTION, 9, 0)).await;
    let nuri = s.bed.texts(NURI);
    assert_eq!(
        nuri.last().unwrap(),
        "📌 <b>(가상)한빛로보틱스</b> 배정내역 및 확약여부 확인\n공모가 17,000원 · 청약 03-26 ~ 03-27 · 납입 03-31\n\n\
         수요예측에서 확정된 참여 내역입니다.\n\n<b>공모 코벤</b>\n• 참여가격: 17,500원\n• 참여수량: 500,000주\n• 확약: 3개월\n\n\
         펀드별 배정 수량과 배정받은 확약 기간을 알려 주세요. [✅ 확인] 을 누르시면 입력 안내를 드립니다.",
        "[{engine}]"
    );
    assert_eq!(s.bed.texts(BAREUN).len(), 5, "[{engine}] reminded once more at 10:00, then no bid, no allotment check");

    // 누리: ✅, then the allotment as asked: it matches the bid's lock-up.
    s.at_time(kst_on(SUBSCRIPTION, 9, 1)).await;
    let advice = s.last(NURI);
    s.press(NURI, advice).await;
    assert!(s.bed.texts(NURI)[advice + 1].contains("배정 내역(배정 수량 / 확약)"), "the prompt");
    s.reply(NURI, advice + 1, json!({ "text": "61,500주 / 3개월" })).await;
    assert_eq!(
        s.bed.texts(NURI).last().unwrap(),
        "📝 <b>(가상)한빛로보틱스</b> 배정 내역을 접수했습니다.\n• 공모 코벤: 61,500주 / 3개월\n틀린 곳이 있으면 [✏️ 수정] 을 눌러 다시 보내 주세요."
    );

    // 새벽: replies to the message itself; 하이일드 was allotted without the 1개월 it committed to,
    // 사모 코벤 got nothing.
    s.at_time(kst_on(SUBSCRIPTION, 9, 2)).await;
    let advice = s.last(SAEBYEOK);
    s.reply(SAEBYEOK, advice, json!({ "text": "하이일드 12,000주 미확약\n사모 코벤 미배정" })).await;

    // 가온: more shares than it bid for.
    let advice = s.last(GAON);
    s.reply(GAON, advice, json!({ "text": "500,000주 1개월" })).await;

    // 다솜: a screenshot of its allotment; staff read 50,000주 미확약 off it.
    s.at_time(kst_on(SUBSCRIPTION, 9, 3)).await;
    let advice = s.last(DASOM);
    s.press(DASOM, advice).await;
    s.reply(
        DASOM,
        advice + 1,
        json!({ "document": { "file_id": "BQACAgUAAxkBAAIBR2", "file_unique_id": "AgADR2", "file_name": "배정내역.pdf", "file_size": 54_321 } }),
    )
    .await;
    s.confirm("dasom", Some(&[line("hedge", None, "50,000", Some("미확약"))])).await;

    // Staff confirm the others at 10:00.
    s.at_time(kst_on(SUBSCRIPTION, 10, 0)).await;
    for client in ["nuri", "saebyeok", "gaon"] {
        s.confirm(client, None).await;
    }
    assert_eq!(
        s.states().await,
        vec![
            ("dasom".into(), TrackerState::Confirmed),
            ("gaon".into(), TrackerState::Confirmed),
            ("nuri".into(), TrackerState::Confirmed),
            ("saebyeok".into(), TrackerState::Confirmed),
        ],
        "[{engine}]"
    );

    // Each allotted fund's first sale date: listed 2026-04-07 (a Tuesday).
    let releases = |tracker: Tracker| match tracker.answer() {
        Some(Answer::Allotment(a)) => a.releases.clone(),
        other => panic!("not an allotment: {other:?}"),
    };
    let release = |fund: &str, quantity: u64, lockup: LockUp, date: &str| Release {
        fund_id: fund.parse().unwrap(),
        quantity: Quantity::new(quantity).unwrap(),
        lockup,
        date: date.parse::<NaiveDate>().unwrap(),
    };
    assert_eq!(releases(s.tracker("nuri").await), vec![release("kv", 61_500, LockUp::Months3, "2026-07-07")]);
    assert_eq!(releases(s.tracker("saebyeok").await), vec![release("hy", 12_000, LockUp::None, "2026-04-07")]);
    assert_eq!(releases(s.tracker("gaon").await), vec![release("ipo", 500_000, LockUp::Months1, "2026-05-07")]);
    assert_eq!(releases(s.tracker("dasom").await), vec![release("hedge", 50_000, LockUp::None, "2026-04-07")]);
    match s.tracker("saebyeok").await.answer() {
        Some(Answer::Allotment(a)) => assert_eq!(a.lines.as_slice()[1].allotted, Allotted::None),
        other => panic!("{other:?}"),
    }
    process.id
}

async fn play(engine: Engine) {
    // Without DynamoDB Local a skip under `cargo test` (said on stderr), a failure under the test
    // command: testkit::server_endpoint.
    let Some(mut s) = scenario(engine).await else { return };
    bookbuilding(&mut s, engine).await;
    allotment(&mut s, engine).await;
    // The cards catch up with the last changes.
    s.at_time(kst_on(SUBSCRIPTION, 10, 5)).await;

    // Everything that needed a person, in order: deviations, a file to read, values staff entered
    // that break a rule, an escalation. Matching answers and confirmations of what was seen are
    // only on the cards.
    assert_eq!(
        s.bed.staff_notices(),
        vec![
            "📥 (가상)새벽자산운용 — (가상)한빛로보틱스 참여 내역 제출\n⚠️ 하이일드 가격 17,500원 → 17,300원 (−200원)\n⚠️ 사모 코벤 가격 17,000원 → 18,000원 (+1,000원)\n⚠️ 사모 코벤 수량 100,000주 → 160,000주 (+60.0%)",
            "📥 (가상)가온자산운용 — (가상)한빛로보틱스 참여 내역 제출\n⚠️ 공모주 채권혼합 가격 17,500원 → 16,995원 (−505원)\n⚠️ 공모주 채권혼합 수량 300,000주 → 450,000주 (+50.0%)\n⚠️ 공모주 채권혼합 가격 16,995원 이(가) 호가단위(10원)에 맞지 않음",
            "📎 (가상)다솜자산운용 — (가상)한빛로보틱스 자료 제출 (캡처/파일): 값을 확인해 확정해 주세요.",
            "✔️ (가상)다솜자산운용 — (가상)한빛로보틱스 참여 내역 확정 (김운영)\n⚠️ 사모 헤지 수량 500,000주 → 1,000,000주 (+100.0%)\n🚫 사모 헤지 참여금액 175억원 이(가) 펀드 규모 150억원 초과 (납입능력 초과)",
            "🚨 긴급: (가상)바른투자일임 — <b>(가상)한빛로보틱스</b> 수요예측 참여 (첫날) 15분째 확인 없음",
            "📥 (가상)새벽자산운용 — (가상)한빛로보틱스 배정 내역 제출\n🚫 하이일드 확약 1개월 → 미확약 (참여 시 확약과 다름)\nℹ️ 하이일드 12,000주 배정 (배정률 4.0%) · 납입 204,000,000원\nℹ️ 사모 코벤 미배정",
            "📥 (가상)가온자산운용 — (가상)한빛로보틱스 배정 내역 제출\n🚫 공모주 채권혼합 배정 500,000주 이(가) 참여수량 450,000주 초과\nℹ️ 공모주 채권혼합 500,000주 배정 (배정률 111.1%) · 납입 85억원",
            "📎 (가상)다솜자산운용 — (가상)한빛로보틱스 자료 제출 (캡처/파일): 값을 확인해 확정해 주세요.",
        ],
        "[{engine}]"
    );
    // One card per process, as it reads at the end.
    assert_eq!(
        s.bed.cards(),
        vec![
            "📊 <b>(가상)한빛로보틱스</b> 수요예측 참여 (첫날) (완료)\n대상 5곳: 발송 1 · 확정 4\n⚠️ 자문과 다름/확인 필요 3곳\n갱신 2026-03-26 09:00 KST",
            "📊 <b>(가상)한빛로보틱스</b> 배정내역 및 확약여부 확인\n대상 4곳: 확정 4\n⚠️ 자문과 다름/확인 필요 2곳\n갱신 2026-03-26 10:05 KST",
        ],
        "[{engine}]"
    );
}

mod dynoxide {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn demo_ipo_from_bids_to_allotments() {
        super::play(testkit::Engine::Dynoxide).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_interrupted_kickoff_resumes_without_sending_twice() {
        super::interrupted_kickoff(testkit::Engine::Dynoxide).await;
    }
}

/// A kickoff that died after marking 누리's send but before recording it: the resumed kickoff does
/// not send it again (it may have arrived), tells staff, and still takes 누리's answer.
async fn interrupted_kickoff(engine: Engine) {
    let Some(mut s) = scenario(engine).await else { return };
    let stored = s.bed.store.get_tracker(&s.process, &"nuri".parse().unwrap()).await.unwrap();
    let mut marked = stored.value.clone();
    marked.apply(shared::domain::tracker::TrackerEvent::SendStarted { at: kst(8, 55) }).unwrap();
    s.bed.store.transition_tracker(&marked, TrackerState::Pending, stored.version).await.unwrap();

    s.at(9, 0).await;
    assert!(s.bed.texts(NURI).is_empty(), "not sent again");
    assert_eq!(s.bed.texts(SAEBYEOK).len(), 1, "the others are sent");
    assert_eq!(
        s.bed.staff_notices(),
        vec![
            "❓ (가상)누리자산운용 — (가상)한빛로보틱스 발송 도중 중단되어 전달 여부가 불확실합니다. 그룹을 확인한 뒤 필요하면 다시 보내 주세요.",
            "🚨 <b>(가상)한빛로보틱스</b> 수요예측 참여 (첫날) 발송 4건, 실패 1건\n❌ (가상)누리자산운용: 발송 중 중단: 전달 여부 확인 필요",
        ]
    );
    assert_eq!(s.tracker("nuri").await.state(), TrackerState::Failed);

    // 누리 had the advice after all and answers it: the answer is taken.
    s.clock.set(kst(9, 3));
    let update = json!({ "update_id": s.update_id(), "message": {
        "message_id": 9_001, "from": manager(NURI), "chat": Scenario::chat_json(NURI), "date": 1_773_622_900,
        "text": "17,500 / 500,000 / 3개월" } });
    s.bed.deliver(update).await;
    assert_eq!(s.tracker("nuri").await.state(), TrackerState::Submitted);

    // Staff remind one silent client now; the next chase is planned from it.
    s.bed.app.remind_now(&s.process, &"bareun".parse().unwrap()).await.unwrap();
    assert_eq!(s.bed.texts(BAREUN).len(), 2);
    assert_eq!(s.tracker("bareun").await.reminders_total(), 1);
    let client: ClientId = "nuri".parse().unwrap();
    let refused = s.bed.app.remind_now(&s.process, &client).await.unwrap_err();
    assert_eq!(refused.to_string(), "nothing to remind: the client answered; its answer waits for staff to confirm");
}

mod dynamodb_local {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn demo_ipo_from_bids_to_allotments() {
        super::play(testkit::Engine::DynamoDbLocal).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_interrupted_kickoff_resumes_without_sending_twice() {
        super::interrupted_kickoff(testkit::Engine::DynamoDbLocal).await;
    }
}
