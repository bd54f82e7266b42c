//! The emergency stop, on both store engines: while the bot is stopped nothing goes to clients
//! and the staff group hears only of the stop; what was due is held where it waits, not dropped or
//! failed; the resume carries every process on where it stood; both are in the audit log.

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{NaiveTime, TimeDelta};
use serde_json::{Value, json};
use shared::app::{AppError, Refusal};
use shared::domain::bot::BotState;
use shared::domain::ids::{ClientId, ProcessId};
use shared::domain::process::{ProcessAction, ProcessState};
use shared::domain::staff::Role;
use shared::domain::text::Label;
use shared::domain::time::{Timestamp, at_kst};
use shared::domain::tracker::TrackerState;
use shared::http::api::auth::{Principal, StaticTokens};
use shared::ports::clock::ManualClock;
use shared::ports::store::*;
use std::sync::Arc;
use support::*;
use testkit::fake_telegram::FakeConfig;
use tower::ServiceExt;

fn kst(h: u32, m: u32) -> Timestamp {
    at_kst("2026-03-16".parse().unwrap(), NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

struct Stand {
    bed: Bed,
    clock: Arc<ManualClock>,
    api: axum::Router,
}

async fn stand(engine: testkit::Engine) -> Option<Stand> {
    let clock = Arc::new(ManualClock::new(kst(9, 0)));
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), clock.clone()).await?;
    let auth = StaticTokens::default()
        .with("operator-token", Principal { name: "김운영".into(), role: Role::Operator, staff_id: "kim".parse().ok() })
        .with("advisor-token", Principal { name: "박자문".into(), role: Role::Advisor, staff_id: "park".parse().ok() })
        .with("admin-token", Principal { name: "최관리".into(), role: Role::Admin, staff_id: "choi".parse().ok() });
    let api = shared::http::api::routes(bed.app.clone(), Arc::new(auth));
    Some(Stand { bed, clock, api })
}

impl Stand {
    async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request =
            Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        let response = self.api.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn stop(&self) {
        let reason = Label::new("잘못된 가격 발송").unwrap();
        self.bed.app.stop_bot("김운영", None, reason).await.unwrap();
    }

    /// Moves business time on and fires every job then due, as the devserver's loop does.
    async fn at(&self, t: Timestamp) -> usize {
        self.clock.set(t);
        self.bed.app.run_due_jobs(t).await.unwrap()
    }

    /// Messages each of the first `n` clients' groups was sent.
    fn sent_to_clients(&self, n: usize) -> Vec<usize> {
        (0..n).map(|i| self.bed.fake.sent(client_chat(i).0).len()).collect()
    }

    async fn tracker(&self, process: &ProcessId, i: usize) -> TrackerState {
        let client: ClientId = format!("c{i:04}").parse().unwrap();
        self.bed.store.get_tracker(process, &client).await.unwrap().value.state()
    }

    async fn process_state(&self, process: &ProcessId) -> ProcessState {
        self.bed.store.get_process(process).await.unwrap().value.state()
    }
}

/// Stop and resume through the API: who may, what they answer, what the staff group hears and
/// what the audit log keeps.
async fn stop_and_resume_are_told_audited_and_refused_twice(engine: testkit::Engine) {
    let Some(s) = stand(engine).await else { return };
    let (status, body) = s.call(Method::GET, "/api/v1/bot", "operator-token", None).await;
    assert_eq!((status, body["state"].as_str()), (StatusCode::OK, Some("running")), "{body}");

    let (status, body) =
        s.call(Method::POST, "/api/v1/bot/stop", "operator-token", Some(json!({"reason": "  "}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a reason is required: {body}");
    let (status, body) =
        s.call(Method::POST, "/api/v1/bot/stop", "operator-token", Some(json!({"reason": "잘못된 가격 발송"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "stopped");
    assert_eq!(body["by"], "김운영");
    assert_eq!(body["reason"], "잘못된 가격 발송");
    assert_eq!(body["since"].as_str().unwrap().parse::<Timestamp>().unwrap(), kst(9, 0));
    let (status, body) = s.call(Method::POST, "/api/v1/bot/stop", "advisor-token", Some(json!({"reason": "또"}))).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::CONFLICT, Some("bot_stopped")), "{body}");
    let (_, body) = s.call(Method::GET, "/api/v1/bot", "operator-token", None).await;
    assert_eq!(
        (body["state"].as_str(), body["by"].as_str()),
        (Some("stopped"), Some("김운영")),
        "the first stop stands"
    );
    assert_eq!(s.bed.app.bot_state().await.unwrap().state, BotState::Stopped);
    let notices = s.bed.staff_notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("봇 긴급 정지") && notices[0].contains("잘못된 가격 발송"), "{notices:?}");

    let (status, _) = s.call(Method::POST, "/api/v1/bot/resume", "operator-token", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an operator stops; an advisor resumes");
    s.clock.set(kst(9, 30));
    let (status, body) = s.call(Method::POST, "/api/v1/bot/resume", "advisor-token", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["bot"]["state"], "running");
    assert_eq!(body["bot"]["by"], "박자문");
    assert_eq!(body["processes"], json!([]));
    let (status, body) = s.call(Method::POST, "/api/v1/bot/resume", "advisor-token", None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::CONFLICT, Some("bot_running")), "{body}");
    let notices = s.bed.staff_notices();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(notices[1].contains("봇 재개") && notices[1].contains("박자문"), "{notices:?}");

    let (status, body) = s.call(Method::GET, "/api/v1/audit?from=2026-03-15T00:00:00Z", "admin-token", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let entries: Vec<(&str, &str)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entity_id"] == "bot")
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(entries, [("bot.stop", "김운영"), ("bot.resume", "박자문")]);
    let stop = body["items"].as_array().unwrap().iter().find(|e| e["action"] == "bot.stop").unwrap();
    assert_eq!((stop["before"]["state"].as_str(), stop["after"]["state"].as_str()), (Some("running"), Some("stopped")));
}

/// A kickoff whose time comes while stopped sends nothing and stays scheduled; "start now" is
/// refused, saying why; after the resume the kickoff goes.
async fn a_kickoff_while_stopped_sends_nothing_until_resumed(engine: testkit::Engine) {
    let Some(s) = stand(engine).await else { return };
    let process = first_day_process(&s.bed, "held-kickoff", 3).await;
    s.bed.app.schedule_process(&process).await.unwrap();
    s.stop().await;
    assert_eq!(s.at(kst(9, 0)).await, 1, "the kickoff job fired");
    assert_eq!(s.sent_to_clients(3), [0, 0, 0]);
    assert_eq!(s.process_state(&process).await, ProcessState::Scheduled);
    assert_eq!(s.tracker(&process, 0).await, TrackerState::Pending, "held, not failed");
    let refused = s.bed.app.start_now(&process).await.unwrap_err();
    assert!(matches!(refused, AppError::Refused(Refusal::BotStopped { .. })), "{refused}");
    let (status, body) = s.call(Method::POST, "/api/v1/processes/held-kickoff/start", "advisor-token", None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::CONFLICT, Some("bot_stopped")), "{body}");
    assert_eq!(s.sent_to_clients(3), [0, 0, 0]);

    s.clock.set(kst(9, 20));
    let (_, planned) = s.bed.app.resume_bot("박자문").await.unwrap();
    assert_eq!(planned, std::slice::from_ref(&process));
    assert_eq!(s.sent_to_clients(3), [0, 0, 0], "the resume's jobs come a minute on");
    s.at(kst(9, 21)).await;
    assert_eq!(s.sent_to_clients(3), [1, 1, 1]);
    assert_eq!(s.process_state(&process).await, ProcessState::Running);
    for i in 0..3 {
        assert_eq!(s.tracker(&process, i).await, TrackerState::Sent);
    }
}

/// A reminder due while stopped is not sent (nor is its escalation told to staff) and goes after
/// the resume; a client's answer while stopped is taken but not replied to; a staff notice raised
/// meanwhile waits in the queue and goes after the resume notice.
async fn reminders_and_replies_are_held_and_go_after_resume(engine: testkit::Engine) {
    let Some(s) = stand(engine).await else { return };
    let process = first_day_process(&s.bed, "held-chase", 2).await;
    s.bed.app.start_now(&process).await.unwrap();
    assert_eq!(s.sent_to_clients(2), [1, 1]);
    s.stop().await;

    // Client 1 presses ✅ while stopped: acknowledged, but the bid prompt is held.
    let advice = &s.bed.fake.sent(client_chat(1).0)[0];
    s.bed
        .deliver(json!({
            "update_id": 70_001,
            "callback_query": {
                "id": "cb-held",
                "from": { "id": 6_200_000_001i64, "is_bot": false, "first_name": "서연" },
                "chat_instance": "-1",
                "message": {
                    "message_id": advice.message_id,
                    "from": { "id": s.bed.fake.bot_id(), "is_bot": true, "first_name": "Test Bot" },
                    "chat": { "id": client_chat(1).0, "title": "고객 x 자문", "type": "supergroup" },
                    "date": 1_773_622_800,
                    "text": advice.plain_text,
                },
                "data": format!("ack:{process}"),
            }
        }))
        .await;
    assert_eq!(s.tracker(&process, 1).await, TrackerState::Acknowledged, "the answer is taken");
    s.bed.app.notify_staff("직원 알림 (정지 중)".into()).await;

    // Client 0's first reminder was due at 09:05, its escalation at 09:15.
    s.at(kst(9, 16)).await;
    assert_eq!(s.sent_to_clients(2), [1, 1], "no reminder and no reply while stopped");
    assert_eq!(s.tracker(&process, 0).await, TrackerState::Sent, "held, not failed");
    let notices = s.bed.staff_notices();
    assert_eq!(notices.len(), 1, "only the stop was told: {notices:?}");
    let errors = s.bed.store.errors(kst(0, 0), kst(23, 0), &PageRequest::first(100)).await.unwrap();
    assert!(errors.items.is_empty(), "nothing held is an error: {:?}", errors.items);

    let (_, planned) = s.bed.app.resume_bot("박자문").await.unwrap();
    assert_eq!(planned, std::slice::from_ref(&process));
    let notices = s.bed.staff_notices();
    assert!(notices[1].contains("봇 재개"), "the resume is told first: {notices:?}");
    assert!(notices.iter().skip(2).any(|n| n.contains("직원 알림 (정지 중)")), "then what was held: {notices:?}");

    s.at(kst(9, 17)).await;
    let texts = s.bed.texts(client_chat(0));
    assert_eq!(texts.len(), 2, "the reminder went after the resume: {texts:?}");
    let tracker = s.bed.store.get_tracker(&process, &"c0000".parse().unwrap()).await.unwrap().value;
    assert!(tracker.reminders_total() >= 1, "recorded as reminded");
    assert!(
        s.bed.staff_notices().iter().any(|n| n.contains("긴급") && n.contains("고객0000")),
        "its escalation reached staff after the resume: {:?}",
        s.bed.staff_notices()
    );
    assert_eq!(s.tracker(&process, 1).await, TrackerState::Acknowledged, "where it stood");
    let errors = s.bed.store.errors(kst(0, 0), kst(23, 0), &PageRequest::first(100)).await.unwrap();
    assert!(errors.items.is_empty(), "held notices are not late: {:?}", errors.items);
}

/// The resume carries each process on where it stood: a running one cut short before its sends
/// sends the rest, a paused one stays paused, one scheduled for later keeps its own kickoff.
async fn resume_carries_each_process_on_where_it_stood(engine: testkit::Engine) {
    let Some(s) = stand(engine).await else { return };
    let cut_short = first_day_process(&s.bed, "cut-short", 2).await;
    // Started, then stopped before its first claim: running with every tracker pending.
    let stored = s.bed.store.get_process(&cut_short).await.unwrap();
    let mut running = stored.value.clone();
    running.apply(ProcessAction::Start).unwrap();
    s.bed.store.update_process(&running, stored.version).await.unwrap();
    s.stop().await;
    s.bed
        .app
        .run_job(
            "schedule:kickoff-cut-short:x",
            &shared::ports::scheduler::JobPayload::Kickoff { process_id: cut_short.clone() },
        )
        .await
        .unwrap();
    assert_eq!(s.sent_to_clients(2), [0, 0]);

    let later = s.bed.store.get_process(&cut_short).await.unwrap().value;
    let mut paused = shared::domain::process::Process::new(
        "paused".parse().unwrap(),
        later.stock_id.clone(),
        later.kind,
        kst(9, 0),
        later.policy,
        kst(9, 0),
    );
    paused.apply(ProcessAction::Start).unwrap();
    paused.apply(ProcessAction::Pause).unwrap();
    s.bed.store.create_process(&paused).await.unwrap();
    let mut tomorrow = shared::domain::process::Process::new(
        "tomorrow".parse().unwrap(),
        later.stock_id.clone(),
        later.kind,
        kst(9, 0) + TimeDelta::days(1),
        later.policy,
        kst(9, 0),
    );
    tomorrow.apply(ProcessAction::Schedule).unwrap();
    s.bed.store.create_process(&tomorrow).await.unwrap();

    s.clock.set(kst(10, 0));
    let (_, planned) = s.bed.app.resume_bot("박자문").await.unwrap();
    assert_eq!(planned, std::slice::from_ref(&cut_short), "only what the stop held");
    s.at(kst(10, 1)).await;
    assert_eq!(s.sent_to_clients(2), [1, 1], "the fan-out went on");
    assert_eq!(s.process_state(&"paused".parse().unwrap()).await, ProcessState::Paused);
    assert_eq!(s.process_state(&"tomorrow".parse().unwrap()).await, ProcessState::Scheduled);
}

/// A stop in the middle of a fan-out: what was not sent stays pending and unclaimed (none is
/// failed, none reads as an interrupted send), and after the resume every client has its message
/// exactly once.
async fn a_stop_during_a_fan_out_leaves_the_rest_pending_and_the_resume_sends_it_once(engine: testkit::Engine) {
    use shared::domain::pacing::{Rate, TelegramLimits};
    const N: usize = 24;
    let clock = Arc::new(ManualClock::new(kst(9, 0)));
    // The bot's sends a tenth of a second apart: the fan-out takes seconds, and the stop lands in it.
    let fast = Rate { interval_ms: 1, burst: 1 };
    let limits =
        TelegramLimits { per_bot: Rate { interval_ms: 100, burst: 1 }, per_chat: fast, per_group_minute: fast };
    let Some(bed) = bed_on(engine, FakeConfig::default().without_limits(), limits, clock.clone()).await else { return };
    let process = first_day_process(&bed, "cut-mid-way", N).await;
    let app = bed.app.clone();
    let started = {
        let process = process.clone();
        tokio::spawn(async move { app.start_now(&process).await })
    };
    let sent = |bed: &Bed| (0..N).filter(|i| !bed.fake.sent(client_chat(*i).0).is_empty()).count();
    assert!(bed.fake.wait_for(std::time::Duration::from_secs(30), |_| sent(&bed) >= 3).await, "the fan-out began");
    bed.app.stop_bot("김운영", None, Label::new("오발송").unwrap()).await.unwrap();
    let report = started.await.unwrap().unwrap();
    let cut = sent(&bed);
    assert!(cut < N, "the stop cut the fan-out short ({cut} of {N} sent)");
    assert_eq!(report.sent.len(), cut, "the report counts what went");
    assert!(report.failed.is_empty(), "nothing held is a failure: {:?}", report.failed);
    let trackers = bed.store.trackers_of_process(&process).await.unwrap();
    let pending: Vec<_> = trackers.iter().filter(|t| t.value.state() == TrackerState::Pending).collect();
    assert_eq!(pending.len(), N - cut);
    assert!(pending.iter().all(|t| t.value.send_started_at().is_none()), "every claim the stop refused was given back");

    // Before the first reminder (09:05): each group then holds only its advice.
    clock.set(kst(9, 2));
    bed.app.resume_bot("박자문").await.unwrap();
    clock.set(kst(9, 3));
    bed.app.run_due_jobs(kst(9, 3)).await.unwrap();
    for i in 0..N {
        assert_eq!(bed.fake.sent(client_chat(i).0).len(), 1, "client {i} has its advice once");
    }
    let trackers = bed.store.trackers_of_process(&process).await.unwrap();
    assert!(trackers.iter().all(|t| t.value.state() == TrackerState::Sent));
}

on_both_engines!(
    stop_and_resume_are_told_audited_and_refused_twice,
    a_kickoff_while_stopped_sends_nothing_until_resumed,
    reminders_and_replies_are_held_and_go_after_resume,
    resume_carries_each_process_on_where_it_stood,
    a_stop_during_a_fan_out_leaves_the_rest_pending_and_the_resume_sends_it_once,
);
