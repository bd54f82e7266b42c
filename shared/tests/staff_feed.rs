//! The staff group's feed under load, against the fake Bot API with Telegram's limits and our
//! real pacing: the morning burst (hundreds of clients pressing ✅ within a second of each other)
//! never makes a client's prompt wait behind staff notices, the staff group stays within its 20
//! messages a minute, nothing is lost, and the progress card ends showing everyone.
//!
//! Those two measure time under load on the embedded engine only (on DynamoDB Local they would
//! measure the emulator); what the feed does with a notice that cannot go out, is too long, is
//! refused or is asked for twice runs on both engines (`dynoxide::…`, `dynamodb_local::…`).

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use serde_json::json;
use shared::app::App;
use shared::domain::pacing::TelegramLimits;
use shared::domain::tracker::TrackerState;
use shared::ports::clock::Clock;
use shared::ports::store::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;
use testkit::Engine;
use testkit::fake_telegram::FakeConfig;

/// The local scheduler's loop, as the devserver runs it: due jobs every half second.
fn run_scheduler(app: Arc<App>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let _ = app.run_due_jobs(app.clock.now()).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
}

/// Everything the error log holds.
async fn logged_errors(bed: &Bed) -> Vec<shared::domain::journal::ErrorEntry> {
    let (from, to) = ("2000-01-01T00:00:00Z".parse().unwrap(), "2100-01-01T00:00:00Z".parse().unwrap());
    bed.store.errors(from, to, &PageRequest::first(100)).await.unwrap().items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_acknowledgements_within_a_second_each_get_their_prompt() {
    const N: usize = 300;
    let bed = bed(FakeConfig::default(), TelegramLimits::default()).await;
    let process = first_day_process(&bed, "morning", N).await;
    let scheduler = run_scheduler(bed.app.clone());

    let report = bed.app.start_now(&process).await.unwrap();
    assert_eq!((report.sent.len(), report.failed.len()), (N, 0));

    // Every client presses ✅ within one second, in a shuffled order.
    // The presses are built first, so that pushing them is all the loop does: a loaded machine
    // stretches the burst, which only makes it gentler than the one second it stands for.
    let mut order: Vec<usize> = (0..N).collect();
    order.sort_by_key(|i| (i * 7_919) % N);
    let presses: Vec<serde_json::Value> = order
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let advice = bed.fake.sent(client_chat(*i).0)[0].clone();
            json!({
                "update_id": 500_000 + k,
                "callback_query": {
                    "id": format!("burst-{i}"),
                    "from": { "id": 6_100_000_000i64 + *i as i64, "is_bot": false, "first_name": "매니저" },
                    "chat_instance": "-1",
                    "message": {
                        "message_id": advice.message_id,
                        "from": { "id": bed.fake.bot_id(), "is_bot": true, "first_name": "Test Bot" },
                        "chat": { "id": client_chat(*i).0, "title": "고객사 x 자문", "type": "supergroup" },
                        "date": 1_773_622_800,
                        "text": advice.plain_text,
                    },
                    "data": format!("ack:{process}"),
                }
            })
        })
        .collect();
    let started = Instant::now();
    for (k, press) in presses.into_iter().enumerate() {
        bed.fake.push_update(press);
        if k % 30 == 29 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    eprintln!("the burst was pushed in {:?}", started.elapsed());

    let prompted =
        |f: &testkit::fake_telegram::FakeTelegram| (0..N).filter(|i| f.sent(client_chat(*i).0).len() == 2).count();
    let all = bed.fake.wait_for(Duration::from_secs(120), |f| prompted(f) == N).await;
    if !all {
        for e in logged_errors(&bed).await {
            eprintln!("ERROR {e:?}");
        }
        let d = bed.fake.deliveries();
        eprintln!(
            "deliveries {} ok {} pending {}",
            d.len(),
            d.iter().filter(|d| d.succeeded()).count(),
            bed.fake.pending_updates()
        );
        for x in d.iter().filter(|d| !d.succeeded()).take(5) {
            eprintln!("FAILED DELIVERY {x:?}");
        }
    }
    assert!(all, "prompts sent to {} of {N} clients after {:?}", prompted(&bed.fake), started.elapsed());
    for i in 0..N {
        let texts = bed.texts(client_chat(i));
        assert!(texts[1].contains("실제 참여 내역(가격 / 수량 / 확약)을 이 메시지에 <b>답장</b>"), "{i}: {texts:?}");
    }
    let trackers = bed.store.trackers_of_process(&process).await.unwrap();
    assert!(trackers.iter().all(|t| t.value.state() == TrackerState::Acknowledged), "every ✅ was taken");
    let deliveries = bed.fake.deliveries();
    assert!(deliveries.iter().filter(|d| d.update_id >= 500_000).all(|d| d.succeeded()), "every update answered 2xx");
    assert_eq!(bed.fake.violations(), 0, "no limit broken: {:?}", bed.fake.violation_log());

    // The card catches up within its interval and shows everyone.
    let card_done = bed
        .fake
        .wait_for(Duration::from_secs(30), |_| bed.cards().first().is_some_and(|c| c.contains(&format!("확인 {N}"))))
        .await;
    if !card_done {
        let card = bed.store.get_card(&process).await.unwrap();
        let jobs = bed.store.due_jobs("2100-01-01T00:00:00Z".parse().unwrap(), 50).await.unwrap();
        let errors = logged_errors(&bed).await;
        eprintln!(
            "CARD {card:?}\nSTALE {:?}\nJOBS {:?}\nERRORS {:?}",
            bed.store.stale_cards(5).await,
            jobs.iter().map(|j| (&j.name, j.at)).collect::<Vec<_>>(),
            errors
        );
    }
    assert!(card_done, "the card reads {:?}", bed.cards());
    let staff_sends = bed.fake.sent(STAFF.0).len();
    assert_eq!(staff_sends, 1, "one card, edited in place; no message per ✅: {:?}", bed.texts(STAFF));
    let errors = logged_errors(&bed).await;
    assert!(errors.is_empty(), "nothing failed: {errors:?}");
    println!("burst: {N} prompts in {:?}", started.elapsed());
    scheduler.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_notices_at_once_coalesce_within_the_groups_limit_and_nobody_waits_long() {
    let bed = bed(FakeConfig::default(), TelegramLimits::default()).await;
    let scheduler = run_scheduler(bed.app.clone());
    // Forty notices raised at the same moment by forty handlers.
    let started = Instant::now();
    let raised: Vec<_> = (0..40)
        .map(|i| {
            let app = bed.app.clone();
            tokio::spawn(async move {
                let t = Instant::now();
                app.notify_staff(format!("🚨 긴급: (가상)고객{i:02} — <b>(가상)한빛로보틱스</b> 15분째 확인 없음"))
                    .await;
                t.elapsed()
            })
        })
        .collect();
    let mut longest = Duration::ZERO;
    for r in raised {
        longest = longest.max(r.await.unwrap());
    }
    // Each handler waited at most its budget (2 s) for a slot, plus the store's round trips, which
    // a build running alongside on two cores can stretch by seconds; a handler queued behind the
    // forty notices, at the group's 20 a minute, would wait far longer.
    assert!(longest < Duration::from_secs(12), "a handler waited {longest:?} on staff notices");
    let all = bed
        .fake
        .wait_for(Duration::from_secs(60), |f| {
            let text: String = f.sent(STAFF.0).into_iter().filter_map(|m| m.text).collect();
            (0..40).all(|i| text.contains(&format!("(가상)고객{i:02}")))
        })
        .await;
    assert!(all, "every notice arrived: {:?}", bed.texts(STAFF));
    let messages = bed.fake.sent(STAFF.0).len();
    assert!(messages < 40, "coalesced into fewer messages, got {messages}");
    assert_eq!(bed.fake.violations(), 0, "the group's limit held: {:?}", bed.fake.violation_log());
    println!("40 notices in {messages} messages, {:?}", started.elapsed());
    scheduler.abort();
}

async fn a_notice_that_cannot_go_out_is_kept_logged_and_sent_later(engine: Engine) {
    let clock = Arc::new(shared::ports::clock::ManualClock::new("2026-03-16T00:00:00Z".parse().unwrap()));
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), clock.clone()).await.unwrap();
    // The bot was removed from the staff group: sends there get 403.
    bed.fake.kick(STAFF.0);
    bed.app.notify_staff("🚨 긴급: (가상)누리자산운용 — <b>(가상)한빛로보틱스</b> 15분째 확인 없음".into()).await;
    assert!(bed.texts(STAFF).is_empty());
    let errors = logged_errors(&bed).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].source.as_str(), errors[0].context.as_str()), ("staff-feed", "send failed"));
    assert!(errors[0].message.contains("15분째 확인 없음"), "the log says which notice: {}", errors[0].message);

    // Back in the group two minutes later: the feed's next run sends it, and says it was late.
    bed.fake.readmit(STAFF.0);
    clock.set("2026-03-16T00:02:00Z".parse().unwrap());
    bed.app.run_due_jobs(clock.now()).await.unwrap();
    assert_eq!(bed.texts(STAFF), vec!["🚨 긴급: (가상)누리자산운용 — <b>(가상)한빛로보틱스</b> 15분째 확인 없음"]);
    let errors = logged_errors(&bed).await;
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[1].context, "late");
    assert!(errors[1].message.starts_with("1 notice(s) sent 120 s after they were raised"), "{}", errors[1].message);
    // Nothing is left queued.
    assert!(bed.store.queued_staff_notices(10).await.unwrap().is_empty());
}

async fn a_notice_longer_than_a_message_goes_in_parts_in_order(engine: Engine) {
    let clock = Arc::new(shared::ports::clock::SystemClock);
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), clock).await.unwrap();
    let failures: Vec<String> = (0..400).map(|i| format!("❌ (가상)고객{i:04}: 그룹 미연결")).collect();
    bed.app.notify_staff(format!("🚨 <b>(가상)한빛로보틱스</b> 발송 0건, 실패 400건\n{}", failures.join("\n"))).await;
    let texts = bed.texts(STAFF);
    assert!(texts.len() >= 2, "{} messages", texts.len());
    assert!(texts[0].starts_with("🚨 <b>(가상)한빛로보틱스</b> 발송 0건, 실패 400건"));
    let all = texts.join("\n");
    let positions: Vec<usize> = (0..400).map(|i| all.find(&format!("(가상)고객{i:04}")).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "every failure, in order");
}

async fn one_notice_telegram_refuses_does_not_take_the_others_with_it(engine: Engine) {
    use shared::domain::staff_feed::StaffNotice;
    let clock = Arc::new(shared::ports::clock::ManualClock::new("2026-03-16T00:00:00Z".parse().unwrap()));
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), clock.clone()).await.unwrap();
    // Queued together (the group was busy), so they would go in one message; one is not valid HTML.
    for (i, html) in
        ["📎 (가상)다솜자산운용 — 자료 제출", "<b>broken", "🚨 긴급: (가상)바른투자일임 — 15분째 확인 없음"]
            .iter()
            .enumerate()
    {
        let at = clock.now() + chrono::TimeDelta::seconds(i as i64);
        let notice =
            StaffNotice { id: format!("n{i}"), html: (*html).into(), process_id: None, created_at: at, attempts: 0 };
        bed.store.enqueue_staff_notice(&notice).await.unwrap();
    }
    bed.app.run_staff_feed(bed.app.pacing_clock.now() + chrono::TimeDelta::seconds(5), None).await.unwrap();
    assert_eq!(
        bed.texts(STAFF),
        vec!["📎 (가상)다솜자산운용 — 자료 제출", "🚨 긴급: (가상)바른투자일임 — 15분째 확인 없음"],
        "the good ones, one by one"
    );
    let left = bed.store.queued_staff_notices(10).await.unwrap();
    assert_eq!(left.iter().map(|n| (n.id.as_str(), n.attempts)).collect::<Vec<_>>(), vec![("n1", 1)]);
    let errors = logged_errors(&bed).await;
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.starts_with("attempt 1 (Telegram rejected the request"), "{}", errors[0].message);
}

async fn a_feed_run_asked_for_again_under_the_same_name_runs_again(engine: Engine) {
    let clock = Arc::new(shared::ports::clock::ManualClock::new("2026-03-16T00:00:00Z".parse().unwrap()));
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), clock.clone()).await.unwrap();
    let job = shared::ports::scheduler::Job::staff_feed(clock.now());
    let key = format!("schedule:{}:{}", job.name, job.at.to_rfc3339());
    for (i, text) in ["첫 번째 알림", "두 번째 알림"].iter().enumerate() {
        let notice = shared::domain::staff_feed::StaffNotice {
            id: format!("n{i}"),
            html: (*text).into(),
            process_id: None,
            created_at: clock.now(),
            attempts: 0,
        };
        bed.store.enqueue_staff_notice(&notice).await.unwrap();
        bed.app.run_job(&key, &job.payload).await.unwrap();
    }
    assert_eq!(bed.texts(STAFF), vec!["첫 번째 알림", "두 번째 알림"], "the second run was not skipped as done");
}

on_both_engines!(
    a_notice_that_cannot_go_out_is_kept_logged_and_sent_later,
    a_notice_longer_than_a_message_goes_in_parts_in_order,
    one_notice_telegram_refuses_does_not_take_the_others_with_it,
    a_feed_run_asked_for_again_under_the_same_name_runs_again,
);
