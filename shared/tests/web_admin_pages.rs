//! The dashboard's admin pages (stocks, clients, staff, notices, audit and error logs, charts),
//! served as the devserver serves them, on the demo data: each renders for each role (the logs
//! only from their role up, as the API); a viewer is offered no write form and is refused (403)
//! when it posts anyway; a stock and a client created through the pages are stored and audited;
//! the calendar shows the demo's dates; a notice is previewed, applied and sent; the exports read
//! back. On both store engines (`dynoxide::…`, `dynamodb_local::…`).

#![cfg(feature = "dashboard")]
#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use calamine::{Data, Reader, Xlsx};
use shared::domain::calendar::KrxCalendar;
use shared::domain::client::ChatBinding;
use shared::domain::ids::{ChatId, ProcessId};
use shared::domain::lockup::LockUp;
use shared::domain::process::{Process, ProcessKind, ProcessState, ReminderPolicy, Round};
use shared::domain::regulation::Regulation;
use shared::domain::staff::{Role, Staff};
use shared::domain::stock::StockStatus;
use shared::domain::text::Label;
use shared::domain::tracker::Tracker;
use shared::http::api::auth::{Principal, StaticTokens};
use shared::ports::clock::SystemClock;
use shared::ports::store::{
    ClientStore, JournalStore, PageRequest, ProcessStore, StaffStore, StockStore, TrackerStore,
};
use shared::web::SignIn;
use shared::web::signin::DevLogin;
use std::sync::Arc;
use support::*;
use testkit::Engine;
use testkit::fake_telegram::FakeConfig;
use tower::ServiceExt;

const ROLES: [(Role, &str, &str); 4] = [
    (Role::Viewer, "viewer-token", "viewer"),
    (Role::Operator, "operator-token", "rep-kim"),
    (Role::Advisor, "advisor-token", "advisor"),
    (Role::Admin, "admin-token", "admin"),
];
const VIEWER: &str = "viewer-token";
const OPERATOR: &str = "operator-token";
const ADVISOR: &str = "advisor-token";
const ADMIN: &str = "admin-token";
const PROCESS: &str = "demo-hanbit-first-day";
/// The demo clients' groups, in `shared::demo::clients()` order.
const CHATS: [i64; 5] =
    [-1_001_500_000_001, -1_001_500_000_002, -1_001_500_000_003, -1_001_500_000_004, -1_001_500_000_005];

struct Dashboard {
    bed: Bed,
    router: axum::Router,
}

/// The demo data as `--demo` loads it: staff, three IPOs, five linked clients, and (가상)한빛로보틱스's
/// first-day advice sent.
async fn dashboard(engine: Engine) -> Option<Dashboard> {
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), Arc::new(SystemClock)).await?;
    let store = &bed.store;
    for (id, name, role) in [("admin", "관리자", Role::Admin), ("rep-kim", "김대리", Role::Operator)] {
        let staff = Staff {
            id: id.parse().unwrap(),
            name: Label::new(name).unwrap(),
            role,
            telegram_user_id: None,
            active: true,
        };
        store.create_staff(&staff).await.unwrap();
    }
    for stock in [shared::demo::hanbit(), shared::demo::nuri_energy(), shared::demo::hangyeol_spac()] {
        store.create_stock(&stock).await.unwrap();
    }
    for (client, chat) in shared::demo::clients().into_iter().zip(CHATS) {
        let created = store.create_client(&client).await.unwrap();
        let binding =
            ChatBinding { chat_id: ChatId(chat), title: Some(format!("{} x 자문", client.name)), active: true };
        store.link_chat(&client.id, &binding, created.version).await.unwrap();
    }
    let id: ProcessId = PROCESS.parse().unwrap();
    let stock = shared::demo::hanbit();
    let kind = ProcessKind::Participation { round: Round::FirstDay };
    let kickoff = kind.default_kickoff(stock.schedule(), KrxCalendar::builtin()).unwrap();
    let now = bed.app.clock.now();
    let process = Process::new(id.clone(), Some(stock.id.clone()), kind, kickoff, ReminderPolicy::default(), now);
    let saved = store.create_process(&process).await.unwrap();
    let trackers: Vec<Tracker> = shared::demo::hanbit_first_day_advice()
        .into_iter()
        .map(|(client, advice)| Tracker::new(id.clone(), client, advice, now))
        .collect();
    store.save_draft_trackers(&id, saved.version, &trackers).await.unwrap();
    bed.app.start_now(&id).await.unwrap();

    let auth = ROLES.iter().fold(StaticTokens::default(), |auth, (role, token, staff)| {
        let name = shared::web::fmt::role_name(*role);
        auth.with(*token, Principal { name: name.into(), role: *role, staff_id: staff.parse().ok() })
    });
    let logins = ROLES.iter().map(|(role, token, _)| DevLogin { role: *role, token: (*token).into() }).collect();
    let router = shared::web::routes(bed.app.clone(), Arc::new(auth), SignIn::DevTokens(logins));
    Some(Dashboard { bed, router })
}

struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn call(d: &Dashboard, method: Method, path: &str, token: Option<&str>, form: Option<&str>) -> Answer {
    let mut request = Request::builder().method(method).uri(path).header("hx-request", "true");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match form {
        Some(form) => {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(form.to_owned())
        }
        None => Body::empty(),
    };
    let response = d.router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
    Answer { status, body }
}

async fn get(d: &Dashboard, path: &str, token: &str) -> Answer {
    call(d, Method::GET, path, Some(token), None).await
}

/// A form body from pairs, encoded as a browser would.
fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Each page's fragment, the least role that may read it, and what it must hold.
fn pages() -> Vec<(&'static str, Role, &'static str)> {
    vec![
        ("/ui/stocks", Role::Viewer, "data-testid=\"stocks-table\""),
        ("/ui/stocks?month=2026-03", Role::Viewer, "(가상)한빛로보틱스"),
        ("/ui/stocks/hanbit", Role::Viewer, "data-testid=\"schedule-table\""),
        ("/ui/clients", Role::Viewer, "(가상)새벽자산운용"),
        ("/ui/clients?rep=rep-kim", Role::Viewer, "(가상)누리자산운용"),
        ("/ui/clients/saebyeok", Role::Viewer, "data-testid=\"funds-table\""),
        ("/ui/staff", Role::Viewer, "김대리"),
        ("/ui/notices", Role::Viewer, "공지 목록"),
        ("/ui/charts", Role::Viewer, "data-testid=\"kickoff-section\""),
        ("/ui/charts/kickoff", Role::Viewer, "data-testid=\"kickoff-chart\""),
        ("/ui/charts/deviations", Role::Viewer, "종목별 편차"),
        ("/ui/charts/response", Role::Viewer, "(가상)새벽자산운용"),
        ("/ui/errors", Role::Operator, "오류 기록"),
        ("/ui/audit", Role::Admin, "감사 기록"),
    ]
}

async fn every_admin_page_renders_for_each_role(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    for (role, token, _) in ROLES {
        for (path, least, holds) in pages() {
            let answer = get(&d, path, token).await;
            if role.allows(least) {
                assert_eq!(answer.status, StatusCode::OK, "{role:?} {path}: {}", answer.text());
                assert!(answer.text().contains(holds), "{role:?} {path} lacks {holds}");
            } else {
                assert_eq!(answer.status, StatusCode::FORBIDDEN, "{role:?} {path}");
            }
        }
    }
    // The shells are public and hold no data; the nav names every page.
    let shell = call(&d, Method::GET, "/stocks", None, None).await;
    assert_eq!(shell.status, StatusCode::OK);
    for nav in ["nav-stocks", "nav-clients", "nav-notices", "nav-charts", "nav-staff", "nav-errors", "nav-audit"] {
        assert!(shell.text().contains(nav), "{nav}");
    }
    assert!(!shell.text().contains("한빛"), "a shell holds no data");
    for path in ["/clients/saebyeok", "/stocks/hanbit", "/audit", "/notices", "/charts", "/staff", "/errors"] {
        assert_eq!(call(&d, Method::GET, path, None, None).await.status, StatusCode::OK, "{path}");
        let data = format!("/ui{path}");
        assert_eq!(call(&d, Method::GET, &data, None, None).await.status, StatusCode::UNAUTHORIZED, "{data}");
    }
}

async fn a_viewer_sees_no_write_form_and_is_refused_when_posting(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    for (path, _, _) in pages().into_iter().filter(|(_, least, _)| *least == Role::Viewer) {
        let page = get(&d, path, VIEWER).await.text();
        for write in ["hx-post", "hx-put", "hx-delete", "<form"] {
            assert!(!page.contains(write), "a viewer is offered {write} on {path}");
        }
    }
    // What each role is offered follows the role.
    assert!(get(&d, "/ui/stocks", ADVISOR).await.text().contains("open-new-stock"));
    assert!(!get(&d, "/ui/stocks", OPERATOR).await.text().contains("open-new-stock"));
    let client = get(&d, "/ui/clients/saebyeok", OPERATOR).await.text();
    assert!(client.contains("issue-link-code") && !client.contains("open-edit-client"));
    assert!(get(&d, "/ui/clients/saebyeok", ADMIN).await.text().contains("open-edit-client"));
    assert!(!get(&d, "/ui/staff", ADVISOR).await.text().contains("create-staff"));
    assert!(get(&d, "/ui/staff", ADMIN).await.text().contains("create-staff"));
    assert!(get(&d, "/ui/notices", ADVISOR).await.text().contains("create-notice"));
    assert!(!get(&d, "/ui/notices", OPERATOR).await.text().contains("create-notice"));

    // Posting anyway is refused by the API's extractors, and nothing is written.
    let stock = form(&[("name", "(가상)몰래바이오"), ("id", "sneaky")]);
    let refused: [(Method, &str, &str, String); 10] = [
        (Method::POST, "/ui/stocks", VIEWER, stock.clone()),
        (Method::POST, "/ui/stocks", OPERATOR, stock),
        (Method::POST, "/ui/stocks/check", VIEWER, String::new()),
        (Method::PUT, "/ui/stocks/hanbit/schedule", VIEWER, String::new()),
        (Method::POST, "/ui/stocks/nuri-energy/withdraw", OPERATOR, form(&[("version", "1")])),
        (Method::POST, "/ui/clients", ADVISOR, form(&[("name", "(가상)몰래운용")])),
        (Method::POST, "/ui/clients/saebyeok/link-code", VIEWER, String::new()),
        (Method::PUT, "/ui/staff/rep-kim", VIEWER, form(&[("role", "admin"), ("version", "1")])),
        (Method::POST, "/ui/notices", VIEWER, String::new()),
        (Method::POST, "/ui/staff", ADVISOR, form(&[("name", "몰래"), ("role", "admin")])),
    ];
    for (method, path, token, body) in refused {
        let answer = call(&d, method.clone(), path, Some(token), Some(&body)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path} as {token}: {}", answer.text());
    }
    assert!(d.bed.store.get_stock(&"sneaky".parse().unwrap()).await.is_err());
    let staff = d.bed.store.get_staff(&"rep-kim".parse().unwrap()).await.unwrap();
    assert_eq!((staff.value.role, staff.version), (Role::Operator, 1));
    let nuri = d.bed.store.get_stock(&"nuri-energy".parse().unwrap()).await.unwrap();
    assert_eq!(nuri.value.status(), StockStatus::Active);
}

fn new_stock(id: &str, bookbuilding_end: &str) -> String {
    form(&[
        ("name", "(가상)예시바이오"),
        ("id", id),
        ("code", ""),
        ("market", "KOSDAQ"),
        ("lead_manager", "(가상)미래증권"),
        ("band_low", "10,000"),
        ("band_high", "12,000"),
        ("filing", "2027-02-01"),
        ("bookbuilding_start", "2027-03-08"),
        ("bookbuilding_end", bookbuilding_end),
        ("price_fixing", "2027-03-15"),
        ("subscription_start", "2027-03-17"),
        ("subscription_end", "2027-03-18"),
        ("payment", "2027-03-22"),
        ("listing", "2027-03-29"),
    ])
}

async fn audited(d: &Dashboard, action: &str, entity: &str) -> Vec<String> {
    let now = d.bed.app.clock.now();
    let from = now - chrono::TimeDelta::hours(1);
    let until = now + chrono::TimeDelta::hours(1);
    let log = d.bed.store.audit(from, until, &PageRequest::first(100)).await.unwrap();
    log.items.into_iter().filter(|e| e.action == action && e.entity_id == entity).map(|e| e.actor).collect()
}

async fn a_stock_and_a_client_created_through_the_pages_are_stored_and_audited(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    // Before saving: a broken order is named field by field; a short book-building is a warning.
    let broken = call(&d, Method::POST, "/ui/stocks/check", Some(ADVISOR), Some(&new_stock("ex", "2027-03-16"))).await;
    assert_eq!(broken.status, StatusCode::OK);
    assert!(broken.text().contains("schedule-errors") && broken.text().contains("수요예측 마감"), "{}", broken.text());
    let short = call(&d, Method::POST, "/ui/stocks/check", Some(ADVISOR), Some(&new_stock("ex", "2027-03-10"))).await;
    assert!(short.text().contains("영업일 3일"), "{}", short.text());
    let refused = call(&d, Method::POST, "/ui/stocks", Some(ADVISOR), Some(&new_stock("ex", "2027-03-16"))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(d.bed.store.get_stock(&"ex".parse().unwrap()).await.is_err());

    let created = call(&d, Method::POST, "/ui/stocks", Some(ADVISOR), Some(&new_stock("ex", "2027-03-10"))).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    assert!(created.text().contains("created-warnings"), "the warnings after saving: {}", created.text());
    let stored = d.bed.store.get_stock(&"ex".parse().unwrap()).await.unwrap();
    assert_eq!(stored.value.band().low().get(), 10_000);
    assert_eq!(audited(&d, "stock.create", "ex").await, ["advisor"]);

    // An amendment through the page moves the schedule, warned before and audited after.
    let amended = new_stock("ex", "2027-03-12").replace("id=ex&", "") + "&version=1";
    let check = call(&d, Method::POST, "/ui/stocks/ex/schedule/check", Some(ADVISOR), Some(&amended)).await;
    assert!(
        check.text().contains("amend-warnings-none") || check.text().contains("amend-warnings"),
        "{}",
        check.text()
    );
    let saved = call(&d, Method::PUT, "/ui/stocks/ex/schedule", Some(ADVISOR), Some(&amended)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let stored = d.bed.store.get_stock(&"ex".parse().unwrap()).await.unwrap();
    assert_eq!(stored.value.schedule().dates().bookbuilding_end.to_string(), "2027-03-12");
    assert_eq!(audited(&d, "stock.amend", "ex").await, ["advisor"]);
    // A stale version is refused, not applied.
    let stale = call(&d, Method::PUT, "/ui/stocks/ex/schedule", Some(ADVISOR), Some(&amended)).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text());
    assert!(stale.text().contains("다른 사람이 먼저 바꿨습니다"), "said in Korean, with what to do: {}", stale.text());
    let taken = call(&d, Method::POST, "/ui/stocks", Some(ADVISOR), Some(&new_stock("ex", "2027-03-12"))).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text());
    assert!(taken.text().contains("ID ex는 이미 있습니다"), "{}", taken.text());

    // Withdrawal cancels the stock's open processes.
    let hanbit = get(&d, "/ui/stocks/hanbit", ADVISOR).await.text();
    assert!(
        hanbit.contains("withdraw-zone") && hanbit.contains("1건"),
        "the processes it would cancel are shown first"
    );
    let withdrawn =
        call(&d, Method::POST, "/ui/stocks/hanbit/withdraw", Some(ADVISOR), Some(&form(&[("version", "1")]))).await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text());
    let process = d.bed.store.get_process(&PROCESS.parse().unwrap()).await.unwrap();
    assert_eq!(process.value.state(), ProcessState::Cancelled);
    assert_eq!(audited(&d, "stock.withdraw", "hanbit").await, ["advisor"]);

    // A client with two funds; the representative must exist.
    let client = form(&[
        ("id", "haneul"),
        ("name", "(가상)하늘자산운용"),
        ("representative", "rep-kim"),
        ("response_tracking", "true"),
        ("active", "true"),
        ("memo", "신규"),
        ("fund_id_0", "ipo"),
        ("fund_name_0", "공모주"),
        ("fund_kind_0", "ipo_fund"),
        ("fund_aum_0", "850억"),
        ("fund_id_1", "kv"),
        ("fund_name_1", "코벤"),
        ("fund_kind_1", "kosdaq_venture"),
        ("fund_aum_1", "120억원"),
        ("fund_id_2", ""),
        ("fund_name_2", ""),
        ("fund_kind_2", "ipo_fund"),
        ("fund_aum_2", ""),
    ]);
    let nobody = client.replace("rep-kim", "rep-nobody");
    let refused = call(&d, Method::POST, "/ui/clients", Some(ADMIN), Some(&nobody)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text());
    let created = call(&d, Method::POST, "/ui/clients", Some(ADMIN), Some(&client)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    assert!(created.text().contains("(가상)하늘자산운용") && created.text().contains("850억원"));
    let stored = d.bed.store.get_client(&"haneul".parse().unwrap()).await.unwrap();
    assert_eq!(stored.value.funds().len(), 2);
    assert_eq!(stored.value.funds()[1].aum.get(), 12_000_000_000);
    assert_eq!(audited(&d, "client.create", "haneul").await, ["admin"]);

    // The audit page shows them, newest first.
    let audit = get(&d, "/ui/audit", ADMIN).await.text();
    let client_at = audit.find("data-entity=\"haneul\"").unwrap();
    let stock_at = audit.find("data-entity=\"ex\"").unwrap();
    assert!(client_at < stock_at, "newest first");

    // A link code for it, and a staff member's role changed by an admin.
    let code = call(&d, Method::POST, "/ui/clients/haneul/link-code", Some(OPERATOR), None).await;
    assert!(code.text().contains("/link "), "{}", code.text());
    assert_eq!(audited(&d, "client.link_code", "haneul").await, ["operator"]);
    let role = form(&[("role", "advisor"), ("active", "true"), ("version", "1")]);
    let changed = call(&d, Method::PUT, "/ui/staff/rep-kim", Some(ADMIN), Some(&role)).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    let staff = d.bed.store.get_staff(&"rep-kim".parse().unwrap()).await.unwrap();
    assert_eq!(staff.value.role, Role::Advisor);
    assert_eq!(audited(&d, "staff.update", "rep-kim").await, ["admin"]);
}

async fn the_calendar_shows_the_demo_dates(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    let march = get(&d, "/ui/stocks?month=2026-03", VIEWER).await.text();
    let day = |page: &str, date: &str| -> String {
        let start = page.find(&format!("data-date=\"{date}\"")).unwrap_or_else(|| panic!("no {date}"));
        let end = page[start..].find("</td>").map_or(page.len(), |e| start + e);
        page[start..end].to_owned()
    };
    assert!(
        day(&march, "2026-03-16").contains("(가상)한빛로보틱스 <strong>수요예측 시작"),
        "{}",
        day(&march, "2026-03-16")
    );
    assert!(day(&march, "2026-03-20").contains("수요예측 마감"));
    assert!(day(&march, "2026-03-24").contains("공모가 확정"));
    assert!(day(&march, "2026-03-26").contains("청약 시작"));
    assert!(day(&march, "2026-03-31").contains("납입"));
    let april = get(&d, "/ui/stocks?month=2026-04", VIEWER).await.text();
    assert!(day(&april, "2026-04-07").contains("(가상)한빛로보틱스 <strong>상장"));
    let listing = shared::demo::hanbit().schedule().dates().listing;
    let release = Regulation::builtin().first_sale_date(LockUp::Days15, listing, KrxCalendar::builtin()).unwrap();
    assert!(day(&april, &release.to_string()).contains("15일 확약 해제"), "the 15-day lock-up release on {release}");
    // A month without dates says so; a month that is not one is a 400.
    assert!(get(&d, "/ui/stocks?month=2031-01", VIEWER).await.text().contains("calendar-empty"));
    assert_eq!(get(&d, "/ui/stocks?month=March", VIEWER).await.status, StatusCode::BAD_REQUEST);
}

async fn a_notice_is_previewed_applied_and_sent(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    let created = call(&d, Method::POST, "/ui/notices", Some(ADVISOR), Some("")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let all = d.bed.store.list_processes(&PageRequest::first(100)).await.unwrap();
    let notice = all.items.iter().find(|p| p.value.kind == ProcessKind::Notice).unwrap().value.id.clone();
    let text = form(&[
        ("title", "(가상)휴장 안내"),
        ("text", "내일은 휴장입니다."),
        ("by", "all_linked"),
        ("acknowledge", "true"),
    ]);
    let preview = call(&d, Method::POST, &format!("/ui/notices/{notice}/preview"), Some(ADVISOR), Some(&text)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text());
    assert_eq!(preview.text().matches("data-testid=\"recipient-row\"").count(), 5);
    assert!(preview.text().contains("내일은 휴장입니다."));
    assert!(d.bed.store.trackers_of_process(&notice).await.unwrap().is_empty(), "a preview writes nothing");
    let applied = call(&d, Method::POST, &format!("/ui/notices/{notice}/audience"), Some(ADVISOR), Some(&text)).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text());
    assert_eq!(d.bed.store.trackers_of_process(&notice).await.unwrap().len(), 5);
    let sent = call(&d, Method::POST, &format!("/ui/notices/{notice}/start"), Some(ADVISOR), None).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    assert!(sent.text().contains("5곳에 보냈습니다"), "{}", sent.text());
    let group = d.bed.texts(ChatId(CHATS[0])).join("\n");
    assert!(group.contains("내일은 휴장입니다."), "{group}");
    for action in ["process.create", "process.audience", "process.start"] {
        assert_eq!(audited(&d, action, notice.as_str()).await, ["advisor"], "{action}");
    }
}

fn xlsx_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

async fn exports_read_back(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    let stocks = get(&d, "/ui/stocks/export?format=xlsx", VIEWER).await;
    assert_eq!(stocks.status, StatusCode::OK);
    let rows = xlsx_rows(stocks.body);
    assert_eq!(rows[0][1], "종목");
    let hanbit = rows.iter().find(|r| r[0] == "hanbit").unwrap();
    assert_eq!((hanbit[1].as_str(), hanbit[5].as_str(), hanbit[6].as_str()), ("(가상)한빛로보틱스", "14000", "16000"));

    let schedule = get(&d, "/ui/stocks/hanbit/export?format=csv", VIEWER).await.text();
    assert!(schedule.contains("상장,2026-04-07") && schedule.contains("15일 확약 해제"), "{schedule}");
    let calendar = get(&d, "/ui/stocks/calendar/export?month=2026-03&format=csv", VIEWER).await.text();
    assert!(calendar.contains("2026-03-16,(가상)한빛로보틱스,수요예측 시작"), "{calendar}");

    let clients = get(&d, "/ui/clients/export?format=csv", VIEWER).await.text();
    assert!(
        clients.starts_with('\u{feff}')
            && clients.contains("saebyeok,(가상)새벽자산운용,rep-kim,2,127000000000,연결됨"),
        "{clients}"
    );
    let messages = xlsx_rows(get(&d, "/ui/clients/nuri/messages/export?format=xlsx", VIEWER).await.body);
    assert!(messages.iter().any(|r| r[1] == "보냄" && r[4] == PROCESS), "the advice sent: {messages:?}");
    let funds = get(&d, "/ui/clients/gaon/funds/export?format=csv", VIEWER).await.text();
    assert!(funds.contains("ipo,공모주 채권혼합,공모주,230000000000"), "{funds}");
    assert!(get(&d, "/ui/staff/export?format=csv", VIEWER).await.text().contains("rep-kim,김대리,운영"));
    assert!(get(&d, "/ui/notices/export?format=csv", VIEWER).await.status.is_success());
    let kickoff =
        xlsx_rows(get(&d, &format!("/ui/charts/kickoff/export?process={PROCESS}&format=xlsx"), VIEWER).await.body);
    assert_eq!(kickoff.len(), 6, "a row per client: {kickoff:?}");
    assert!(kickoff[1..].iter().all(|r| !r[1].is_empty()), "every client was sent: {kickoff:?}");
    assert!(get(&d, "/ui/charts/deviations/export?format=csv", VIEWER).await.status.is_success());
    assert!(get(&d, "/ui/charts/response/export?format=csv", VIEWER).await.text().contains("(가상)새벽자산운용"));
    assert!(get(&d, "/ui/errors/export?format=csv", OPERATOR).await.status.is_success());
    assert_eq!(get(&d, "/ui/audit/export?format=csv", OPERATOR).await.status, StatusCode::FORBIDDEN);
    assert!(get(&d, "/ui/audit/export?format=xlsx", ADMIN).await.status.is_success());
    // No export without the token.
    let anonymous = call(&d, Method::GET, "/ui/stocks/export?format=csv", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&d, "/ui/stocks/export?format=pdf", VIEWER).await.status, StatusCode::BAD_REQUEST);
}

/// A stock's page loads its later phases: the finished demo IPO's result, each table with its
/// download; an advisor proposes the sell processes (those of the finished IPO exist), a viewer
/// may not; a stock with no allotment has no result yet and says why.
async fn a_stocks_result_and_its_sell_proposals(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    d.bed.store.create_stock(&shared::demo::sesol()).await.unwrap();
    for (process, trackers) in shared::demo::sesol_finished(d.bed.app.clock.now()) {
        d.bed.store.create_process(&process).await.unwrap();
        for tracker in &trackers {
            d.bed.store.create_tracker(tracker).await.unwrap();
        }
    }
    let page = get(&d, "/ui/stocks/sesol", VIEWER).await.text();
    assert!(page.contains("hx-get=\"/ui/stocks/sesol/result\""), "{page}");
    assert!(!page.contains("propose-sell"), "a viewer is offered no proposal: {page}");
    assert!(get(&d, "/ui/stocks/sesol", ADVISOR).await.text().contains("propose-sell"));
    let result = get(&d, "/ui/stocks/sesol/result", VIEWER).await;
    assert_eq!(result.status, StatusCode::OK);
    let result = result.text();
    assert!(result.contains("result-table-0") && result.contains("140,996,205원"), "{result}");
    let funds = xlsx_rows(get(&d, "/ui/stocks/sesol/result/export?table=0&format=xlsx", VIEWER).await.body);
    assert!(funds.iter().any(|r| r.iter().any(|c| c == "140996205")), "{funds:?}");
    assert_eq!(
        get(&d, "/ui/stocks/sesol/result/export?table=9&format=csv", VIEWER).await.status,
        StatusCode::BAD_REQUEST
    );
    let none = get(&d, "/ui/stocks/hanbit/result", VIEWER).await.text();
    assert!(none.contains("result-none"), "{none}");

    let refused = call(&d, Method::POST, "/ui/stocks/sesol/sell-plan", Some(VIEWER), Some("")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let proposed = call(&d, Method::POST, "/ui/stocks/sesol/sell-plan", Some(ADVISOR), Some("")).await;
    assert_eq!(proposed.status, StatusCode::OK);
    let proposed = proposed.text();
    assert_eq!(proposed.matches("data-testid=\"sell-proposal\"").count(), 2, "{proposed}");
    assert!(proposed.contains("있음") && !proposed.contains("새 초안"), "{proposed}");
}

on_both_engines!(
    every_admin_page_renders_for_each_role,
    a_viewer_sees_no_write_form_and_is_refused_when_posting,
    a_stock_and_a_client_created_through_the_pages_are_stored_and_audited,
    the_calendar_shows_the_demo_dates,
    a_notice_is_previewed_applied_and_sent,
    exports_read_back,
    a_stocks_result_and_its_sell_proposals,
);
