//! Loading advice through the staff API: review first (nothing written), then apply to the draft
//! process; roles and errors as problem+json. On both store engines (`dynoxide::…`,
//! `dynamodb_local::…`).

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use shared::domain::ids::ProcessId;
use shared::domain::process::{Process, ProcessAction, ProcessKind, ReminderPolicy, Round};
use shared::domain::staff::Role;
use shared::http::api::auth::{Principal, StaticTokens};
use shared::ports::clock::SystemClock;
use shared::ports::store::{ClientStore, ProcessStore, StockStore, TrackerStore};
use std::sync::Arc;
use support::*;
use testkit::Engine;
use testkit::fake_telegram::FakeConfig;
use tower::ServiceExt;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

struct Api {
    bed: Bed,
    router: axum::Router,
    process: ProcessId,
}

async fn api(engine: Engine) -> Api {
    let bed = bed_on(engine, FakeConfig::default(), no_pacing(), Arc::new(SystemClock)).await.unwrap();
    for c in shared::demo::clients() {
        bed.store.create_client(&c).await.unwrap();
    }
    bed.store.create_stock(&shared::demo::hanbit()).await.unwrap();
    let kickoff = "2026-03-16T00:00:00Z".parse().unwrap();
    let process = Process::new(
        ProcessId::generate(),
        Some("hanbit".parse().unwrap()),
        ProcessKind::Participation { round: Round::FirstDay },
        kickoff,
        ReminderPolicy::default(),
        kickoff,
    );
    bed.store.create_process(&process).await.unwrap();
    let auth = StaticTokens::default()
        .with("advisor-token", Principal { name: "박자문".into(), role: Role::Advisor, staff_id: None })
        .with("viewer-token", Principal { name: "이조회".into(), role: Role::Viewer, staff_id: None });
    let router = shared::http::api::routes(bed.app.clone(), Arc::new(auth));
    Api { bed, router, process: process.id }
}

impl Api {
    async fn post(&self, query: &str, token: Option<&str>, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let mut request = Request::post(format!("/api/v1/processes/{}/advice{query}", self.process))
            .header("content-type", content_type);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = self.router.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

fn workbook() -> Vec<u8> {
    std::fs::read("../events/advice/hanbit_advice.xlsx").unwrap()
}

async fn a_workbook_is_reviewed_then_applied_to_the_draft(engine: Engine) {
    let api = api(engine).await;
    let (status, body) = api.post("?dry_run=true", Some("advisor-token"), XLSX, workbook()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["applied"], Value::Bool(false));
    let report = &body["report"];
    assert_eq!(
        (report["accepted"].as_u64(), report["rejected"].as_u64(), report["skipped"].as_u64()),
        (Some(5), Some(1), Some(1)),
        "{report}"
    );
    assert!(api.bed.store.trackers_of_process(&api.process).await.unwrap().is_empty(), "a dry run writes nothing");

    // Applying while a row is rejected is refused whole, with the report.
    let (status, body) = api.post("", Some("advisor-token"), XLSX, workbook()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["report"]["rejected"].as_u64(), Some(1));
    assert!(api.bed.store.trackers_of_process(&api.process).await.unwrap().is_empty());

    // Staff accept the rest.
    let (status, body) = api.post("?partial=true", Some("advisor-token"), XLSX, workbook()).await;
    assert_eq!((status, body["applied"].clone()), (StatusCode::OK, Value::Bool(true)), "{body}");
    let trackers = api.bed.store.trackers_of_process(&api.process).await.unwrap();
    let mut lines: Vec<(String, usize)> =
        trackers.iter().map(|t| (t.value.client_id.to_string(), bid_advice(&t.value).len())).collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![("dasom".into(), 1), ("gaon".into(), 1), ("nuri".into(), 1), ("saebyeok".into(), 2)],
        "the skipped (바른) and rejected (가온 사모) rows are not advice"
    );

    // A new import replaces the advice whole: clients left out lose theirs.
    let rows = serde_json::json!([{ "client": "(가상)누리자산운용", "price": "17,000", "quantity": "400000", "lockup": "1개월" }]);
    let (status, _) = api.post("", Some("advisor-token"), "application/json", serde_json::to_vec(&rows).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let trackers = api.bed.store.trackers_of_process(&api.process).await.unwrap();
    let clients: Vec<String> = trackers.iter().map(|t| t.value.client_id.to_string()).collect();
    assert_eq!(clients, vec!["nuri"]);
    assert_eq!(bid_advice(&trackers[0].value)[0].quantity.get(), 400_000);
}

async fn json_rows_and_csv_load_too(engine: Engine) {
    let api = api(engine).await;
    let rows = serde_json::json!([{ "client": "(가상)누리자산운용", "price": "17,500", "quantity": "500000", "lockup": "3개월" }]);
    let (status, body) =
        api.post("", Some("advisor-token"), "application/json", serde_json::to_vec(&rows).unwrap()).await;
    assert_eq!((status, body["report"]["accepted"].as_u64()), (StatusCode::OK, Some(1)), "{body}");
    let csv = std::fs::read("../events/advice/hanbit_first_day.csv").unwrap();
    let (status, body) = api.post("?dry_run=true", Some("advisor-token"), "text/csv; charset=utf-8", csv).await;
    assert_eq!((status, body["report"]["accepted"].as_u64()), (StatusCode::OK, Some(5)), "{body}");
}

async fn callers_are_authenticated_and_roles_checked(engine: Engine) {
    let api = api(engine).await;
    let (status, body) = api.post("?dry_run=true", None, XLSX, workbook()).await;
    assert_eq!((status, body["status"].as_u64()), (StatusCode::UNAUTHORIZED, Some(401)));
    let (status, _) = api.post("?dry_run=true", Some("wrong-token"), XLSX, workbook()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = api.post("?dry_run=true", Some("viewer-token"), XLSX, workbook()).await;
    assert_eq!((status, body["detail"].as_str()), (StatusCode::FORBIDDEN, Some("this needs the advisor role")));
}

async fn bad_input_gets_a_clear_problem(engine: Engine) {
    let api = api(engine).await;
    let (status, body) = api.post("?dry_run=true", Some("advisor-token"), XLSX, b"not a workbook".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"].as_str(), Some("body"));
    let (status, _) = api.post("", Some("advisor-token"), "application/json", b"{".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Advice changes only in draft.
    let stored = api.bed.store.get_process(&api.process).await.unwrap();
    let mut scheduled = stored.value.clone();
    scheduled.apply(ProcessAction::Schedule).unwrap();
    api.bed.store.update_process(&scheduled, stored.version).await.unwrap();
    let rows = serde_json::json!([{ "client": "(가상)누리자산운용", "price": "17,500", "quantity": "500000", "lockup": "3개월" }]);
    let (status, body) =
        api.post("", Some("advisor-token"), "application/json", serde_json::to_vec(&rows).unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("only in draft"));
}

on_both_engines!(
    a_workbook_is_reviewed_then_applied_to_the_draft,
    json_rows_and_csv_load_too,
    callers_are_authenticated_and_roles_checked,
    bad_input_gets_a_clear_problem,
);
