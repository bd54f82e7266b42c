//! The demo scenario of `domain.md`, end to end: Telegram's (fake) servers deliver every client
//! action to our webhook, the local scheduler fires kickoff and reminders on a fake clock, on both
//! store engines. One client matches the advice, two deviate (one off the tick grid), one answers
//! with a screenshot that staff confirm (over its fund's AUM), one stays silent and is reminded,
//! then escalated; a bid with no price is asked for again. Duplicate webhooks and scheduler fires
//! change nothing.

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use chrono::NaiveTime;
use serde_json::{Value, json};
use shared::domain::client::Client;
use shared::domain::ids::{ChatId, ClientId, ProcessId, StaffId};
use shared::domain::lockup::LockUp;
use shared::domain::money::{Price, Quantity};
use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
use shared::domain::staff::{Role, Staff};
use shared::domain::text::Label;
use shared::domain::time::{Timestamp, at_kst};
use shared::domain::tracker::{ActualLine, AdviceLine, Tracker, TrackerState};
use shared::ports::clock::ManualClock;
use shared::ports::scheduler::Job;
use shared::ports::store::*;
use std::sync::Arc;
use support::*;
use testkit::Engine;
use testkit::fake_telegram::FakeConfig;

const SAEBYEOK: ChatId = ChatId(-1_001_500_000_001);
const NURI: ChatId = ChatId(-1_001_500_000_002);
const GAON: ChatId = ChatId(-1_001_500_000_003);
const DASOM: ChatId = ChatId(-1_001_500_000_004);
const BAREUN: ChatId = ChatId(-1_001_500_000_005);

fn kst(h: u32, m: u32) -> Timestamp {
    at_kst("2026-03-16".parse().unwrap(), NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

fn demo_clients() -> Vec<(Client, ChatId)> {
    shared::demo::clients().into_iter().zip([SAEBYEOK, NURI, GAON, DASOM, BAREUN]).collect()
}

fn advice(fund: &str, price: u64, qty: u64, lockup: LockUp) -> AdviceLine {
    AdviceLine {
        fund_id: fund.parse().unwrap(),
        price: Price::new(price).unwrap(),
        quantity: Quantity::new(qty).unwrap(),
        lockup,
        comment: "밴드 상단 초과 제출".into(),
    }
}

/// A fund manager of the client in `chat`.
fn manager(chat: ChatId) -> Value {
    json!({ "id": 6_000_000_000i64 - chat.0 % 1_000, "is_bot": false, "first_name": "매니저", "last_name": format!("{}", -chat.0 % 1_000) })
}

struct Scenario {
    bed: Bed,
    clock: Arc<ManualClock>,
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

    async fn at(&self, h: u32, m: u32) {
        self.clock.set(kst(h, m));
        self.bed.app.run_due_jobs(kst(h, m)).await.unwrap();
    }

    async fn tracker(&self, client: &str) -> Tracker {
        self.bed.store.get_tracker(&self.process, &client.parse().unwrap()).await.unwrap().value
    }
}

async fn scenario(engine: Engine) -> Option<Scenario> {
    let clock = Arc::new(ManualClock::new(kst(8, 50)));
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), clock.clone()).await?;
    let store = &bed.store;
    store
        .create_staff(&Staff {
            id: "ops-kim".parse().unwrap(),
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
    let kickoff = kind.default_kickoff(stock.schedule()).unwrap();
    assert_eq!(kickoff, kst(9, 0));
    let process =
        Process::new(ProcessId::generate(), stock.id.clone(), kind, kickoff, ReminderPolicy::default(), kst(8, 50));
    let created = store.create_process(&process).await.unwrap();
    let lines: Vec<(&str, Vec<AdviceLine>)> = vec![
        (
            "saebyeok",
            vec![advice("hy", 17_500, 300_000, LockUp::Months1), advice("pv-kv", 17_000, 100_000, LockUp::None)],
        ),
        ("nuri", vec![advice("kv", 17_500, 500_000, LockUp::Months3)]),
        ("gaon", vec![advice("ipo", 17_500, 300_000, LockUp::Months1)]),
        ("dasom", vec![advice("hedge", 17_500, 500_000, LockUp::None)]),
        ("bareun", vec![advice("ilim", 17_000, 30_000, LockUp::None)]),
    ];
    let trackers: Vec<Tracker> = lines
        .into_iter()
        .map(|(c, a)| Tracker::new(process.id.clone(), c.parse().unwrap(), a, kst(8, 50)).unwrap())
        .collect();
    store.save_draft_trackers(&process.id, created.version, &trackers).await.unwrap();
    bed.app.schedule_process(&process.id).await.unwrap();
    Some(Scenario { bed, clock, process: process.id, next_update: 70_000 })
}

async fn play(engine: Engine) {
    let Some(mut s) = scenario(engine).await else {
        eprintln!("skipped: {} is not set (run `cargo xtask test`)", testkit::DYNAMODB_LOCAL_ENDPOINT_ENV);
        return;
    };
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
    assert_eq!(s.bed.fake.all_sent().len(), 6, "[{engine}] five advices and one staff summary, once");

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
    let read_off = vec![ActualLine {
        fund_id: "hedge".parse().unwrap(),
        price: Price::new(17_500).unwrap(),
        quantity: Quantity::new(1_000_000).unwrap(),
        lockup: LockUp::None,
    }];
    let ops: StaffId = "ops-kim".parse().unwrap();
    s.bed.app.confirm(&s.process, &"dasom".parse().unwrap(), &ops, Some(read_off.clone())).await.unwrap();

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

    // Final states, exactly.
    let states: Vec<(String, TrackerState)> = {
        let mut v: Vec<(String, TrackerState)> = s
            .bed
            .store
            .trackers_of_process(&s.process)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.value.client_id.to_string(), t.value.state()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        states,
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
    assert_eq!(s.tracker("dasom").await.actual(), read_off.as_slice());
    let client: ClientId = "gaon".parse().unwrap();
    assert_eq!(s.tracker(client.as_str()).await.actual()[0].price, Price::new(16_995).unwrap());

    // Everything staff saw, in order.
    assert_eq!(
        s.bed.texts(STAFF),
        vec![
            "📤 <b>(가상)한빛로보틱스</b> 수요예측 참여 (첫날) 발송 5건, 실패 0건\n발송: (가상)가온자산운용, (가상)누리자산운용, (가상)다솜자산운용, (가상)바른투자일임, (가상)새벽자산운용",
            "👀 (가상)누리자산운용 확인 (매니저 2)",
            "📥 (가상)누리자산운용 — (가상)한빛로보틱스 참여 내역 제출\n✅ 자문과 일치",
            "👀 (가상)새벽자산운용 확인 (매니저 1)",
            "📥 (가상)새벽자산운용 — (가상)한빛로보틱스 참여 내역 제출\n⚠️ 하이일드 가격 17,500원 → 17,300원 (−200원)\n⚠️ 사모 코벤 가격 17,000원 → 18,000원 (+1,000원)\n⚠️ 사모 코벤 수량 100,000주 → 160,000주 (+60.0%)",
            "📥 (가상)가온자산운용 — (가상)한빛로보틱스 참여 내역 제출\n⚠️ 공모주 채권혼합 가격 17,500원 → 16,995원 (−505원)\n⚠️ 공모주 채권혼합 수량 300,000주 → 450,000주 (+50.0%)\n⚠️ 공모주 채권혼합 가격 16,995원 이(가) 호가단위(10원)에 맞지 않음",
            "👀 (가상)다솜자산운용 확인 (매니저 4)",
            "📎 (가상)다솜자산운용 — (가상)한빛로보틱스 자료 제출 (캡처/파일): 값을 확인해 확정해 주세요.",
            "✔️ (가상)다솜자산운용 참여 내역 확정 (김운영)\n⚠️ 사모 헤지 수량 500,000주 → 1,000,000주 (+100.0%)\n🚫 사모 헤지 참여금액 175억원 이(가) 펀드 규모 150억원 초과 (납입능력 초과)",
            "🚨 긴급: (가상)바른투자일임 — <b>(가상)한빛로보틱스</b> 수요예측 참여 (첫날) 15분째 확인 없음",
        ],
        "[{engine}]"
    );
}

mod dynoxide {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn demo_scenario_end_to_end() {
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
    let staff = s.bed.texts(STAFF);
    assert!(
        staff.iter().any(|t| t.contains("발송 4건, 실패 1건") && t.contains("(가상)누리자산운용: 발송 중 중단")),
        "{staff:?}"
    );
    assert!(staff.iter().any(|t| t.starts_with("❓ (가상)누리자산운용 발송 도중 중단되어")), "{staff:?}");
    assert_eq!(s.tracker("nuri").await.state(), TrackerState::Failed);

    // 누리 had the advice after all and answers it: the answer is taken.
    s.clock.set(kst(9, 3));
    let update = json!({ "update_id": s.update_id(), "message": {
        "message_id": 9_001, "from": manager(NURI), "chat": Scenario::chat_json(NURI), "date": 1_773_622_900,
        "text": "17,500 / 500,000 / 3개월" } });
    s.bed.deliver(update).await;
    assert_eq!(s.tracker("nuri").await.state(), TrackerState::Submitted);

    // Staff remind one silent client now; the next chase is planned from it.
    assert!(s.bed.app.remind_now(&s.process, &"bareun".parse().unwrap()).await.unwrap());
    assert_eq!(s.bed.texts(BAREUN).len(), 2);
    assert_eq!(s.tracker("bareun").await.reminders_total(), 1);
}

mod dynamodb_local {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn demo_scenario_end_to_end() {
        super::play(testkit::Engine::DynamoDbLocal).await;
    }
}
