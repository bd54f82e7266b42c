//! The staff API's routes: every one refuses a caller without a token (401) and a role below its
//! own (403); each family succeeds for the right role and answers bad input with problem+json.
//! On both store engines (`dynoxide::…`, `dynamodb_local::…`).

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use shared::domain::ids::TelegramUserId;
use shared::domain::lockup::LockUp;
use shared::domain::staff::{Role, Staff};
use shared::domain::text::Label;
use shared::domain::tracker::{ChatActor, TrackerEvent};
use shared::http::api::Family;
use shared::http::api::auth::{Principal, StaticTokens};
use shared::ports::clock::ManualClock;
use shared::ports::store::{ClientStore, ProcessStore, StockStore, TrackerStore};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use support::*;
use testkit::Engine;
use testkit::fake_telegram::FakeConfig;
use tower::ServiceExt;

const ROLES: [(Role, &str); 4] = [
    (Role::Viewer, "viewer-token"),
    (Role::Operator, "operator-token"),
    (Role::Advisor, "advisor-token"),
    (Role::Admin, "admin-token"),
];

/// The router, remembering each operation that succeeded through it, and the business clock.
#[derive(Clone)]
struct Api {
    router: axum::Router,
    succeeded: Arc<Mutex<Succeeded>>,
    clock: Arc<ManualClock>,
}

/// Two weeks before (가상)한빛로보틱스's book-building.
fn early_march() -> shared::domain::time::Timestamp {
    "2026-03-02T00:00:00Z".parse().unwrap()
}

type Succeeded = BTreeSet<(String, String)>;

impl Api {
    fn succeeded(&self) -> Succeeded {
        self.succeeded.lock().unwrap().clone()
    }
}

async fn api(engine: Engine) -> (Bed, Api) {
    serving(engine, &Family::ALL).await
}

/// The families deployed without Telegram or the scheduler, served as in AWS: any route of theirs
/// that reached either would fail.
async fn table_only(engine: Engine) -> (Bed, Api) {
    let families: Vec<Family> = Family::ALL.into_iter().filter(|f| !f.reaches_out()).collect();
    serving(engine, &families).await
}

async fn serving(engine: Engine, families: &[Family]) -> (Bed, Api) {
    let clock = Arc::new(ManualClock::new(early_march()));
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), clock.clone()).await.unwrap();
    // The representative the clients below name.
    let rep = Staff {
        id: "rep-kim".parse().unwrap(),
        name: Label::try_from("김대리".to_owned()).unwrap(),
        role: Role::Operator,
        telegram_user_id: None,
        active: true,
    };
    bed.app.store.create_staff(&rep).await.unwrap();
    let mut auth = StaticTokens::default();
    for (role, token) in ROLES {
        auth = auth.with(token, Principal { name: format!("{role:?}"), role, staff_id: "ops-kim".parse().ok() });
    }
    let app = if families.iter().any(|f| f.reaches_out()) {
        bed.app.clone()
    } else {
        let withheld = Arc::new(shared::adapters::withheld::Withheld);
        Arc::new(shared::app::App { messenger: withheld.clone(), scheduler: withheld, ..(*bed.app).clone() })
    };
    let router = shared::http::api::serve(families, app, Arc::new(auth));
    (bed, Api { router, succeeded: Arc::default(), clock })
}

async fn call(api: &Api, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method.clone()).uri(path).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = api.router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    if status.is_success() {
        let path = path.split('?').next().unwrap_or_default().to_owned();
        api.succeeded.lock().unwrap().insert((method.to_string(), path));
    }
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn token_below(needed: Role) -> Option<&'static str> {
    ROLES.iter().rev().find(|(role, _)| *role < needed).map(|(_, t)| *t)
}

/// The role each operation needs, from its security scopes, with a path to call it by.
fn operations() -> Vec<(Method, String, Option<Role>)> {
    let document = serde_json::to_value(shared::http::api::openapi::document()).unwrap();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete = path.replace("{id}", "x1").replace("{client}", "c1");
        for (method, operation) in item.as_object().unwrap() {
            let scopes = operation["security"][0][shared::http::api::openapi::SCHEME].as_array();
            let role = scopes.map(|s| serde_json::from_value::<Role>(s[0].clone()).unwrap());
            operations.push((method.to_uppercase().parse().unwrap(), concrete.clone(), role));
        }
    }
    operations
}

/// Every operation answers a malformed path id, query parameter or body with 400 problem+json
/// naming the field, read off the document so that no route is left out.
async fn every_route_names_the_field_of_bad_input(engine: Engine) {
    let (bed, router) = api(engine).await;
    // The advice is read only for a process that exists.
    bed.store.create_stock(&shared::demo::hanbit()).await.unwrap();
    let process =
        json!({ "id": "x1", "stock_id": "hanbit", "kind": { "kind": "participation", "round": "first_day" } });
    let (status, _) = call(&router, Method::POST, "/api/v1/processes", Some("advisor-token"), Some(process)).await;
    assert_eq!(status, StatusCode::CREATED);
    let document = serde_json::to_value(shared::http::api::openapi::document()).unwrap();
    let mut checked = 0;
    for (template, item) in document["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let Some(role) = op["security"][0][shared::http::api::openapi::SCHEME][0].as_str() else { continue };
            let token = ROLES.iter().find(|(r, _)| serde_json::to_value(r).unwrap() == role).map(|(_, t)| *t);
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let good = template.replace("{id}", "x1").replace("{client}", "c1");
            let mut cases: Vec<(String, Option<Value>, String)> = Vec::new();
            for p in &params {
                let name = p["name"].as_str().unwrap();
                match p["in"].as_str() {
                    Some("path") => cases.push((
                        good.replace(&format!("/{}", if name == "id" { "x1" } else { "c1" }), "/bad%20id"),
                        None,
                        name.into(),
                    )),
                    Some("query") => cases.push((format!("{good}?{name}=not%20valid!"), None, name.into())),
                    _ => {}
                }
            }
            let json_body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].is_string();
            if json_body {
                // An array too: serde alone would read a struct from its fields in order.
                cases.push((good.clone(), Some(json!("not an object")), String::new()));
                cases.push((good.clone(), Some(json!([1])), String::new()));
            }
            for (path, body, field) in cases {
                let (status, problem) = call(&router, method.clone(), &path, token, body.clone()).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path} {body:?}: {problem}");
                if !field.is_empty() {
                    assert_eq!(
                        problem["errors"][0]["field"].as_str(),
                        Some(field.as_str()),
                        "{method} {path}: {problem}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "{checked} cases");
}

async fn every_route_refuses_missing_tokens_and_lower_roles(engine: Engine) {
    let (_bed, router) = api(engine).await;
    let operations = operations();
    assert!(operations.len() >= 31, "the document lists every operation, found {}", operations.len());
    for (method, path, needed) in operations {
        let Some(needed) = needed else {
            let (status, _) = call(&router, method.clone(), &path, None, None).await;
            assert_eq!(status, StatusCode::OK, "{method} {path} is public");
            continue;
        };
        let (status, body) = call(&router, method.clone(), &path, None, Some(json!({}))).await;
        assert_eq!((status, body["status"].as_u64()), (StatusCode::UNAUTHORIZED, Some(401)), "{method} {path}");
        if let Some(lower) = token_below(needed) {
            let (status, _) = call(&router, method.clone(), &path, Some(lower), Some(json!({}))).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} with {lower}");
        }
        // The role the document names is enough: the handler asks for no more.
        let token = ROLES.iter().find(|(role, _)| *role == needed).map(|(_, t)| *t);
        let (status, _) = call(&router, method.clone(), &path, token, Some(json!({}))).await;
        assert!(![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&status), "{method} {path}: {status}");
    }
}

async fn clients_are_created_read_updated_and_linked((_bed, router): (Bed, Api)) -> Succeeded {
    let client = json!({
        "id": "saebyeok", "name": "(가상)새벽자산운용", "representative": "rep-kim",
        "funds": [{ "id": "hy", "name": "하이일드", "kind": "high_yield", "aum": 85_000_000_000u64 }]
    });
    let (status, created) =
        call(&router, Method::POST, "/api/v1/clients", Some("admin-token"), Some(client.clone())).await;
    assert_eq!((status, created["version"].as_u64()), (StatusCode::CREATED, Some(1)), "{created}");
    let (status, _) = call(&router, Method::POST, "/api/v1/clients", Some("admin-token"), Some(client.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "a second create");

    let (status, body) =
        call(&router, Method::POST, "/api/v1/clients", Some("admin-token"), Some(json!({ "name": "x" }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"].as_str(), Some("representative"), "{body}");
    let mut stranger = client.clone();
    stranger["id"] = json!("other");
    stranger["representative"] = json!("nobody");
    let (status, body) = call(&router, Method::POST, "/api/v1/clients", Some("admin-token"), Some(stranger)).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("representative")));
    let mut versioned = client.clone();
    versioned["id"] = json!("other");
    versioned["version"] = json!(3);
    let (status, body) = call(&router, Method::POST, "/api/v1/clients", Some("admin-token"), Some(versioned)).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("version")));
    let no_funds = json!({ "name": "x", "representative": "rep-kim", "funds": [] });
    let (status, body) = call(&router, Method::POST, "/api/v1/clients", Some("admin-token"), Some(no_funds)).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("funds")));

    let mut renamed = client.clone();
    renamed["name"] = json!("(가상)새벽자산운용(신)");
    renamed["version"] = json!(1);
    let (status, updated) =
        call(&router, Method::PUT, "/api/v1/clients/saebyeok", Some("admin-token"), Some(renamed.clone())).await;
    assert_eq!((status, updated["version"].as_u64()), (StatusCode::OK, Some(2)), "{updated}");
    let (status, _) =
        call(&router, Method::PUT, "/api/v1/clients/saebyeok", Some("admin-token"), Some(renamed.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "a stale version");
    let (status, body) = call(&router, Method::PUT, "/api/v1/clients/other", Some("admin-token"), Some(renamed)).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("id")), "{body}");

    let (status, listed) =
        call(&router, Method::GET, "/api/v1/clients?representative=rep-kim", Some("viewer-token"), None).await;
    assert_eq!((status, listed["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
    let (status, body) = call(&router, Method::GET, "/api/v1/clients?limit=0", Some("viewer-token"), None).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("limit")));
    let (status, read) = call(&router, Method::GET, "/api/v1/clients/saebyeok", Some("viewer-token"), None).await;
    assert_eq!((status, read["value"]["name"].as_str()), (StatusCode::OK, Some("(가상)새벽자산운용(신)")));
    let (status, _) = call(&router, Method::GET, "/api/v1/clients/nobody", Some("viewer-token"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = call(&router, Method::GET, "/api/v1/clients/bad%20id", Some("viewer-token"), None).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("id")));

    let (status, code) =
        call(&router, Method::POST, "/api/v1/clients/saebyeok/link-code", Some("operator-token"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(code["send_in_group"].as_str().unwrap().starts_with("/link "));
    let (status, _) =
        call(&router, Method::DELETE, "/api/v1/clients/saebyeok/link-code", Some("operator-token"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "every code of the client revoked");
    let (status, log) =
        call(&router, Method::GET, "/api/v1/clients/saebyeok/messages", Some("viewer-token"), None).await;
    assert_eq!((status, log["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    router.succeeded()
}

async fn stocks_enforce_krx_order_and_report_warnings(engine: Engine) -> Succeeded {
    let (_bed, router) = api(engine).await;
    let mut stock = json!({
        "id": "hanbit", "name": "(가상)한빛로보틱스", "market": "KOSDAQ", "lead_manager": "(가상)미래증권",
        "band": { "low": 14000, "high": 16000 },
        "schedule": { "filing": "2026-02-20", "bookbuilding_start": "2026-03-16", "bookbuilding_end": "2026-03-19",
                      "price_fixing": "2026-03-24", "subscription_start": "2026-03-26", "subscription_end": "2026-03-27",
                      "payment": "2026-03-31", "listing": "2026-04-07" }
    });
    let (status, created) =
        call(&router, Method::POST, "/api/v1/stocks", Some("advisor-token"), Some(stock.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["warnings"][0]["kind"].as_str(), Some("short_bookbuilding"), "4 business days warn, not refuse");
    let (status, read) = call(&router, Method::GET, "/api/v1/stocks/hanbit", Some("viewer-token"), None).await;
    assert_eq!((status, read["warnings"][0]["kind"].as_str()), (StatusCode::OK, Some("short_bookbuilding")));

    stock["id"] = json!("broken");
    stock["schedule"]["listing"] = json!("2026-03-01");
    let (status, body) = call(&router, Method::POST, "/api/v1/stocks", Some("advisor-token"), Some(stock)).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("schedule.payment")),
        "{body}"
    );

    router.clock.set("2026-03-23T00:00:00Z".parse().unwrap());
    let (status, priced) = call(
        &router,
        Method::POST,
        "/api/v1/stocks/hanbit/final-price",
        Some("advisor-token"),
        Some(json!({ "price": 17000, "version": 1 })),
    )
    .await;
    assert_eq!((status, priced["value"]["final_price"].as_u64()), (StatusCode::OK, Some(17_000)), "{priced}");
    let (status, _) = call(
        &router,
        Method::POST,
        "/api/v1/stocks/hanbit/final-price",
        Some("advisor-token"),
        Some(json!({ "price": 0, "version": 2 })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a zero price");

    // Stocks by date: those whose schedule (filing to listing) meets the window.
    let dated = |query: &'static str| {
        let router = router.clone();
        async move {
            let (status, body) = call(&router, Method::GET, query, Some("viewer-token"), None).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            body["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(dated("/api/v1/stocks?from=2026-04-07").await, 1, "listing day");
    assert_eq!(dated("/api/v1/stocks?from=2026-04-08").await, 0);
    assert_eq!(dated("/api/v1/stocks?until=2026-02-19").await, 0);
    assert_eq!(dated("/api/v1/stocks?from=2026-03-01&until=2026-03-02").await, 1);
    let (status, body) = call(&router, Method::GET, "/api/v1/stocks?from=March", Some("viewer-token"), None).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("from")), "{body}");
    router.succeeded()
}

async fn a_process_runs_through_the_api(engine: Engine) -> Succeeded {
    let (bed, router) = api(engine).await;
    let client = bed.linked_client("nuri", GROUP).await;
    bed.store.create_stock(&shared::demo::hanbit()).await.unwrap();
    let process =
        json!({ "id": "p1", "stock_id": "hanbit", "kind": { "kind": "participation", "round": "first_day" } });
    let (status, created) =
        call(&router, Method::POST, "/api/v1/processes", Some("advisor-token"), Some(process)).await;
    assert_eq!(
        (status, created["value"]["kickoff_at"].as_str()),
        (StatusCode::CREATED, Some("2026-03-16T00:00:00Z")),
        "{created}"
    );
    let bad = json!({ "stock_id": "hanbit", "kind": { "kind": "participation", "round": "revision" } });
    let (status, body) = call(&router, Method::POST, "/api/v1/processes", Some("advisor-token"), Some(bad)).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("kickoff_at")));
    let stockless = json!({ "kind": { "kind": "allotment" } });
    let (status, body) = call(&router, Method::POST, "/api/v1/processes", Some("advisor-token"), Some(stockless)).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("stock_id")), "{body}");
    let unknown = json!({ "stock_id": "nothing", "kind": { "kind": "notice" }, "kickoff_at": "2026-03-16T00:00:00Z" });
    let (status, body) = call(&router, Method::POST, "/api/v1/processes", Some("advisor-token"), Some(unknown)).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("stock_id")));

    // Processes by stock, state and kickoff time.
    for (query, found) in [
        ("/api/v1/processes?stock=hanbit&state=draft", 1),
        ("/api/v1/processes?state=running", 0),
        ("/api/v1/processes?from=2026-03-16T00:00:00Z&until=2026-03-16T00:00:01Z", 1),
        ("/api/v1/processes?from=2026-03-16T00:00:01Z", 0),
        ("/api/v1/processes?stock=other", 0),
    ] {
        let (status, body) = call(&router, Method::GET, query, Some("viewer-token"), None).await;
        assert_eq!((status, body["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(found)), "{query}");
    }
    let (status, body) =
        call(&router, Method::GET, "/api/v1/processes?state=finished", Some("viewer-token"), None).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("state")), "{body}");

    let rows = json!([{ "client": "(가상)nuri자산운용", "price": "17,500", "quantity": "500000", "lockup": "3개월" }]);
    let (status, applied) =
        call(&router, Method::POST, "/api/v1/processes/p1/advice", Some("advisor-token"), Some(rows)).await;
    assert_eq!((status, applied["applied"].as_bool()), (StatusCode::OK, Some(true)), "{applied}");

    let (status, started) =
        call(&router, Method::POST, "/api/v1/processes/p1/start", Some("advisor-token"), None).await;
    assert_eq!((status, started["sent"][0].as_str()), (StatusCode::OK, Some(client.as_str())), "{started}");
    assert_eq!(bed.texts(GROUP).len(), 1, "the advice went out");

    let (status, read) = call(&router, Method::GET, "/api/v1/processes/p1", Some("viewer-token"), None).await;
    assert_eq!((status, read["progress"]["by_state"]["sent"].as_u64()), (StatusCode::OK, Some(1)), "{read}");
    let (status, _) =
        call(&router, Method::POST, "/api/v1/processes/p1/trackers/nuri/remind", Some("operator-token"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bed.texts(GROUP).len(), 2, "reminded now");

    let (status, paused) = call(&router, Method::POST, "/api/v1/processes/p1/pause", Some("advisor-token"), None).await;
    assert_eq!((status, paused["value"]["state"].as_str()), (StatusCode::OK, Some("paused")));
    let (status, resumed) =
        call(&router, Method::POST, "/api/v1/processes/p1/resume", Some("advisor-token"), None).await;
    assert_eq!((status, resumed["value"]["state"].as_str()), (StatusCode::OK, Some("running")));
    let (status, _) = call(&router, Method::POST, "/api/v1/processes/p1/schedule", Some("advisor-token"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "a running process cannot be scheduled");
    let (status, _) = call(&router, Method::POST, "/api/v1/processes/p1/explode", Some("advisor-token"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Staff confirm values they read; a bid without a price is refused.
    let (status, body) = call(
        &router,
        Method::POST,
        "/api/v1/processes/p1/trackers/nuri/confirm",
        Some("operator-token"),
        Some(json!({ "lines": [{ "fund": "공모주", "quantity": "500000", "lockup": "3개월" }] })),
    )
    .await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("lines[0]")), "{body}");
    let (status, body) =
        call(&router, Method::POST, "/api/v1/processes/p1/trackers/nuri/confirm", Some("operator-token"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing submitted yet, and no values given: {body}");
    assert_eq!(body["detail"].as_str(), Some("a sent tracker cannot take confirmed"));
    let (status, trackers) =
        call(&router, Method::GET, "/api/v1/processes/p1/trackers?state=sent", Some("viewer-token"), None).await;
    assert_eq!((status, trackers["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)));

    // The client answers (as its group would have it), and staff confirm what it sent.
    let (process, nuri) = ("p1".parse().unwrap(), "nuri".parse().unwrap());
    let stored = bed.store.get_tracker(&process, &nuri).await.unwrap();
    let mut tracker = stored.value.clone();
    let at = "2026-03-16T00:10:00Z".parse().unwrap();
    let by = ChatActor { user_id: TelegramUserId(6_123_456_789), name: "김서연".into() };
    tracker.apply(TrackerEvent::Acknowledged { by, at }).unwrap();
    let answer = bids_answered(&[("main", 17_500, 500_000, LockUp::Months3)]);
    tracker.apply(TrackerEvent::Submitted { answer, at }).unwrap();
    bed.store.transition_tracker(&tracker, stored.value.state(), stored.version).await.unwrap();
    let (status, confirmed) = call(
        &router,
        Method::POST,
        "/api/v1/processes/p1/trackers/nuri/confirm",
        Some("operator-token"),
        Some(json!({})),
    )
    .await;
    assert_eq!((status, confirmed["value"]["state"].as_str()), (StatusCode::OK, Some("confirmed")), "{confirmed}");

    let (status, cancelled) =
        call(&router, Method::POST, "/api/v1/processes/p1/cancel", Some("advisor-token"), None).await;
    assert_eq!((status, cancelled["value"]["state"].as_str()), (StatusCode::OK, Some("cancelled")));
    router.succeeded()
}

async fn a_notice_goes_to_a_representatives_clients(engine: Engine) -> Succeeded {
    let (bed, router) = api(engine).await;
    bed.linked_client("nuri", GROUP).await;
    // The representative of the test clients.
    let rep = Staff {
        id: "rep".parse().unwrap(),
        name: Label::try_from("이대표".to_owned()).unwrap(),
        role: Role::Operator,
        telegram_user_id: None,
        active: true,
    };
    bed.app.store.create_staff(&rep).await.unwrap();
    let notice = json!({ "id": "holiday", "kind": { "kind": "notice" } });
    let (status, created) = call(&router, Method::POST, "/api/v1/processes", Some("advisor-token"), Some(notice)).await;
    assert_eq!((status, created["value"]["stock_id"].clone()), (StatusCode::CREATED, Value::Null), "{created}");

    let text =
        json!({ "title": "추석 연휴 안내", "text": "연휴 중에는 <답변>이 늦을 수 있습니다.", "acknowledge": false });
    let body = json!({ "audience": { "by": "representative", "representative": "rep" }, "notice": text });
    let (status, preview) = call(
        &router,
        Method::POST,
        "/api/v1/processes/holiday/audience?dry_run=true",
        Some("advisor-token"),
        Some(body.clone()),
    )
    .await;
    assert_eq!((status, preview["applied"].as_bool()), (StatusCode::OK, Some(false)), "{preview}");
    assert_eq!(preview["recipients"][0]["client_id"].as_str(), Some("nuri"));
    assert_eq!(
        preview["preview"].as_str(),
        Some("📢 <b>추석 연휴 안내</b>\n\n연휴 중에는 &lt;답변&gt;이 늦을 수 있습니다."),
        "staff's text is escaped"
    );
    assert!(
        bed.store.trackers_of_process(&"holiday".parse().unwrap()).await.unwrap().is_empty(),
        "a dry run writes nothing"
    );

    let no_text = json!({ "audience": { "by": "all_linked" } });
    let (status, problem) =
        call(&router, Method::POST, "/api/v1/processes/holiday/audience", Some("advisor-token"), Some(no_text)).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("notice")));
    let stranger = json!({ "audience": { "by": "clients", "clients": ["nuri", "ghost"] }, "notice": text });
    let (status, problem) =
        call(&router, Method::POST, "/api/v1/processes/holiday/audience", Some("advisor-token"), Some(stranger)).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("audience.clients[1]"))
    );

    let (status, applied) =
        call(&router, Method::POST, "/api/v1/processes/holiday/audience", Some("advisor-token"), Some(body)).await;
    assert_eq!((status, applied["applied"].as_bool()), (StatusCode::OK, Some(true)), "{applied}");
    let (status, started) =
        call(&router, Method::POST, "/api/v1/processes/holiday/start", Some("advisor-token"), None).await;
    assert_eq!((status, started["sent"][0].as_str()), (StatusCode::OK, Some("nuri")), "{started}");
    assert_eq!(bed.texts(GROUP), vec!["📢 <b>추석 연휴 안내</b>\n\n연휴 중에는 &lt;답변&gt;이 늦을 수 있습니다."]);
    assert!(bed.fake.sent(GROUP.0)[0].reply_markup.is_none(), "no ✅ asked for");
    let (status, trackers) =
        call(&router, Method::GET, "/api/v1/processes/holiday/trackers", Some("viewer-token"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(trackers["items"][0]["value"]["advice"]["phase"].as_str(), Some("notice"), "{trackers}");
    assert_eq!(trackers["progress"]["by_state"]["sent"].as_u64(), Some(1));

    // An allotment check goes only to clients with a confirmed bid.
    bed.store.create_stock(&shared::demo::hanbit()).await.unwrap();
    let allotment = json!({ "id": "allot", "stock_id": "hanbit", "kind": { "kind": "allotment" } });
    let (status, created) =
        call(&router, Method::POST, "/api/v1/processes", Some("advisor-token"), Some(allotment)).await;
    assert_eq!(
        (status, created["value"]["kickoff_at"].as_str()),
        (StatusCode::CREATED, Some("2026-03-26T00:00:00Z")),
        "09:00 KST on the first subscription day: {created}"
    );
    let everyone = json!({ "audience": { "by": "all_linked" } });
    let (status, problem) =
        call(&router, Method::POST, "/api/v1/processes/allot/audience", Some("advisor-token"), Some(everyone)).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("audience")));
    let bids = json!({ "audience": { "by": "confirmed_bids" } });
    let (status, preview) =
        call(&router, Method::POST, "/api/v1/processes/allot/audience?dry_run=true", Some("advisor-token"), Some(bids))
            .await;
    assert_eq!((status, preview["recipients"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "nobody bid yet");
    router.succeeded()
}

async fn staff_are_managed_by_admins((_bed, router): (Bed, Api)) -> Succeeded {
    let kim = json!({ "id": "ops-kim", "name": "김운영", "role": "operator", "telegram_user_id": 7_100_000_001i64 });
    let (status, created) = call(&router, Method::POST, "/api/v1/staff", Some("admin-token"), Some(kim.clone())).await;
    assert_eq!((status, created["value"]["role"].as_str()), (StatusCode::CREATED, Some("operator")), "{created}");
    let (status, body) =
        call(&router, Method::POST, "/api/v1/staff", Some("admin-token"), Some(json!({ "name": "x", "role": "boss" })))
            .await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("role")), "{body}");
    let mut promoted = kim;
    promoted["role"] = json!("advisor");
    promoted["version"] = json!(1);
    let (status, updated) =
        call(&router, Method::PUT, "/api/v1/staff/ops-kim", Some("admin-token"), Some(promoted)).await;
    assert_eq!((status, updated["version"].as_u64()), (StatusCode::OK, Some(2)));
    let (status, listed) = call(&router, Method::GET, "/api/v1/staff", Some("viewer-token"), None).await;
    assert_eq!((status, listed["items"][0]["value"]["role"].as_str()), (StatusCode::OK, Some("advisor")));
    let (status, read) = call(&router, Method::GET, "/api/v1/staff/ops-kim", Some("viewer-token"), None).await;
    assert_eq!((status, read["version"].as_u64()), (StatusCode::OK, Some(2)));
    let (status, _) = call(&router, Method::GET, "/api/v1/staff/bad%20id", Some("viewer-token"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, document) = call(&router, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!((status, document["openapi"].as_str()), (StatusCode::OK, Some("3.1.0")), "public");
    router.succeeded()
}

async fn an_amendment_moves_kickoffs_and_a_withdrawal_cancels_and_tells_clients(engine: Engine) -> Succeeded {
    use shared::ports::store::{JobStore, ProcessStore};
    let (bed, router) = api(engine).await;
    bed.linked_client("nuri", GROUP).await;
    bed.store.create_stock(&shared::demo::hanbit()).await.unwrap();
    let make = |id: &str, round: &str, kickoff: Option<&str>| {
        let mut p = json!({ "id": id, "stock_id": "hanbit", "kind": { "kind": "participation", "round": round } });
        if let Some(k) = kickoff {
            p["kickoff_at"] = json!(k);
        }
        p
    };
    for (id, round, kickoff) in [
        ("first", "first_day", None),
        ("last", "last_day", None),
        ("manual", "first_day", Some("2026-03-16T01:30:00Z")),
    ] {
        let (status, _) =
            call(&router, Method::POST, "/api/v1/processes", Some("advisor-token"), Some(make(id, round, kickoff)))
                .await;
        assert_eq!(status, StatusCode::CREATED);
        let rows =
            json!([{ "client": "(가상)nuri자산운용", "price": "17,500", "quantity": "500000", "lockup": "3개월" }]);
        let (status, _) =
            call(&router, Method::POST, &format!("/api/v1/processes/{id}/advice"), Some("advisor-token"), Some(rows))
                .await;
        assert_eq!(status, StatusCode::OK);
    }
    for id in ["first", "manual"] {
        let (status, _) =
            call(&router, Method::POST, &format!("/api/v1/processes/{id}/schedule"), Some("advisor-token"), None).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = call(&router, Method::POST, "/api/v1/processes/last/schedule", Some("advisor-token"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, back) =
        call(&router, Method::POST, "/api/v1/processes/last/unschedule", Some("advisor-token"), None).await;
    assert_eq!((status, back["value"]["state"].as_str()), (StatusCode::OK, Some("draft")), "{back}");

    // The offering moves by four weeks (정정신고서).
    let moved = json!({ "version": 1, "schedule": {
        "filing": "2026-02-20", "bookbuilding_start": "2026-04-13", "bookbuilding_end": "2026-04-17", "price_fixing": "2026-04-21",
        "subscription_start": "2026-04-23", "subscription_end": "2026-04-24", "payment": "2026-04-28", "listing": "2026-05-06" } });
    let (status, body) =
        call(&router, Method::PUT, "/api/v1/stocks/hanbit/schedule", Some("advisor-token"), Some(moved)).await;
    assert_eq!((status, body["moved_kickoffs"].as_u64()), (StatusCode::OK, Some(2)), "{body}");
    let kickoff = |id: &'static str| {
        let store = bed.store.clone();
        async move { store.get_process(&id.parse().unwrap()).await.unwrap().value.kickoff_at.to_rfc3339() }
    };
    assert_eq!(kickoff("first").await, "2026-04-13T00:00:00+00:00");
    assert_eq!(kickoff("last").await, "2026-04-17T00:00:00+00:00");
    assert_eq!(kickoff("manual").await, "2026-03-16T01:30:00+00:00", "a kickoff staff set stays");
    let due_before: Vec<String> = bed
        .store
        .due_jobs("2026-03-31T00:00:00Z".parse().unwrap(), 25)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.name)
        .collect();
    assert_eq!(due_before, vec!["kickoff-manual"], "the first round's old kickoff job is gone");
    let due_after: Vec<String> = bed
        .store
        .due_jobs("2026-04-13T00:00:00Z".parse().unwrap(), 25)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.name)
        .collect();
    assert!(due_after.contains(&"kickoff-first".to_owned()), "{due_after:?}");

    // A running process with advice sent, then the offering is withdrawn (철회).
    let process = make("running", "revision", Some("2026-04-13T00:00:00Z"));
    call(&router, Method::POST, "/api/v1/processes", Some("advisor-token"), Some(process)).await;
    let rows = json!([{ "client": "(가상)nuri자산운용", "price": "17,500", "quantity": "500000", "lockup": "3개월" }]);
    call(&router, Method::POST, "/api/v1/processes/running/advice", Some("advisor-token"), Some(rows)).await;
    call(&router, Method::POST, "/api/v1/processes/running/start", Some("advisor-token"), None).await;
    assert_eq!(bed.texts(GROUP).len(), 1);
    let (status, body) = call(
        &router,
        Method::POST,
        "/api/v1/stocks/hanbit/withdraw",
        Some("advisor-token"),
        Some(json!({ "version": 2 })),
    )
    .await;
    assert_eq!((status, body["value"]["status"].as_str()), (StatusCode::OK, Some("withdrawn")), "{body}");
    assert_eq!(
        bed.texts(GROUP)[1],
        "📢 <b>(가상)한빛로보틱스</b> 공모가 철회되었습니다. 이 종목에 대한 안내와 요청은 모두 취소합니다."
    );
    for id in ["first", "last", "manual", "running"] {
        let state = bed.store.get_process(&id.parse().unwrap()).await.unwrap().value.state();
        assert_eq!(state, shared::domain::process::ProcessState::Cancelled, "{id}");
    }
    assert!(
        bed.store
            .due_jobs("2026-12-31T00:00:00Z".parse().unwrap(), 25)
            .await
            .unwrap()
            .iter()
            .all(|j| !j.name.starts_with("kickoff"))
    );
    let (status, _) = call(
        &router,
        Method::POST,
        "/api/v1/stocks/hanbit/withdraw",
        Some("advisor-token"),
        Some(json!({ "version": 1 })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "a stale version");
    router.succeeded()
}

async fn changes_are_audited_and_background_failures_logged(engine: Engine) -> Succeeded {
    let (bed, router) = api(engine).await;
    let client = json!({ "id": "gaon", "name": "(가상)가온자산운용", "representative": "rep-kim",
        "funds": [{ "id": "ipo", "name": "공모주", "kind": "ipo_fund", "aum": 230_000_000_000u64 }] });
    call(&router, Method::POST, "/api/v1/clients", Some("admin-token"), Some(client.clone())).await;
    let mut renamed = client;
    renamed["name"] = json!("(가상)가온자산운용(신)");
    renamed["version"] = json!(1);
    call(&router, Method::PUT, "/api/v1/clients/gaon", Some("admin-token"), Some(renamed)).await;

    let (status, audit) = call(&router, Method::GET, "/api/v1/audit", Some("admin-token"), None).await;
    assert_eq!(status, StatusCode::OK);
    let entries = audit["items"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, vec!["client.create", "client.update"]);
    assert_eq!(entries[1]["actor"].as_str(), Some("Admin"));
    assert_eq!(entries[1]["before"]["name"].as_str(), Some("(가상)가온자산운용"));
    assert_eq!(entries[1]["after"]["name"].as_str(), Some("(가상)가온자산운용(신)"));

    // A job that fails (its process is gone) is in the error log for operators.
    let payload = shared::ports::scheduler::JobPayload::Chase {
        process_id: "gone".parse().unwrap(),
        client_id: "gaon".parse().unwrap(),
    };
    assert!(bed.app.run_job("schedule:chase-gone:2026-03-16T00:05:00Z", &payload).await.is_err());
    let (status, errors) = call(&router, Method::GET, "/api/v1/errors", Some("operator-token"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(errors["items"][0]["source"].as_str(), Some("job"));
    assert!(errors["items"][0]["message"].as_str().unwrap().contains("process gone was not found"), "{errors}");
    let (status, body) =
        call(&router, Method::GET, "/api/v1/errors?from=yesterday", Some("operator-token"), None).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("from")));
    router.succeeded()
}

/// After the allotments: the sell processes a stock's allotments call for, and its result, on the
/// finished IPO `--demo` loads (the whole flow is `ipo_lifecycle.rs`).
async fn a_finished_ipo_has_its_sell_processes_and_result(engine: Engine) -> Succeeded {
    let (bed, router) = api(engine).await;
    for client in shared::demo::clients() {
        bed.store.create_client(&client).await.unwrap();
    }
    bed.store.create_stock(&shared::demo::sesol()).await.unwrap();
    for (process, trackers) in shared::demo::sesol_finished(bed.app.clock.now()) {
        bed.store.create_process(&process).await.unwrap();
        for tracker in &trackers {
            bed.store.create_tracker(tracker).await.unwrap();
        }
    }
    let (status, body) =
        call(&router, Method::POST, "/api/v1/stocks/sesol/sell-plan?dry_run=true", Some("advisor-token"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sales"][0]["process_id"].as_str(), Some("sesol-sell-listing"));
    let (status, body) = call(&router, Method::GET, "/api/v1/stocks/sesol/result", Some("viewer-token"), None).await;
    assert_eq!((status, body["totals"]["sold"].as_u64()), (StatusCode::OK, Some(43_000)), "{body}");
    // Before its final price a stock has no result.
    bed.store.create_stock(&shared::demo::hanbit()).await.unwrap();
    let (status, body) = call(&router, Method::GET, "/api/v1/stocks/hanbit/result", Some("viewer-token"), None).await;
    assert_eq!((status, body["reason"].as_str()), (StatusCode::CONFLICT, Some("no_final_price")), "{body}");
    router.succeeded()
}

/// The emergency stop through the API (what it holds is `bot_control.rs`).
async fn the_bot_is_stopped_and_resumed(engine: Engine) -> Succeeded {
    let (_bed, router) = api(engine).await;
    let (status, body) = call(&router, Method::GET, "/api/v1/bot", Some("viewer-token"), None).await;
    assert_eq!((status, body["state"].as_str()), (StatusCode::OK, Some("running")), "{body}");
    let reason = json!({ "reason": "잘못된 가격이 발송됨" });
    let (status, body) = call(&router, Method::POST, "/api/v1/bot/stop", Some("operator-token"), Some(reason)).await;
    assert_eq!((status, body["state"].as_str()), (StatusCode::OK, Some("stopped")), "{body}");
    let (status, body) = call(&router, Method::POST, "/api/v1/bot/resume", Some("advisor-token"), None).await;
    assert_eq!((status, body["bot"]["state"].as_str()), (StatusCode::OK, Some("running")), "{body}");
    router.succeeded()
}

/// Each scenario, and then the check that together they succeeded at every operation the
/// document lists, each with the role it names.
async fn every_operation_succeeds_in_a_scenario(engine: Engine) {
    let mut succeeded = Succeeded::new();
    // Staff and clients as their functions run in AWS: without Telegram or the scheduler.
    succeeded.extend(staff_are_managed_by_admins(table_only(engine).await).await);
    succeeded.extend(clients_are_created_read_updated_and_linked(table_only(engine).await).await);
    succeeded.extend(stocks_enforce_krx_order_and_report_warnings(engine).await);
    succeeded.extend(a_process_runs_through_the_api(engine).await);
    succeeded.extend(an_amendment_moves_kickoffs_and_a_withdrawal_cancels_and_tells_clients(engine).await);
    succeeded.extend(changes_are_audited_and_background_failures_logged(engine).await);
    succeeded.extend(a_notice_goes_to_a_representatives_clients(engine).await);
    succeeded.extend(a_finished_ipo_has_its_sell_processes_and_result(engine).await);
    succeeded.extend(the_bot_is_stopped_and_resumed(engine).await);
    let document = serde_json::to_value(shared::http::api::openapi::document()).unwrap();
    let mut missing = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            let fits = |path: &str| {
                let (a, b): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
                a.len() == b.len() && a.iter().zip(&b).all(|(t, p)| t.starts_with('{') || t == p)
            };
            if !succeeded.iter().any(|(m, p)| *m == method && fits(p)) {
                missing.push(format!("{method} {template}"));
            }
        }
    }
    assert!(missing.is_empty(), "no scenario succeeds at {missing:#?}");
}

/// Tokens issued elsewhere (Cognito in AWS), checked against the staff records as `JwtClaims` is.
struct IssuedElsewhere(StaticTokens);

impl shared::http::api::auth::Authenticator for IssuedElsewhere {
    fn authenticate(&self, parts: &axum::http::request::Parts) -> Option<Principal> {
        self.0.authenticate(parts)
    }
    fn checks_staff_records(&self) -> bool {
        true
    }
}

/// A valid token is not enough where tokens are issued elsewhere: its staff record must be active,
/// and the record's role caps the token's.
async fn a_token_counts_only_with_an_active_staff_record_and_its_role(engine: Engine) {
    let (bed, _) = api(engine).await;
    let staff = |id: &str, role: Role, active: bool| Staff {
        id: id.parse().unwrap(),
        name: Label::try_from(format!("{id} 님")).unwrap(),
        role,
        telegram_user_id: None,
        active,
    };
    bed.app.store.create_staff(&staff("lee", Role::Viewer, true)).await.unwrap();
    bed.app.store.create_staff(&staff("choi", Role::Admin, false)).await.unwrap();
    bed.app.store.create_staff(&staff("park", Role::Admin, true)).await.unwrap();
    let admin =
        |id: &str| Principal { name: format!("{id}@example.com"), role: Role::Admin, staff_id: id.parse().ok() };
    let tokens = StaticTokens::default()
        .with("lee", admin("lee"))
        .with("choi", admin("choi"))
        .with("park", admin("park"))
        .with("nobody", Principal { name: "x@example.com".into(), role: Role::Admin, staff_id: None })
        .with("stranger", admin("stranger"));
    let router = shared::http::api::serve(&Family::ALL, bed.app.clone(), Arc::new(IssuedElsewhere(tokens)));
    let api = Api { router, succeeded: Arc::default(), clock: Arc::new(ManualClock::new(early_march())) };
    for token in ["choi", "nobody", "stranger"] {
        let (status, body) = call(&api, Method::GET, "/api/v1/clients", Some(token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{token}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("active staff record"), "{token}: {body}");
    }
    // An admin token on a viewer's record reads, and writes nothing.
    assert_eq!(call(&api, Method::GET, "/api/v1/clients", Some("lee"), None).await.0, StatusCode::OK);
    let new_staff = json!({ "id": "jung", "name": "정사원", "role": "viewer" });
    let (status, body) = call(&api, Method::POST, "/api/v1/staff", Some("lee"), Some(new_staff.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(call(&api, Method::POST, "/api/v1/staff", Some("park"), Some(new_staff)).await.0, StatusCode::CREATED);
}

on_both_engines!(
    every_route_names_the_field_of_bad_input,
    every_route_refuses_missing_tokens_and_lower_roles,
    every_operation_succeeds_in_a_scenario,
    a_token_counts_only_with_an_active_staff_record_and_its_role,
);
