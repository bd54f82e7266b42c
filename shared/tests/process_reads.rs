//! What reading a big process costs: its trackers come a page at a time, and its progress comes
//! from the counts kept with it, not from its trackers. Requests are counted at the store client.
//! On both store engines (`dynoxide::…`, `dynamodb_local::…`).

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use shared::adapters::dynamodb::DynamoStore;
use shared::domain::ids::ProcessId;
use shared::domain::staff::Role;
use shared::http::api::auth::{Principal, StaticTokens};
use shared::ports::clock::SystemClock;
use std::collections::BTreeSet;
use std::sync::Arc;
use support::*;
use testkit::Engine;
use testkit::fake_telegram::FakeConfig;
use testkit::store_requests::StoreRequests;
use tower::ServiceExt;

const N: usize = 300;

struct Reads {
    router: axum::Router,
    requests: StoreRequests,
    process: ProcessId,
    _bed: Bed,
}

async fn process_of_300(engine: Engine) -> Reads {
    let bed = bed_on(engine, FakeConfig::default(), no_pacing(), Arc::new(SystemClock)).await.unwrap();
    let process = first_day_process(&bed, "big", N).await;

    let requests = StoreRequests::logging();
    let counted = DynamoStore::new(requests.attach(&bed.engine.client), bed.engine.table.clone());
    let app = Arc::new(shared::app::App { store: Arc::new(counted), ..(*bed.app).clone() });
    let auth = StaticTokens::default()
        .with("viewer-token", Principal { name: "이조회".into(), role: Role::Viewer, staff_id: None });
    let router = shared::http::api::routes(app, Arc::new(auth));
    Reads { router, requests, process, _bed: bed }
}

impl Reads {
    async fn get(&self, path: &str) -> Value {
        let request = Request::get(path).header("authorization", "Bearer viewer-token").body(Body::empty()).unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }
}

async fn three_hundred_trackers_come_in_six_pages_of_fifty_without_gaps_or_repeats(engine: Engine) {
    let reads = process_of_300(engine).await;
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut path = format!("/api/v1/processes/{}/trackers?limit=50", reads.process);
    loop {
        let page = reads.get(&path).await;
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 50, "page {pages}");
        seen.extend(items.iter().map(|t| t["value"]["client_id"].as_str().unwrap().to_owned()));
        assert_eq!(page["progress"]["total"], N, "every page carries the whole count");
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/processes/{}/trackers?limit=50&cursor={next}", reads.process),
            None => break,
        }
    }
    assert_eq!(pages, 6);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (N, N), "no client twice");
    let expected: BTreeSet<String> = (0..N).map(|i| format!("c{i:04}")).collect();
    assert_eq!(unique.into_iter().cloned().collect::<BTreeSet<_>>(), expected, "no client missing");
}

async fn a_process_with_three_hundred_trackers_is_read_without_reading_one(engine: Engine) {
    let reads = process_of_300(engine).await;
    let body = reads.get(&format!("/api/v1/processes/{}", reads.process)).await;
    assert_eq!(body["progress"]["total"], N);
    assert_eq!(body["progress"]["by_state"]["pending"], N);
    let log = reads.requests.log();
    let operations: Vec<&str> = log.iter().map(|r| r.operation.as_str()).collect();
    assert!(log.iter().all(|r| !r.body.contains("TRACKER#")), "no tracker read: {log:?}");
    assert!(operations.len() <= 2, "the process and its counts: {operations:?}");
}

on_both_engines!(
    three_hundred_trackers_come_in_six_pages_of_fifty_without_gaps_or_repeats,
    a_process_with_three_hundred_trackers_is_read_without_reading_one,
);
