//! 일반 공지 end to end: staff's text to a representative's clients, with and without ✅. Without
//! it the notice ends once delivered and nobody is chased; with it, silent clients are reminded and
//! escalated like any phase. The delivery report says per client what happened. On both store
//! engines (`dynoxide::…`, `dynamodb_local::…`).

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use chrono::NaiveTime;
use serde_json::json;
use shared::app::{Audience, AudiencePlan};
use shared::domain::client::ChatBinding;
use shared::domain::ids::{ChatId, ProcessId};
use shared::domain::phase::notice::{NoticeAdvice, NoticeText};
use shared::domain::process::{Process, ProcessKind, ReminderPolicy};
use shared::domain::staff::{Role, Staff};
use shared::domain::text::Label;
use shared::domain::time::{Timestamp, at_kst};
use shared::domain::tracker::TrackerState;
use shared::ports::clock::ManualClock;
use shared::ports::store::*;
use std::sync::Arc;
use support::*;
use testkit::Engine;
use testkit::fake_telegram::FakeConfig;

const NURI: ChatId = ChatId(-1_001_500_000_002);
const GAON: ChatId = ChatId(-1_001_500_000_003);
const DASOM: ChatId = ChatId(-1_001_500_000_004);

fn kst(h: u32, m: u32) -> Timestamp {
    at_kst("2026-09-23".parse().unwrap(), NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

/// 누리, 가온 and 바른 are 김대리's (바른's group is not linked); 다솜 is 이대표's.
async fn firm(engine: Engine) -> (Bed, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(kst(9, 0)));
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), clock.clone()).await.unwrap();
    for (id, name) in [("rep-kim", "김대리"), ("rep-lee", "이대표")] {
        let staff = Staff {
            id: id.parse().unwrap(),
            name: Label::new(name).unwrap(),
            role: Role::Operator,
            telegram_user_id: None,
            active: true,
        };
        bed.store.create_staff(&staff).await.unwrap();
    }
    for mut client in shared::demo::clients() {
        let chat = match client.id.as_str() {
            "nuri" => Some(NURI),
            "gaon" => Some(GAON),
            "dasom" => Some(DASOM),
            _ => None,
        };
        if client.id.as_str() == "dasom" {
            client.representative = "rep-lee".parse().unwrap();
        }
        if client.id.as_str() == "saebyeok" {
            continue;
        }
        let created = bed.store.create_client(&client).await.unwrap();
        if let Some(chat) = chat {
            let binding = ChatBinding { chat_id: chat, title: Some("고객사 x 자문".into()), active: true };
            bed.store.link_chat(&created.value.id, &binding, created.version).await.unwrap();
        }
    }
    (bed, clock)
}

async fn notice(bed: &Bed, id: &str, title: &str, text: &str, acknowledge: bool) -> ProcessId {
    let process =
        Process::new(id.parse().unwrap(), None, ProcessKind::Notice, kst(9, 0), ReminderPolicy::default(), kst(9, 0));
    bed.store.create_process(&process).await.unwrap();
    let plan = AudiencePlan {
        audience: Audience::Representative { representative: "rep-kim".parse().unwrap() },
        notice: Some(NoticeAdvice {
            title: Label::new(title).unwrap(),
            text: NoticeText::new(text).unwrap(),
            acknowledge,
        }),
    };
    let outcome = bed.app.choose_audience(&process.id, plan, false).await.unwrap();
    let mut who: Vec<(&str, bool)> = outcome.recipients.iter().map(|r| (r.client_id.as_str(), r.reachable)).collect();
    who.sort();
    assert_eq!(
        who,
        vec![("bareun", false), ("gaon", true), ("nuri", true)],
        "김대리's clients; 바른 cannot be reached"
    );
    process.id
}

async fn states(bed: &Bed, process: &ProcessId) -> Vec<(String, TrackerState, Option<String>)> {
    let mut v: Vec<_> = bed
        .store
        .trackers_of_process(process)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.value.client_id.to_string(), t.value.state(), t.value.failure().map(str::to_owned)))
        .collect();
    v.sort();
    v
}

async fn a_notice_without_acknowledgement_ends_when_delivered(engine: Engine) {
    let (bed, clock) = firm(engine).await;
    let process = notice(
        &bed,
        "holiday",
        "추석 연휴 운영 안내",
        "9월 24일~26일은 휴무입니다.\n급한 일은 <담당자>에게 전화 주세요.",
        false,
    )
    .await;
    let report = bed.app.start_now(&process).await.unwrap();
    let mut sent: Vec<&str> = report.sent.iter().map(|c| c.as_str()).collect();
    sent.sort();
    assert_eq!(sent, vec!["gaon", "nuri"]);
    assert_eq!(report.failed, vec![("bareun".parse().unwrap(), "그룹 미연결".to_owned())]);
    let expected =
        "📢 <b>추석 연휴 운영 안내</b>\n\n9월 24일~26일은 휴무입니다.\n급한 일은 &lt;담당자&gt;에게 전화 주세요.";
    assert_eq!(bed.texts(NURI), vec![expected]);
    assert_eq!(bed.texts(GAON), vec![expected]);
    assert!(bed.fake.sent(NURI.0)[0].reply_markup.is_none(), "no ✅ asked for");
    assert!(bed.texts(DASOM).is_empty(), "이대표's client is not in the audience");

    // The delivery report, per client.
    assert_eq!(
        states(&bed, &process).await,
        vec![
            ("bareun".into(), TrackerState::Failed, Some("그룹 미연결".into())),
            ("gaon".into(), TrackerState::Sent, None),
            ("nuri".into(), TrackerState::Sent, None),
        ]
    );
    // An hour on, nobody was chased.
    for t in [kst(9, 5), kst(9, 15), kst(10, 0)] {
        clock.set(t);
        bed.app.run_due_jobs(t).await.unwrap();
    }
    assert_eq!((bed.texts(NURI).len(), bed.texts(GAON).len()), (1, 1), "no reminders");
    assert_eq!(
        bed.staff_notices(),
        vec!["🚨 <b>추석 연휴 운영 안내</b> 발송 2건, 실패 1건\n❌ (가상)바른투자일임: 그룹 미연결"],
        "only the failure needed a person"
    );
    assert_eq!(
        bed.cards(),
        vec![
            "📊 <b>추석 연휴 운영 안내</b>\n대상 3곳: 발송 2 · 실패 1\n🚨 발송 실패 1곳: (가상)바른투자일임 (그룹 미연결)\n갱신 2026-09-23 09:00 KST"
        ]
    );
}

async fn a_notice_with_acknowledgement_chases_who_has_not_pressed(engine: Engine) {
    let (bed, clock) = firm(engine).await;
    // Long enough for three messages: split at Telegram's limit, the button on the last part.
    let long = format!("청약 일정이 바뀌었습니다.\n{}", "변경된 일정을 확인해 주세요. ".repeat(600));
    let process = notice(&bed, "schedule-change", "청약 일정 변경", &long, true).await;
    bed.app.start_now(&process).await.unwrap();
    let parts = bed.fake.sent(NURI.0);
    assert_eq!(parts.len(), 3, "split in three");
    assert!(parts[..2].iter().all(|m| m.reply_markup.is_none()));
    let button = parts[2].reply_markup.clone().unwrap();
    assert_eq!(button["inline_keyboard"][0][0]["callback_data"], json!(format!("ack:{process}")));
    assert!(parts[2].text.as_deref().unwrap().ends_with("확인하셨으면 [✅ 확인] 버튼을 눌러 주세요."));

    // 누리 presses ✅: done. 가온 stays silent: reminded, then escalated at 15 minutes.
    clock.set(kst(9, 2));
    let update = json!({ "update_id": 90_001, "callback_query": {
        "id": "cb-notice", "from": { "id": 6_400_000_001i64, "is_bot": false, "first_name": "매니저" },
        "chat_instance": "-1",
        "message": { "message_id": parts[2].message_id, "from": { "id": bed.fake.bot_id(), "is_bot": true, "first_name": "Test Bot" },
                     "chat": { "id": NURI.0, "title": "고객사 x 자문", "type": "supergroup" }, "date": 1_790_000_000, "text": "…" },
        "data": format!("ack:{process}") } });
    bed.deliver(update).await;
    for minutes in [5, 10, 15, 20] {
        clock.set(kst(9, minutes));
        bed.app.run_due_jobs(kst(9, minutes)).await.unwrap();
    }
    assert_eq!(bed.texts(NURI).len(), 3, "nothing more for 누리: no prompt, no reminder");
    let gaon = bed.texts(GAON);
    assert_eq!(gaon.len(), 3 + 4, "reminded at 09:05, 09:10, 09:15 and 09:20: {gaon:?}");
    assert_eq!(
        gaon[3],
        "⏰ 📢 <b>청약 일정 변경</b> 안내를 확인해 주세요. 위 메시지의 [✅ 확인] 버튼을 눌러 주시면 됩니다."
    );
    assert_eq!(
        states(&bed, &process).await,
        vec![
            ("bareun".into(), TrackerState::Failed, Some("그룹 미연결".into())),
            ("gaon".into(), TrackerState::Sent, None),
            ("nuri".into(), TrackerState::Acknowledged, None),
        ]
    );
    let nuri = bed.store.get_tracker(&process, &"nuri".parse().unwrap()).await.unwrap().value;
    assert_eq!(nuri.acknowledged_by().map(|a| a.name.as_str()), Some("매니저"));
    assert!(!nuri.is_open(), "acknowledged is done for a notice");
    assert_eq!(
        bed.staff_notices(),
        vec![
            "🚨 <b>청약 일정 변경</b> 발송 2건, 실패 1건\n❌ (가상)바른투자일임: 그룹 미연결",
            "🚨 긴급: (가상)가온자산운용 — <b>청약 일정 변경</b> 15분째 확인 없음",
        ]
    );
}

on_both_engines!(
    a_notice_without_acknowledgement_ends_when_delivered,
    a_notice_with_acknowledgement_chases_who_has_not_pressed,
);
