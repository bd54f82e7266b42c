//! Every real-shaped payload in `events/` is answered 2xx, directly and wrapped in an API Gateway
//! v2 request through lambda_http, and each payload in `events/telegram` has a test of its effect:
//! what the bot sent, stored or refused, and why. Arbitrary bytes are ignored as "not JSON" (and
//! logged so), JSON that is no update as "not an update", and mutated updates that still read as
//! updates reach the handling: taken, logged in the message log, of every kind.

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use shared::app::WebhookOutcome;
use shared::domain::ids::{ChatId, ClientId, ProcessId, TelegramUserId};
use shared::domain::lockup::LockUp;
use shared::domain::message_log::{Direction, MessageLogEntry};
use shared::domain::staff::Role;
use shared::domain::templates;
use shared::domain::tracker::{EvidenceKind, TrackerState};
use shared::ports::store::*;
use shared::telegram::types::{Update, UpdateKind};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;
use testkit::fake_telegram::FakeConfig;
use tower::ServiceExt;

fn files(dir: &str) -> Vec<(String, String)> {
    let dir = format!("../events/{dir}");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

async fn status_of(bed: &Bed, body: Vec<u8>) -> u16 {
    let request = Request::post("/telegram/webhook")
        .header("content-type", "application/json")
        .header("x-telegram-bot-api-secret-token", SECRET)
        .body(Body::from(body))
        .unwrap();
    bed.router.clone().oneshot(request).await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_update_payload_is_answered_2xx() {
    let bed = bed(FakeConfig::default().without_limits(), no_pacing()).await;
    bed.linked_client("saebyeok", GROUP).await;
    let updates = files("telegram");
    assert!(updates.len() >= 15, "the payload set is there: {}", updates.len());
    for (name, json) in updates {
        let status = status_of(&bed, json.into_bytes()).await;
        assert!((200..300).contains(&status), "{name}: {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_gateway_request_is_answered_2xx_through_lambda_http() {
    let bed = bed(FakeConfig::default().without_limits(), no_pacing()).await;
    bed.linked_client("saebyeok", GROUP).await;
    let mut requests = files("apigw");
    requests.extend(files("apigw/wire_escaped"));
    assert!(requests.len() >= 15, "{}", requests.len());
    for (name, json) in requests {
        let request = lambda_http::request::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(request.uri().path(), "/telegram/webhook", "{name}");
        let request = request.map(|body| Body::from(body.to_vec()));
        let response = bed.router.clone().oneshot(request).await.unwrap();
        assert!(response.status().is_success(), "{name}: {}", response.status());
    }
}

// ---- each payload's effect ---------------------------------------------------------------------

/// Each payload in `events/telegram` and the test below that checks its effect.
const EFFECT_TESTS: &[(&str, &str)] = &[
    ("anonymous_admin", "anonymous_admin_a_command_in_a_client_group_is_logged_and_not_answered"),
    ("anonymous_admin_callback", "anonymous_admin_callback_the_real_person_who_pressed_acknowledges"),
    ("callback_query", "callback_query_acknowledges_removes_the_button_and_asks_for_the_bids"),
    ("document_reply", "document_reply_and_photo_reply_are_kept_as_evidence_and_told_to_staff"),
    ("edited_message", "reply_to_bot_is_the_answer_and_edited_message_is_told_edits_do_not_apply"),
    ("group_message", "group_message_a_malformed_code_is_refused_and_a_real_one_links"),
    ("migrate_from_chat", "migrate_from_chat_arriving_first_moves_the_binding_once"),
    ("migrate_to_chat", "migrate_to_chat_moves_the_binding_once"),
    ("my_chat_member_added", "my_chat_member_added_to_an_unknown_group_asks_it_to_link"),
    ("my_chat_member_kicked", "my_chat_member_kicked_stops_sending_and_tells_staff"),
    ("photo_reply", "document_reply_and_photo_reply_are_kept_as_evidence_and_told_to_staff"),
    ("private_start", "private_start_is_told_the_bot_serves_groups_only"),
    ("reply_to_bot", "reply_to_bot_is_the_answer_and_edited_message_is_told_edits_do_not_apply"),
    ("staff_help", "staff_help_answers_a_registered_viewer_and_tells_anyone_else_why_not"),
    ("unknown_update_kind", "unknown_update_kind_is_taken_once_and_has_no_effect"),
];

#[test]
fn every_payload_has_a_test_of_its_effect() {
    let payloads: BTreeSet<String> =
        files("telegram").into_iter().map(|(name, _)| name.trim_end_matches(".json").to_owned()).collect();
    let named: BTreeSet<String> = EFFECT_TESTS.iter().map(|(payload, _)| (*payload).to_owned()).collect();
    assert_eq!(payloads, named, "a payload in events/telegram needs a test of its effect here");
    let source = include_str!("telegram_payloads.rs");
    for (payload, test) in EFFECT_TESTS {
        assert!(source.contains(&format!("async fn {test}()")), "{payload}: no test {test}");
    }
}

/// The client supergroup of `(가상)바른자산운용` in the payloads.
const BAREUN: ChatId = ChatId(-1_002_012_345_678);
/// `(가상)누리투자 공모주`: the basic group, and the supergroup it became.
const NURI_OLD: ChatId = ChatId(-4_012_345_678);
const NURI_NEW: ChatId = ChatId(-1_002_456_789_012);
/// The processes whose advice the payloads' buttons were pressed on.
const HANGYEOL_PROCESS: &str = "019cd506b43d7a52a92d9d9c279b1489";
const BAREUN_PROCESS: &str = "019cd506b4567420955d375d894af375";
const HANGYEOL_GROUP_TITLE: &str = "(가상)한결자산운용 × IPO 자문";

/// The client's inbound messages as logged.
async fn inbound(bed: &Bed, client: &ClientId) -> Vec<MessageLogEntry> {
    let from = chrono::Utc::now() - chrono::TimeDelta::days(1);
    let until = chrono::Utc::now() + chrono::TimeDelta::days(1);
    let mut out = Vec::new();
    let mut page = PageRequest::first(100);
    loop {
        let got = bed.store.client_messages(client, from, until, &page).await.unwrap();
        out.extend(got.items.into_iter().filter(|m| m.direction == Direction::Inbound));
        match got.next {
            Some(cursor) => page = PageRequest { limit: Some(100), cursor: Some(cursor) },
            None => return out,
        }
    }
}

/// The staff group's notices once there are `n` of them (the feed sends them after the client's
/// own message), or as they are after a generous wait.
async fn staff_notices(bed: &Bed, n: usize) -> Vec<String> {
    bed.fake.wait_for(Duration::from_secs(30), |_| bed.staff_notices().len() >= n).await;
    bed.staff_notices()
}

/// Nothing is waiting to be told to staff and the staff group got exactly `expected`.
async fn staff_got_exactly(bed: &Bed, expected: &[String]) {
    assert_eq!(staff_notices(bed, expected.len()).await, expected);
    assert!(bed.store.queued_staff_notices(10).await.unwrap().is_empty(), "no further notice is queued");
}

/// Makes the fake number the chat's next message after `message_id`, as the payloads' chats do.
fn seen_up_to(bed: &Bed, chat: ChatId, message_id: i64) {
    bed.fake
        .remember_message(&json!({ "message_id": message_id, "chat": { "id": chat.0, "type": "supergroup" } }), false);
}

/// A first-day participation process `process` of (가상)한빛로보틱스 for one client of one fund,
/// linked to `chat`, with its tracker drafted and not yet started.
async fn drafted(
    bed: &Bed,
    process: &str,
    client: &str,
    name: &str,
    chat: ChatId,
    title: &str,
) -> (ProcessId, ClientId) {
    use shared::domain::client::ChatBinding;
    use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
    let stock = shared::demo::hanbit();
    bed.store.create_stock(&stock).await.unwrap();
    let now = bed.app.clock.now();
    let kind = ProcessKind::Participation { round: Round::FirstDay };
    let process =
        Process::new(process.parse().unwrap(), Some(stock.id.clone()), kind, now, ReminderPolicy::default(), now);
    let created = bed.store.create_process(&process).await.unwrap();
    let stored = bed.store.create_client(&support::client(client, name)).await.unwrap();
    let binding = ChatBinding { chat_id: chat, title: Some(title.into()), active: true };
    bed.store.link_chat(&stored.value.id, &binding, stored.version).await.unwrap();
    let advice = bids_advised(&[("main", 17_500, 300_000, LockUp::Months1)]);
    let tracker = shared::domain::tracker::Tracker::new(process.id.clone(), stored.value.id.clone(), advice, now);
    bed.store.save_draft_trackers(&process.id, created.version, &[tracker]).await.unwrap();
    (process.id, stored.value.id)
}

/// Starts the process: its advice goes out to `chat` as message `advice_id`, as in the payloads.
async fn start(bed: &Bed, process: &ProcessId, chat: ChatId, advice_id: i64) {
    let before = bed.fake.sent(chat.0).len();
    seen_up_to(bed, chat, advice_id - 1);
    bed.app.start_now(process).await.unwrap();
    let sent: Vec<i64> = bed.fake.sent(chat.0).iter().skip(before).map(|m| m.message_id).collect();
    assert_eq!(sent, vec![advice_id], "the advice went out as the message the payloads press on");
}

/// (가상)한결자산운용's advice out as message 412, as `callback_query.json` has it, while another
/// request to the client awaits its answer too: a message that replies to none of the bot's could
/// be for either (the bot asks which), so only its `reply_to_message` routes it.
async fn hangyeol_advised(bed: &Bed) -> (ProcessId, ClientId) {
    use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
    let ids = drafted(bed, HANGYEOL_PROCESS, "hangyeol", "(가상)한결자산운용", GROUP, HANGYEOL_GROUP_TITLE).await;
    let now = bed.app.clock.now();
    let kind = ProcessKind::Participation { round: Round::FirstDay };
    let stock = Some(shared::demo::hanbit().id);
    let other = Process::new("also-open".parse().unwrap(), stock, kind, now, ReminderPolicy::default(), now);
    let created = bed.store.create_process(&other).await.unwrap();
    let advice = bids_advised(&[("main", 17_500, 300_000, LockUp::Months1)]);
    let tracker = shared::domain::tracker::Tracker::new(other.id.clone(), ids.1.clone(), advice, now);
    bed.store.save_draft_trackers(&other.id, created.version, &[tracker]).await.unwrap();
    start(bed, &other.id, GROUP, 300).await;
    start(bed, &ids.0, GROUP, 412).await;
    ids
}

/// ✅ pressed on the advice (`callback_query.json`): the bid prompt goes out as message 436, the
/// one `reply_to_bot.json`, `document_reply.json` and `photo_reply.json` reply to.
async fn hangyeol_prompted(bed: &Bed) -> (ProcessId, ClientId) {
    let ids = hangyeol_advised(bed).await;
    seen_up_to(bed, GROUP, 435);
    bed.deliver(event("callback_query")).await;
    let prompt = bed.fake.sent(GROUP.0).pop().unwrap();
    assert_eq!((prompt.message_id, prompt.reply_to_message_id), (436, Some(412)), "the prompt, under the advice");
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_query_acknowledges_removes_the_button_and_asks_for_the_bids() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let (process, client) = hangyeol_prompted(&bed).await;

    let tracker = bed.store.get_tracker(&process, &client).await.unwrap().value;
    assert_eq!(tracker.state(), TrackerState::Acknowledged);
    let by = tracker.acknowledged_by().unwrap();
    assert_eq!((by.user_id, by.name.as_str()), (TelegramUserId(6_123_456_789), "민준 박"), "who pressed");
    // The press is answered with a toast, its button removed, and the bids asked for with a
    // ForceReply that the tracker remembers (so the replies to it find it).
    let answers: Vec<(String, Option<String>)> =
        bed.fake.callback_answers().into_iter().map(|a| (a.callback_query_id, a.text)).collect();
    assert_eq!(answers, vec![("2627488196381054727".to_owned(), Some(templates::acknowledged_toast()))]);
    assert!(
        bed.fake.edits().iter().any(|e| (e.chat_id, e.message_id) == (Some(GROUP.0), Some(412))),
        "the pressed button is removed: {:?}",
        bed.fake.edits()
    );
    let prompt = bed.fake.sent(GROUP.0).pop().unwrap();
    assert_eq!(prompt.reply_markup.as_ref().and_then(|m| m["force_reply"].as_bool()), Some(true));
    assert!(prompt.text.unwrap().contains("실제 참여 내역(가격 / 수량 / 확약)"), "it asks for the bids");
    assert!(tracker.message_ids().contains(&436));
    // Logged as a press on this process's message.
    let log = inbound(&bed, &client).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].text.as_deref(), Some(format!("[버튼] ack:{HANGYEOL_PROCESS} (민준 박)").as_str()));
    assert_eq!((log[0].process_id.as_ref(), log[0].telegram_message_id), (Some(&process), Some(412)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_to_bot_is_the_answer_and_edited_message_is_told_edits_do_not_apply() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let (process, client) = hangyeol_prompted(&bed).await;

    // The reply to the prompt is the answer: taken, and a receipt (438, after the reply's 437).
    bed.deliver(event("reply_to_bot")).await;
    let answered = bed.store.get_tracker(&process, &client).await.unwrap().value;
    assert_eq!(answered.state(), TrackerState::Submitted);
    assert_eq!(answered.answer(), Some(&bids_answered(&[("main", 17_500, 300_000, LockUp::Months1)])));
    let receipt = bed.fake.sent(GROUP.0).pop().unwrap();
    assert_eq!((receipt.message_id, receipt.reply_to_message_id), (438, Some(437)));
    assert!(receipt.text.as_deref().unwrap().contains("참여 내역을 접수했습니다"), "{:?}", receipt.text);
    assert!(receipt.reply_markup.is_some(), "with its 수정 button");
    let log = inbound(&bed, &client).await;
    let reply = log.iter().find(|m| m.id == "in-583204391").expect("the reply is logged");
    assert_eq!(reply.text.as_deref(), Some("17,500 / 300,000 / 1개월"));
    assert_eq!(reply.process_id.as_ref(), Some(&process), "as the answer to this process");
    // The answer matches the advice: nothing for staff to look at.
    assert!(bed.staff_notices().is_empty(), "{:?}", bed.staff_notices());

    // The client edits a message replying to the receipt into other values: the answer stays as
    // taken, and the client is told how to change it.
    bed.deliver(event("edited_message")).await;
    let after = bed.store.get_tracker(&process, &client).await.unwrap().value;
    assert_eq!(after.answer(), answered.answer(), "an edit is not applied");
    let told = bed.fake.sent(GROUP.0).pop().unwrap();
    assert_eq!(told.text, Some(templates::edit_not_applied()));
    assert_eq!(told.reply_to_message_id, Some(440), "a reply to the edited message");
    let log = inbound(&bed, &client).await;
    let edit = log.iter().find(|m| m.id == "in-583204395").expect("the edit is logged");
    assert_eq!((edit.text.as_deref(), edit.telegram_message_id), (Some("17,500 / 150,000 / 15일"), Some(440)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_reply_and_photo_reply_are_kept_as_evidence_and_told_to_staff() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let (process, client) = hangyeol_prompted(&bed).await;

    bed.deliver(event("document_reply")).await;
    let tracker = bed.store.get_tracker(&process, &client).await.unwrap().value;
    assert_eq!(tracker.state(), TrackerState::Submitted, "a file answers, for staff to read");
    assert_eq!(tracker.answer(), None, "a file holds no values");
    let kept: Vec<_> =
        tracker.evidence().iter().map(|e| (e.kind, e.file_id.clone(), e.file_name.clone(), e.size)).collect();
    let document = (
        EvidenceKind::Document,
        "BQACAgUAAxkBAAIBBJ_NgLZbUWj6kXq082kTabBlOVH2hzaJ4YjL-06-2KmxGtDoZcyaA7zF".to_owned(),
        Some("수요예측_참여내역.xlsx".to_owned()),
        Some(18_944),
    );
    assert_eq!(kept, vec![document.clone()]);
    let told = bed.fake.sent(GROUP.0).pop().unwrap();
    assert_eq!((told.text, told.reply_to_message_id), (Some(templates::evidence_received()), Some(441)));

    // The screenshot: its largest size (800×600, listed last) is kept.
    bed.deliver(event("photo_reply")).await;
    let tracker = bed.store.get_tracker(&process, &client).await.unwrap().value;
    let kept: Vec<_> =
        tracker.evidence().iter().map(|e| (e.kind, e.file_id.clone(), e.file_name.clone(), e.size)).collect();
    let photo = (
        EvidenceKind::Photo,
        "AgACAgUAAxkBAAIBu-WDYDOXlX_jLqMxa2cZeBDm03gEN0eTNMUAjnxWBzzEAAMCAAN4AAM2BA".to_owned(),
        None,
        Some(81_736),
    );
    assert_eq!(kept, vec![document, photo]);
    let told = bed.fake.sent(GROUP.0).pop().unwrap();
    assert_eq!((told.text, told.reply_to_message_id), (Some(templates::evidence_received()), Some(442)));

    // Both files are logged by file id with their captions, and staff are asked to read them.
    let log = inbound(&bed, &client).await;
    let files: Vec<(Option<&str>, Option<&str>)> = log
        .iter()
        .filter(|m| m.id == "in-583204397" || m.id == "in-583204399")
        .map(|m| (m.text.as_deref(), m.file.as_ref().map(|f| f.file_id.as_str())))
        .collect();
    assert_eq!(files.len(), 2, "{log:?}");
    assert!(files.contains(&(Some("한결공모주1호 참여 내역 첨부합니다"), Some(kept_id(&tracker, 0)))));
    assert!(files.contains(&(Some("참여 화면 캡처"), Some(kept_id(&tracker, 1)))));
    bed.fake
        .wait_for(Duration::from_secs(30), |_| bed.staff_notices().join("\n").matches("자료 제출").count() >= 2)
        .await;
    let notices = bed.staff_notices().join("\n");
    assert_eq!(notices.matches("📎 (가상)한결자산운용 — (가상)한빛로보틱스 자료 제출").count(), 2, "{notices}");
}

fn kept_id(tracker: &shared::domain::tracker::Tracker, i: usize) -> &str {
    tracker.evidence()[i].file_id.as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_admin_a_command_in_a_client_group_is_logged_and_not_answered() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let title = "(가상)바른자산운용 IPO";
    let (_, client) = drafted(&bed, BAREUN_PROCESS, "bareun", "(가상)바른자산운용", BAREUN, title).await;
    // `/status` is a staff command only in the staff group, and a command is no answer in a
    // client's group: nothing is sent, and the message is logged as the client's.
    bed.deliver(event("anonymous_admin")).await;
    assert!(bed.fake.sent(BAREUN.0).is_empty(), "{:?}", bed.texts(BAREUN));
    assert!(bed.staff_notices().is_empty() && bed.fake.sent(STAFF.0).is_empty());
    let log = inbound(&bed, &client).await;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].text.as_deref(), log[0].telegram_message_id), (Some("/status 한빛로보틱스"), Some(88)));
    assert_eq!(log[0].process_id, None, "it answered nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_admin_callback_the_real_person_who_pressed_acknowledges() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let title = "(가상)바른자산운용 IPO";
    let (process, client) = drafted(&bed, BAREUN_PROCESS, "bareun", "(가상)바른자산운용", BAREUN, title).await;
    // The anonymous admin's `/status` is message 88; the advice then goes out as 89, the message
    // pressed in the payload (which shows it as a reply to 88).
    bed.deliver(event("anonymous_admin")).await;
    start(&bed, &process, BAREUN, 89).await;

    bed.deliver(event("anonymous_admin_callback")).await;
    let tracker = bed.store.get_tracker(&process, &client).await.unwrap().value;
    assert_eq!(tracker.state(), TrackerState::Acknowledged);
    let by = tracker.acknowledged_by().unwrap();
    assert_eq!((by.user_id, by.name.as_str()), (TelegramUserId(6_567_890_123), "도윤 정"), "the person, not the group");
    let answers: Vec<(String, Option<String>)> =
        bed.fake.callback_answers().into_iter().map(|a| (a.callback_query_id, a.text)).collect();
    assert_eq!(answers, vec![("2817364059172846211".to_owned(), Some(templates::acknowledged_toast()))]);
    let prompt = bed.fake.sent(BAREUN.0).pop().unwrap();
    assert_eq!((prompt.message_id, prompt.reply_to_message_id), (90, Some(89)), "the bids asked for");
    assert!(prompt.text.unwrap().contains("실제 참여 내역(가격 / 수량 / 확약)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_message_a_malformed_code_is_refused_and_a_real_one_links() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let client = bed.store.create_client(&support::client("hangyeol", "(가상)한결자산운용")).await.unwrap().value;
    // `AB12CD` is six symbols and holds a 1: no code staff could have given.
    bed.deliver(event("group_message")).await;
    let sent = bed.fake.sent(GROUP.0);
    assert_eq!(sent.len(), 1, "{:?}", bed.texts(GROUP));
    assert_eq!((sent[0].text.clone(), sent[0].reply_to_message_id), (Some(templates::link_refused()), Some(27)));
    assert_eq!(bed.store.client_by_chat(GROUP).await.unwrap(), None, "nothing linked");
    assert!(bed.staff_notices().is_empty());

    // The same message with a code staff issued links the group under the chat's title.
    let (code, _) = bed.app.issue_link_code(&client).await.unwrap();
    let mut linking = event("group_message");
    linking["update_id"] = json!(583_204_118);
    linking["message"]["message_id"] = json!(28);
    linking["message"]["text"] = json!(format!("/link {code}"));
    bed.deliver(linking).await;
    assert_eq!(bed.store.client_by_chat(GROUP).await.unwrap().map(|c| c.value.id), Some(client.id));
    assert_eq!(bed.texts(GROUP)[1], templates::link_confirmed("(가상)한결자산운용"));
    staff_got_exactly(&bed, &[templates::staff_group_linked("(가상)한결자산운용", HANGYEOL_GROUP_TITLE, GROUP.0)])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_start_is_told_the_bot_serves_groups_only() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    bed.linked_client("hangyeol", GROUP).await;
    bed.deliver(event("private_start")).await;
    let sent = bed.fake.sent(6_123_456_789);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].text.clone(), sent[0].reply_to_message_id), (Some(templates::private_chat()), Some(3071)));
    assert!(bed.fake.sent(GROUP.0).is_empty() && bed.fake.sent(STAFF.0).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_help_answers_a_registered_viewer_and_tells_anyone_else_why_not() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    bed.deliver(event("staff_help")).await;
    assert_eq!(bed.texts(STAFF), vec![templates::staff_only(Role::Viewer)], "not on a staff record");

    let viewer = shared::domain::staff::Staff {
        id: "lee".parse().unwrap(),
        name: shared::domain::text::Label::new("이지훈").unwrap(),
        role: Role::Viewer,
        telegram_user_id: Some(TelegramUserId(6_345_678_901)),
        active: true,
    };
    bed.store.create_staff(&viewer).await.unwrap();
    bed.app.memo.forget_staff();
    let mut again = event("staff_help");
    again["update_id"] = json!(583_204_271);
    again["message"]["message_id"] = json!(1524);
    bed.deliver(again).await;
    assert_eq!(bed.texts(STAFF)[1], templates::help());
    let (from, until) =
        (chrono::Utc::now() - chrono::TimeDelta::hours(1), chrono::Utc::now() + chrono::TimeDelta::hours(1));
    let audit = bed.store.audit(from, until, &PageRequest::default()).await.unwrap().items;
    let by: Vec<(&str, &str)> = audit.iter().map(|a| (a.actor.as_str(), a.action.as_str())).collect();
    assert_eq!(by, vec![("이지훈", "telegram/help")], "the answered command, by its person");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_update_kind_is_taken_once_and_has_no_effect() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let client = bed.linked_client("hangyeol", GROUP).await;
    // Like Telegram, the fake sends no `message_reaction` the bot did not ask for: straight in.
    let body = serde_json::to_vec(&event("unknown_update_kind")).unwrap();
    assert_eq!(
        bed.app.handle_webhook(&body).await,
        WebhookOutcome::Processed,
        "read as an update, of no kind we act on"
    );
    assert_eq!(bed.app.handle_webhook(&body).await, WebhookOutcome::Duplicate, "and recorded as taken");
    assert!(bed.fake.all_sent().is_empty() && bed.fake.callback_answers().is_empty() && bed.fake.edits().is_empty());
    assert!(inbound(&bed, &client).await.is_empty(), "a reaction is no message to log");
    assert_eq!(bed.store.get_client(&client).await.unwrap().value.reachable_chat(), Some(GROUP));
}

/// Both halves of a migration notice, in either order: the first moves the client, the second
/// finds nothing left to move.
async fn migration_moves_the_binding_once(first: &str, second: &str) {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let client = bed.linked_client("nuri", NURI_OLD).await;
    bed.deliver(event(first)).await;
    assert_eq!(bed.store.client_by_chat(NURI_NEW).await.unwrap().map(|c| c.value.id), Some(client.clone()));
    assert_eq!(bed.store.client_by_chat(NURI_OLD).await.unwrap(), None);
    assert_eq!(bed.store.get_client(&client).await.unwrap().value.reachable_chat(), Some(NURI_NEW));
    let told = templates::staff_chat_migrated("(가상)nuri자산운용", NURI_OLD.0, NURI_NEW.0);
    staff_got_exactly(&bed, std::slice::from_ref(&told)).await;

    bed.deliver(event(second)).await;
    assert_eq!(bed.store.client_by_chat(NURI_NEW).await.unwrap().map(|c| c.value.id), Some(client));
    staff_got_exactly(&bed, &[told]).await;
    assert!(bed.fake.sent(NURI_OLD.0).is_empty() && bed.fake.sent(NURI_NEW.0).is_empty(), "a migration is no move");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_to_chat_moves_the_binding_once() {
    migration_moves_the_binding_once("migrate_to_chat", "migrate_from_chat").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_from_chat_arriving_first_moves_the_binding_once() {
    migration_moves_the_binding_once("migrate_from_chat", "migrate_to_chat").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_chat_member_added_to_an_unknown_group_asks_it_to_link() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    bed.deliver(event("my_chat_member_added")).await;
    assert_eq!(bed.texts(NURI_OLD), vec![templates::unknown_group()]);
    staff_got_exactly(&bed, &[templates::staff_bot_added_unknown("(가상)누리투자 공모주", NURI_OLD.0)]).await;

    // Added back to a client's group it had been removed from: sending resumes, staff are told.
    let bed = bed_again().await;
    let client = bed.linked_client("nuri", NURI_OLD).await;
    bed.app.chat_lost(NURI_OLD).await.unwrap();
    assert_eq!(bed.store.get_client(&client).await.unwrap().value.reachable_chat(), None);
    bed.deliver(event("my_chat_member_added")).await;
    assert_eq!(bed.store.get_client(&client).await.unwrap().value.reachable_chat(), Some(NURI_OLD));
    let removed = templates::staff_bot_removed("(가상)nuri자산운용", NURI_OLD.0);
    staff_got_exactly(&bed, &[removed, templates::staff_bot_returned("(가상)nuri자산운용")]).await;
    assert!(bed.fake.sent(NURI_OLD.0).is_empty(), "a linked group is not asked to link");
}

async fn bed_again() -> Bed {
    bed(FakeConfig::default(), no_pacing()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_chat_member_kicked_stops_sending_and_tells_staff() {
    let bed = bed(FakeConfig::default(), no_pacing()).await;
    let client = bed.linked_client("hangyeol", GROUP).await;
    bed.deliver(event("my_chat_member_kicked")).await;
    assert_eq!(bed.store.get_client(&client).await.unwrap().value.reachable_chat(), None, "no more sends");
    staff_got_exactly(&bed, &[templates::staff_bot_removed("(가상)hangyeol자산운용", GROUP.0)]).await;
    assert!(bed.fake.sent(GROUP.0).is_empty(), "nothing to a group that removed the bot");
}

/// xorshift64*: reproducible, so a failing case can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn random_value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 3 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(rng.next() as i64),
        3 => serde_json::json!(1e300),
        4 => Value::from("/link ABCDEFGH"),
        5 => Value::from("가".repeat(rng.below(5_000))),
        6 => Value::Array((0..rng.below(4)).map(|_| random_value(rng, depth + 1)).collect()),
        _ => Value::Object((0..rng.below(4)).map(|i| (format!("k{i}"), random_value(rng, depth + 1))).collect()),
    }
}

/// Changes one thing somewhere in the tree: a value's type, a missing key, an added key.
fn mutate(value: &mut Value, rng: &mut Rng) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = &keys[rng.below(keys.len())];
            match rng.below(4) {
                0 => {
                    map.remove(key);
                }
                1 => {
                    map.insert(key.clone(), random_value(rng, 0));
                }
                2 => {
                    map.insert(format!("new_{}", rng.below(100)), random_value(rng, 0));
                }
                _ => {
                    if let Some(child) = map.get_mut(key) {
                        mutate(child, rng);
                    }
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.below(items.len());
            mutate(&mut items[i], rng);
        }
        other => *other = random_value(rng, 0),
    }
}

/// The tracing events raised while a future ran on its own task: level and message.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<String>>>);

impl tracing::Subscriber for Logs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        self.0.lock().unwrap().push(format!("{} {}", event.metadata().level(), message.0));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

impl Logs {
    async fn of<T>(&self, dispatch: &tracing::Dispatch, future: impl Future<Output = T>) -> (T, Vec<String>) {
        use tracing::instrument::WithSubscriber;
        self.0.lock().unwrap().clear();
        let out = future.with_subscriber(dispatch.clone()).await;
        (out, std::mem::take(&mut *self.0.lock().unwrap()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_ignored_and_logged_as_such_and_mutated_updates_reach_the_handling() {
    let bed = bed(FakeConfig::default().without_limits(), no_pacing()).await;
    let client = bed.linked_client("saebyeok", GROUP).await;
    let updates: Vec<Value> =
        files("telegram").into_iter().map(|(_, json)| serde_json::from_str(&json).unwrap()).collect();
    let logs = Logs::default();
    let dispatch = tracing::Dispatch::new(logs.clone());
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let (mut not_json, mut not_updates, mut handled) = (0, 0, 0);
    let mut kinds = BTreeSet::new();
    // The updates that were handled in the linked group as a message, an edit or a press: each
    // must be in the client's message log.
    let mut to_log = Vec::new();
    for case in 0..400 {
        let body: Vec<u8> = match case % 4 {
            // Raw bytes, some of them invalid UTF-8.
            0 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
            // A real update with its bytes damaged or cut.
            1 => {
                let mut bytes = serde_json::to_vec(&updates[rng.below(updates.len())]).unwrap();
                let cut = rng.below(bytes.len());
                if rng.below(2) == 0 {
                    bytes.truncate(cut);
                } else {
                    bytes[cut] = rng.next() as u8;
                }
                bytes
            }
            // A real update, mutated as JSON (with a fresh id, so it is handled, not deduplicated).
            _ => {
                let mut update = updates[rng.below(updates.len())].clone();
                for _ in 0..=rng.below(3) {
                    mutate(&mut update, &mut rng);
                }
                if rng.below(4) > 0
                    && let Some(fields) = update.as_object_mut()
                {
                    fields.insert("update_id".into(), Value::from(1_000_000 + case));
                }
                serde_json::to_vec(&update).unwrap()
            }
        };
        let (outcome, lines) = logs.of(&dispatch, bed.app.handle_webhook(&body)).await;
        let Ok(value) = serde_json::from_slice::<Value>(&body) else {
            assert_eq!(outcome, WebhookOutcome::Ignored("not JSON".into()), "case {case}");
            assert!(lines.iter().any(|l| l == "WARN webhook body is not JSON"), "case {case}: {lines:?}");
            not_json += 1;
            continue;
        };
        let Ok(update) = serde_json::from_value::<Update>(value) else {
            assert_eq!(outcome, WebhookOutcome::Ignored("not an update".into()), "case {case}");
            assert!(lines.iter().any(|l| l == "WARN webhook body is not a Telegram update"), "case {case}: {lines:?}");
            not_updates += 1;
            continue;
        };
        // It reads as an update: the handler took it further than its parsing, whatever it made of it.
        let refused = ["not JSON", "not an update"].map(|r| WebhookOutcome::Ignored(r.into()));
        assert!(!refused.contains(&outcome), "case {case}: {outcome:?} for {update:?}");
        assert!(!lines.iter().any(|l| l.contains("webhook body is not")), "case {case}: {lines:?}");
        handled += 1;
        kinds.insert(format!("{:?}", update.kind()));
        let logs_a_message = matches!(update.kind(), UpdateKind::Message | UpdateKind::EditedMessage)
            || update.callback_query.as_ref().is_some_and(|q| q.message.is_some());
        if outcome == WebhookOutcome::Processed && logs_a_message && update.chat().map(|c| c.id) == Some(GROUP.0) {
            to_log.push(format!("in-{}", update.update_id));
        }
    }
    eprintln!("not JSON {not_json}, not an update {not_updates}, handled {handled}, logged {}", to_log.len());
    assert!(not_json >= 150, "the garbage cases were garbage: {not_json}");
    assert!(not_updates >= 30, "some mutations broke the update's shape: {not_updates}");
    assert!(handled >= 100, "most mutations still read as updates: {handled}");
    let every_kind: BTreeSet<String> =
        ["CallbackQuery", "EditedMessage", "Message", "MyChatMember", "Other"].map(String::from).into();
    assert_eq!(kinds, every_kind, "mutated updates of every kind were read as that kind");
    let logged: BTreeSet<String> = inbound(&bed, &client).await.into_iter().map(|m| m.id).collect();
    let missing: Vec<&String> = to_log.iter().filter(|id| !logged.contains(*id)).collect();
    assert!(
        to_log.len() >= 30 && missing.is_empty(),
        "of {} handled in the group, not logged: {missing:?}",
        to_log.len()
    );
    assert!(!bed.fake.all_sent().is_empty(), "some mutated updates were handled far enough to reply");
}
