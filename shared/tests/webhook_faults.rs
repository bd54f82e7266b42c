//! Failures in the middle of handling a client's button press and answer, on both store engines:
//! at each step the store or Telegram fails once (a request refused before it reached the table,
//! a write that landed but whose answer was lost, Telegram's 5xx, Telegram down for a whole
//! attempt). Telegram's redelivery (the fake's, with its backoff) must then apply the press and the
//! answer exactly once, and the client must get exactly one prompt and one receipt.

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use serde_json::{Value, json};
use shared::domain::ids::{ChatId, ProcessId};
use shared::domain::tracker::TrackerState;
use shared::ports::clock::SystemClock;
use shared::ports::store::*;
use std::sync::Arc;
use support::*;
use testkit::fake_telegram::{FakeConfig, WebhookRetry};
use testkit::store_faults::{FaultKind, StoreFaults};

#[derive(Debug, Clone, Copy)]
enum Fault {
    /// The next store request of this operation whose body holds the text fails.
    Store(&'static str, &'static str, FaultKind),
    /// The next `n` Bot API calls answer this status.
    Telegram(usize, u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Press,
    Answer,
}

/// Each step of handling, by the request that carries it.
const FAULTS: &[(&str, Fault)] = &[
    ("taking the update", Fault::Store("TransactWriteItems", "IDEMPOTENCY#", FaultKind::Refused)),
    ("taking the update, answer lost", Fault::Store("TransactWriteItems", "IDEMPOTENCY#", FaultKind::AnswerLost)),
    ("reading the client", Fault::Store("GetItem", "CHAT#", FaultKind::Refused)),
    ("reading the process and tracker", Fault::Store("BatchGetItem", "PROCESS#", FaultKind::Refused)),
    ("the tracker's change", Fault::Store("TransactWriteItems", "Count_", FaultKind::Refused)),
    ("the tracker's change, answer lost", Fault::Store("TransactWriteItems", "Count_", FaultKind::AnswerLost)),
    ("noting the bot's reply", Fault::Store("TransactWriteItems", "\"out-", FaultKind::Refused)),
    ("noting the bot's reply, answer lost", Fault::Store("TransactWriteItems", "\"out-", FaultKind::AnswerLost)),
    ("planning the reminder", Fault::Store("PutItem", "JOB#", FaultKind::Refused)),
    ("completing the update", Fault::Store("UpdateItem", "IDEMPOTENCY#", FaultKind::Refused)),
    ("Telegram's 5xx once", Fault::Telegram(1, 502)),
    // answerCallbackQuery, removing the button, and the reply with its five retries.
    ("Telegram down for an attempt", Fault::Telegram(8, 503)),
];

const ANSWER: &str = "17,500 / 300,000 / 1개월";

struct Run {
    bed: Bed,
    faults: StoreFaults,
    process: ProcessId,
    chat: ChatId,
    next: i64,
}

impl Run {
    async fn start(engine: testkit::Engine) -> Option<Run> {
        let faults = StoreFaults::new();
        let retry = WebhookRetry {
            initial_backoff: std::time::Duration::from_millis(20),
            max_backoff: std::time::Duration::from_millis(200),
            ..WebhookRetry::default()
        };
        let fake = FakeConfig::default().without_limits().with_webhook_retry(retry);
        let bed = bed_faulty(engine, fake, no_pacing(), Arc::new(SystemClock), &faults).await?;
        let process = first_day_process(&bed, "faults", 1).await;
        bed.app.start_now(&process).await.unwrap();
        let chat = client_chat(0);
        assert_eq!(bed.texts(chat).len(), 1, "the advice went out");
        Some(Run { bed, faults, process, chat, next: 70_000 })
    }

    fn bot_message(&self, index: usize) -> Value {
        let sent = &self.bed.fake.sent(self.chat.0)[index];
        json!({
            "message_id": sent.message_id,
            "from": { "id": self.bed.fake.bot_id(), "is_bot": true, "first_name": "Test Bot" },
            "chat": { "id": self.chat.0, "title": "고객 x 자문", "type": "supergroup" },
            "date": 1_773_622_800,
            "text": sent.plain_text,
        })
    }

    fn arm(&self, fault: Fault) {
        match fault {
            Fault::Store(operation, contains, kind) => self.faults.fail_next(operation, contains, kind),
            Fault::Telegram(n, status) => self.bed.fake.fail_next(n, status),
        }
    }

    async fn press(&mut self) {
        self.next += 1;
        let update = json!({
            "update_id": self.next,
            "callback_query": {
                "id": format!("cb-{}", self.next),
                "from": { "id": 6_200_000_001i64, "is_bot": false, "first_name": "서연" },
                "chat_instance": "-1",
                "message": self.bot_message(0),
                "data": format!("ack:{}", self.process),
            }
        });
        self.bed.deliver(update).await;
    }

    async fn answer(&mut self) {
        self.next += 1;
        let update = json!({
            "update_id": self.next,
            "message": {
                "message_id": self.next,
                "from": { "id": 6_200_000_001i64, "is_bot": false, "first_name": "서연" },
                "chat": { "id": self.chat.0, "title": "고객 x 자문", "type": "supergroup" },
                "date": 1_773_622_900,
                "text": ANSWER,
                "reply_to_message": self.bot_message(1),
            }
        });
        self.bed.deliver(update).await;
    }

    async fn tracker(&self) -> shared::domain::tracker::Tracker {
        self.bed.store.get_tracker(&self.process, &"c0000".parse().unwrap()).await.unwrap().value
    }
}

async fn each_fault_is_survived_exactly_once(engine: testkit::Engine) {
    for stage in [Stage::Press, Stage::Answer] {
        for (step, fault) in FAULTS {
            if stage == Stage::Answer && step.contains("reminder") {
                continue; // an answer waits for staff: no reminder is planned
            }
            // A skip (said on stderr) or, under the test command, a failure: testkit::server_endpoint.
            let Some(mut run) = Run::start(engine).await else { return };
            let at = format!("[{engine}] {stage:?}: {step}");
            if stage == Stage::Press {
                run.arm(*fault);
            }
            run.press().await;
            assert_eq!(run.tracker().await.state(), TrackerState::Acknowledged, "{at}");
            let texts = run.bed.texts(run.chat);
            assert_eq!(texts.len(), 2, "{at}: the advice and one prompt, got {texts:#?}");
            if stage == Stage::Answer {
                run.arm(*fault);
            }
            run.answer().await;
            let tracker = run.tracker().await;
            assert_eq!(tracker.state(), TrackerState::Submitted, "{at}");
            assert_eq!(bid_answer(&tracker).len(), 1, "{at}");
            let texts = run.bed.texts(run.chat);
            assert_eq!(texts.len(), 3, "{at}: the advice, the prompt and one receipt, got {texts:#?}");
            assert!(texts[2].contains("17,500원"), "{at}: the receipt: {}", texts[2]);
            if let Fault::Store(..) = fault {
                assert_eq!(run.faults.armed(), 0, "{at}: the fault was never met, so this step is not where it was");
            }
            run.bed.fake.shutdown().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_is_survived_exactly_once_on_the_embedded_engine() {
    each_fault_is_survived_exactly_once(testkit::Engine::Dynoxide).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_is_survived_exactly_once_on_dynamodb_local() {
    each_fault_is_survived_exactly_once(testkit::Engine::DynamoDbLocal).await;
}

/// An answer whose handling fails every attempt (its tracker cannot be written) is set aside on the
/// last: answered 2xx so the chat is not held, in the error log, and told to staff with the client
/// and the text. The client's next message is handled.
async fn a_poison_update_is_set_aside(engine: testkit::Engine) {
    let Some(mut run) = Run::start(engine).await else { return }; // said on stderr, or a failure
    run.press().await;
    let attempts = run.bed.app.config.update_attempts;
    for _ in 0..attempts {
        run.faults.fail_next("TransactWriteItems", "Count_", FaultKind::Refused);
    }
    run.answer().await;
    assert_eq!(run.faults.armed(), 0, "[{engine}] every attempt failed");
    assert_eq!(run.tracker().await.state(), TrackerState::Acknowledged, "[{engine}] not applied");
    let told = |fake: &testkit::fake_telegram::FakeTelegram| {
        fake.sent(STAFF.0).iter().any(|m| m.text.as_deref().is_some_and(|t| t.contains("처리하지 못한 메시지")))
    };
    run.bed.fake.wait_for(std::time::Duration::from_secs(10), told).await;
    let notices = run.bed.staff_notices();
    let set_aside = notices.iter().find(|n| n.contains("처리하지 못한 메시지")).unwrap_or_else(|| {
        panic!("[{engine}] staff were not told: {notices:#?}");
    });
    assert!(set_aside.contains("(가상)고객0000") && set_aside.contains(ANSWER), "[{engine}] {set_aside}");
    assert!(set_aside.contains(&format!("{attempts}회")), "[{engine}] {set_aside}");
    let from = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    let errors = run.bed.store.errors(from, chrono::Utc::now(), &PageRequest::default()).await.unwrap().items;
    let failed: Vec<_> = errors.iter().filter(|e| e.context == format!("telegram-update:{}", run.next)).collect();
    assert_eq!(failed.len(), attempts as usize + 1, "[{engine}] each attempt and the setting aside: {failed:#?}");
    assert!(failed.iter().any(|e| e.message.starts_with("set aside after")), "[{engine}] {failed:#?}");
    // The chat goes on: the same answer sent again is taken.
    run.answer().await;
    assert_eq!(run.tracker().await.state(), TrackerState::Submitted, "[{engine}]");
    run.bed.fake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_update_is_set_aside_on_the_embedded_engine() {
    a_poison_update_is_set_aside(testkit::Engine::Dynoxide).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_update_is_set_aside_on_dynamodb_local() {
    a_poison_update_is_set_aside(testkit::Engine::DynamoDbLocal).await;
}

/// An answer whose every attempt died without a word (a crash, the function's timeout) leaves no
/// error to count: the next delivery, past the attempts allowed, sets it aside without handling it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_whose_attempts_all_died_is_set_aside() {
    let mut run = Run::start(testkit::Engine::Dynoxide).await.unwrap();
    run.press().await;
    let attempts = run.bed.app.config.update_attempts;
    let key = format!("telegram-update:{}", run.next + 1);
    let long_ago = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    for i in 0..attempts {
        let at = long_ago + chrono::TimeDelta::minutes(i64::from(i));
        let died = IdempotencyRequest {
            key: key.clone(),
            payload_hash: None,
            now: at,
            in_progress_until: at + chrono::TimeDelta::seconds(30),
            expires_at: chrono::Utc::now() + chrono::TimeDelta::days(1),
        };
        let taken = run.bed.store.begin_update(&died, &[]).await.unwrap();
        assert!(matches!(taken, UpdateClaim::Taken { attempt, .. } if attempt == i + 1), "{taken:?}");
    }
    run.answer().await;
    assert_eq!(run.tracker().await.state(), TrackerState::Acknowledged, "not handled");
    let told = |fake: &testkit::fake_telegram::FakeTelegram| {
        fake.sent(STAFF.0).iter().any(|m| m.text.as_deref().is_some_and(|t| t.contains(&format!("({attempts}회"))))
    };
    assert!(run.bed.fake.wait_for(std::time::Duration::from_secs(10), told).await, "{:#?}", run.bed.staff_notices());
    assert_eq!(run.bed.texts(run.chat).len(), 2, "no receipt");
    run.bed.fake.shutdown().await;
}
