//! The dashboard's pages (`shared::web`), served as the devserver serves them: every page renders
//! for each role; a viewer is offered no write form and is refused (403) when it posts anyway;
//! data without a token is 401 and only the shell and static files are public; a remind goes out
//! through the fake Telegram; a confirm through the form; the exports read back. On both store
//! engines (`dynoxide::…`, `dynamodb_local::…`).

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use calamine::{Data, Reader, Xlsx};
use shared::domain::client::ChatBinding;
use shared::domain::ids::{ChatId, ProcessId};
use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
use shared::domain::staff::{Role, Staff};
use shared::domain::text::Label;
use shared::domain::tracker::{Evidence, EvidenceKind, Tracker, TrackerEvent, TrackerState};
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

const ROLES: [(Role, &str); 4] = [
    (Role::Viewer, "viewer-token"),
    (Role::Operator, "operator-token"),
    (Role::Advisor, "advisor-token"),
    (Role::Admin, "admin-token"),
];
const PROCESS: &str = "demo-hanbit-first-day";
/// The demo clients' groups, in `shared::demo::clients()` order.
const CHATS: [i64; 5] =
    [-1_001_500_000_001, -1_001_500_000_002, -1_001_500_000_003, -1_001_500_000_004, -1_001_500_000_005];
const NURI_CHAT: i64 = -1_001_500_000_002;

struct Dashboard {
    bed: Bed,
    router: axum::Router,
}

/// The demo data as `--demo` loads it: (가상)한빛로보틱스's first-day advice sent to five clients.
async fn dashboard(engine: Engine) -> Option<Dashboard> {
    let bed = bed_on(engine, FakeConfig::default().without_limits(), no_pacing(), Arc::new(SystemClock)).await?;
    let store = &bed.store;
    let rep = Staff {
        id: "rep-kim".parse().unwrap(),
        name: Label::new("김대리").unwrap(),
        role: Role::Operator,
        telegram_user_id: None,
        active: true,
    };
    store.create_staff(&rep).await.unwrap();
    store.create_stock(&shared::demo::hanbit()).await.unwrap();
    for (client, chat) in shared::demo::clients().into_iter().zip(CHATS) {
        let created = store.create_client(&client).await.unwrap();
        let binding =
            ChatBinding { chat_id: ChatId(chat), title: Some(format!("{} x 자문", client.name)), active: true };
        store.link_chat(&client.id, &binding, created.version).await.unwrap();
    }
    let id: ProcessId = PROCESS.parse().unwrap();
    let stock = shared::demo::hanbit();
    let kind = ProcessKind::Participation { round: Round::FirstDay };
    let kickoff = stock.schedule().dates().bookbuilding_start;
    let kickoff = shared::domain::time::at_kst(kickoff, chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap());
    let now = bed.app.clock.now();
    let process = Process::new(id.clone(), Some(stock.id.clone()), kind, kickoff, ReminderPolicy::default(), now);
    let saved = store.create_process(&process).await.unwrap();
    let trackers: Vec<Tracker> = shared::demo::hanbit_first_day_advice()
        .into_iter()
        .map(|(client, advice)| Tracker::new(id.clone(), client, advice, now))
        .collect();
    store.save_draft_trackers(&id, saved.version, &trackers).await.unwrap();
    bed.app.start_now(&id).await.unwrap();

    let auth = ROLES.iter().fold(StaticTokens::default(), |auth, (role, token)| {
        let name = shared::web::fmt::role_name(*role);
        auth.with(*token, Principal { name: name.into(), role: *role, staff_id: "rep-kim".parse().ok() })
    });
    let logins = ROLES.iter().map(|(role, token)| DevLogin { role: *role, token: (*token).into() }).collect();
    let router = shared::web::routes(bed.app.clone(), Arc::new(auth), SignIn::DevTokens(logins));
    Some(Dashboard { bed, router })
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn call(d: &Dashboard, method: Method, path: &str, token: Option<&str>, body: Option<(&str, Vec<u8>)>) -> Answer {
    let mut request = Request::builder().method(method).uri(path).header("hx-request", "true");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some((content_type, bytes)) => {
            request = request.header(header::CONTENT_TYPE, content_type);
            Body::from(bytes)
        }
        None => Body::empty(),
    };
    let response = d.router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
    Answer { status, headers, body }
}

async fn get(d: &Dashboard, path: &str, token: Option<&str>) -> Answer {
    call(d, Method::GET, path, token, None).await
}

async fn post(d: &Dashboard, path: &str, token: Option<&str>) -> Answer {
    call(d, Method::POST, path, token, None).await
}

/// Every fragment a page shows, with what each must hold.
fn pages() -> Vec<(String, &'static str)> {
    vec![
        ("/ui/me".into(), "data-testid=\"me\""),
        ("/ui/bot".into(), "data-testid=\"bot\""),
        ("/ui/today".into(), "(가상)누리자산운용"),
        ("/ui/processes".into(), "(가상)한빛로보틱스"),
        ("/ui/processes?state=all".into(), "data-testid=\"process-row\""),
        (format!("/ui/processes/{PROCESS}"), "data-testid=\"tracker-row\""),
        (format!("/ui/processes/{PROCESS}?rep=me"), "data-testid=\"tracker-row\""),
        (format!("/ui/processes/{PROCESS}?rep=rep-kim"), "data-testid=\"tracker-row\""),
    ]
}

/// Every write the pages offer, with the least role it needs.
fn writes() -> Vec<(String, Role)> {
    let tracker = format!("/ui/processes/{PROCESS}/trackers/nuri");
    vec![
        (format!("{tracker}/remind?view=today"), Role::Operator),
        (format!("{tracker}/skip"), Role::Operator),
        (format!("{tracker}/retry"), Role::Operator),
        (format!("{tracker}/confirm"), Role::Operator),
        (format!("/ui/processes/{PROCESS}/remind-silent"), Role::Operator),
        (format!("/ui/processes/{PROCESS}/advice?dry_run=true"), Role::Advisor),
        (format!("/ui/processes/{PROCESS}/control/pause"), Role::Advisor),
        ("/ui/bot/stop".into(), Role::Operator),
        ("/ui/bot/resume".into(), Role::Advisor),
    ]
}

async fn every_page_renders_for_each_role(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    for (role, token) in ROLES {
        for (path, holds) in pages() {
            let answer = get(&d, &path, Some(token)).await;
            assert_eq!(answer.status, StatusCode::OK, "{role:?} {path}: {}", answer.text());
            assert!(answer.text().contains(holds), "{role:?} {path} lacks {holds}: {}", answer.text());
            assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store", "{path}");
        }
        let me = get(&d, "/ui/me", Some(token)).await.text();
        assert!(me.contains(&format!("data-role=\"{}\"", shared::web::fmt::role_name(role))), "{me}");
    }
    // Five rows, each client once; amounts as people write them; times in KST.
    let process = get(&d, &format!("/ui/processes/{PROCESS}"), Some("viewer-token")).await.text();
    assert_eq!(process.matches("data-testid=\"tracker-row\"").count(), 5, "{process}");
    assert!(process.contains("17,500원 / 500,000주 / 3개월"), "{process}");
    let today = get(&d, "/ui/today", Some("viewer-token")).await.text();
    assert_eq!(today.matches("data-testid=\"silent-row\"").count(), 5, "{today}");
    assert!(today.contains("KST 기준"), "{today}");
}

async fn the_shell_and_static_files_are_public_and_hold_no_data(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    for path in ["/today", "/processes", &format!("/processes/{PROCESS}"), "/login"] {
        let answer = get(&d, path, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        let html = answer.text();
        assert!(!html.contains("누리자산운용") && !html.contains("17,500"), "{path} shows data: {html}");
        assert!(answer.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("script-src 'self'"));
    }
    let shell = get(&d, &format!("/processes/{PROCESS}?rep=me"), None).await.text();
    assert!(shell.contains(&format!("hx-get=\"/ui/processes/{PROCESS}?rep=me\"")), "{shell}");
    assert!(shell.contains("/static/auth-dev.js") && shell.contains("/static/htmx-2.0.11.min.js"), "{shell}");
    // The devserver's login page: one button per role.
    let login = get(&d, "/login", None).await.text();
    for (role, _) in ROLES {
        assert!(login.contains(&format!("data-testid=\"login-{}\"", shared::web::fmt::role_name(role))), "{login}");
    }
    let htmx = get(&d, "/static/htmx-2.0.11.min.js", None).await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.headers[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
    assert!(htmx.text().contains("2.0.11"));
    let css = get(&d, "/static/app.css", None).await;
    let etag = css.headers[header::ETAG].to_str().unwrap().to_owned();
    let request =
        Request::builder().uri("/static/app.css").header(header::IF_NONE_MATCH, &etag).body(Body::empty()).unwrap();
    let again = d.router.clone().oneshot(request).await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}

async fn data_without_a_valid_token_is_401(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    let mut paths: Vec<String> = pages().into_iter().map(|(p, _)| p).collect();
    paths.extend([
        "/ui/today/silent?format=xlsx".into(),
        "/ui/processes/export?format=csv".into(),
        format!("/ui/processes/{PROCESS}/export?format=xlsx"),
        format!("/ui/processes/{PROCESS}/trackers/nuri/confirm"),
        format!("/ui/processes/{PROCESS}/trackers/nuri/evidence/0"),
    ]);
    for path in &paths {
        for token in [None, Some("not-a-token")] {
            let answer = get(&d, path, token).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "GET {path} with {token:?}");
            assert!(!answer.text().contains("누리"), "{path}");
        }
    }
    for (path, _) in writes() {
        assert_eq!(post(&d, &path, None).await.status, StatusCode::UNAUTHORIZED, "POST {path}");
    }
    // Nothing was sent for the refused reminders.
    assert_eq!(d.bed.fake.sent(NURI_CHAT).len(), 1);
}

async fn a_role_sees_only_what_it_may_do_and_is_refused_the_rest(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    for (path, _) in pages() {
        let html = get(&d, &path, Some("viewer-token")).await.text();
        for write in ["hx-post", "data-testid=\"remind\"", "data-testid=\"skip\"", "<form", "remind-all"] {
            assert!(!html.contains(write), "the viewer is offered {write} on {path}");
        }
    }
    let operator = get(&d, &format!("/ui/processes/{PROCESS}"), Some("operator-token")).await.text();
    assert!(operator.contains("data-testid=\"remind\"") && operator.contains("data-testid=\"remind-all\""));
    assert!(!operator.contains("data-testid=\"advice-import\""), "the import is the advisor's");
    let today = get(&d, "/ui/today", Some("operator-token")).await.text();
    assert_eq!(today.matches("data-testid=\"remind\"").count(), 5, "{today}");
    // Posting anyway: 403 below the route's role, with nothing done.
    for (path, needed) in writes() {
        for (role, token) in ROLES.iter().filter(|(r, _)| *r < needed) {
            let answer = post(&d, &path, Some(token)).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{role:?} POST {path}: {}", answer.text());
        }
    }
    let panel = get(&d, &format!("/ui/processes/{PROCESS}/trackers/nuri/confirm"), Some("viewer-token")).await;
    assert_eq!(panel.status, StatusCode::FORBIDDEN);
    assert_eq!(d.bed.fake.sent(NURI_CHAT).len(), 1, "a refused remind sent nothing");
    let nuri = d.bed.store.get_tracker(&PROCESS.parse().unwrap(), &"nuri".parse().unwrap()).await.unwrap();
    assert_eq!(nuri.value.state(), TrackerState::Sent);
}

/// Who recorded `action` on `entity`, from the audit log of the last hour.
async fn audited(d: &Dashboard, action: &str, entity: &str) -> Vec<String> {
    let now = d.bed.app.clock.now();
    let (from, until) = (now - chrono::TimeDelta::hours(1), now + chrono::TimeDelta::hours(1));
    let log = d.bed.store.audit(from, until, &PageRequest::first(100)).await.unwrap();
    log.items.into_iter().filter(|e| e.action == action && e.entity_id == entity).map(|e| e.actor).collect()
}

async fn remind_goes_out_through_telegram(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    let before = d.bed.fake.sent(NURI_CHAT).len();
    let answer =
        post(&d, &format!("/ui/processes/{PROCESS}/trackers/nuri/remind?view=today"), Some("operator-token")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let html = answer.text();
    assert!(html.contains("(가상)누리자산운용에 독촉 메시지를 보냈습니다."), "{html}");
    assert!(html.contains("data-testid=\"silent-table\""), "the Today page comes back: {html}");
    let sent = d.bed.fake.sent(NURI_CHAT);
    assert_eq!(sent.len(), before + 1);
    assert!(sent.last().and_then(|m| m.text.clone()).unwrap_or_default().starts_with('⏰'), "{sent:?}");
    let nuri = d.bed.store.get_tracker(&PROCESS.parse().unwrap(), &"nuri".parse().unwrap()).await.unwrap();
    assert_eq!(nuri.value.reminders_total(), 1);
    assert_eq!(audited(&d, "tracker.remind", &format!("{PROCESS}/nuri")).await, ["operator"]);
    // Every silent client of a representative's tab at once.
    let all =
        post(&d, &format!("/ui/processes/{PROCESS}/remind-silent?view=process&rep=rep-kim"), Some("operator-token"))
            .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    assert!(all.text().contains("미응답 고객사 5곳에 독촉 메시지를 보냈습니다."), "{}", all.text());
    assert_eq!(d.bed.fake.sent(NURI_CHAT).len(), before + 2);
    assert_eq!(audited(&d, "tracker.remind", &format!("{PROCESS}/nuri")).await, ["operator", "operator"]);
    // A client with nothing to do is refused, saying why.
    let skipped = post(&d, &format!("/ui/processes/{PROCESS}/trackers/dasom/skip"), Some("operator-token")).await;
    assert_eq!(skipped.status, StatusCode::OK, "{}", skipped.text());
    assert_eq!(audited(&d, "tracker.skip", &format!("{PROCESS}/dasom")).await, ["operator"]);
    let refused = post(&d, &format!("/ui/processes/{PROCESS}/trackers/dasom/remind"), Some("operator-token")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.text().contains("data-testid=\"flash-error\""), "{}", refused.text());
}

async fn an_answer_is_confirmed_with_the_values_of_the_form(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    let path = format!("/ui/processes/{PROCESS}/trackers/nuri/confirm");
    let panel = get(&d, &path, Some("operator-token")).await;
    assert_eq!(panel.status, StatusCode::OK);
    let html = panel.text();
    assert!(
        html.contains("name=\"price-0\"") && html.contains("value=\"17,500\""),
        "prefilled from the advice: {html}"
    );
    let form = "fund-0=kv&price-0=17%2C000&quantity-0=40%EB%A7%8C%EC%A3%BC&lockup-0=3%EA%B0%9C%EC%9B%94";
    let answer =
        call(&d, Method::POST, &path, Some("operator-token"), Some(("application/x-www-form-urlencoded", form.into())))
            .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(answer.text().contains("답변을 확정했습니다"), "{}", answer.text());
    let nuri = d.bed.store.get_tracker(&PROCESS.parse().unwrap(), &"nuri".parse().unwrap()).await.unwrap();
    assert_eq!(nuri.value.state(), TrackerState::Confirmed);
    assert_eq!(nuri.value.confirmed_by().map(|s| s.as_str()), Some("rep-kim"));
    assert_eq!(audited(&d, "tracker.confirm", &format!("{PROCESS}/nuri")).await, ["operator"]);
    let page = get(&d, &format!("/ui/processes/{PROCESS}"), Some("viewer-token")).await.text();
    assert!(page.contains("17,000원 / 400,000주 / 3개월"), "the answer shows: {page}");
    // A value the phase cannot read names its line.
    let bad = call(
        &d,
        Method::POST,
        &format!("/ui/processes/{PROCESS}/trackers/gaon/confirm"),
        Some("operator-token"),
        Some(("application/x-www-form-urlencoded", b"fund-0=ipo&price-0=abc&quantity-0=1&lockup-0=x".to_vec())),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());
    // No file yet: none to show.
    let none = get(&d, &format!("/ui/processes/{PROCESS}/trackers/nuri/evidence/0"), Some("viewer-token")).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

async fn exports_read_back(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    let xlsx = get(&d, &format!("/ui/processes/{PROCESS}/export?format=xlsx"), Some("viewer-token")).await;
    assert_eq!(xlsx.status, StatusCode::OK, "{}", xlsx.text());
    assert_eq!(xlsx.headers[header::CONTENT_TYPE], shared::export::XLSX_CONTENT_TYPE);
    assert!(xlsx.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains(".xlsx"));
    let mut book = Xlsx::new(std::io::Cursor::new(xlsx.body)).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    assert_eq!(range.get_value((0, 0)), Some(&Data::String("고객사".into())));
    let clients: Vec<String> = range.rows().skip(1).map(|r| r[0].to_string()).collect();
    // One line per advised fund: 새벽 has two.
    assert_eq!(clients.len(), 6, "{clients:?}");
    assert!(clients.iter().any(|c| c == "(가상)누리자산운용"));
    let nuri = range.rows().find(|r| r[0] == Data::String("(가상)누리자산운용".into())).unwrap();
    assert_eq!(nuri[3].to_string(), "공모 코벤");
    assert_eq!(nuri[4].to_string(), "17,500원 / 500,000주 / 3개월 / 밴드 상단 초과 제출");

    let csv = get(&d, "/ui/today/silent?format=csv", Some("viewer-token")).await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.text();
    assert!(text.starts_with("\u{feff}고객사,프로세스,상태"), "{text}");
    assert_eq!(text.lines().count(), 6, "{text}");
    let list = get(&d, "/ui/processes/export?format=xlsx&state=all", Some("viewer-token")).await;
    let mut book = Xlsx::new(std::io::Cursor::new(list.body)).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    assert_eq!(range.get_value((1, 4)), Some(&Data::Float(5.0)), "five clients");
    let unknown = get(&d, "/ui/processes/export?format=pdf", Some("viewer-token")).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

async fn a_screenshot_is_shown_beside_the_form(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    let (process, client) = (PROCESS.parse().unwrap(), "nuri".parse().unwrap());
    let stored = d.bed.store.get_tracker(&process, &client).await.unwrap();
    let mut tracker = stored.value.clone();
    let now = d.bed.app.clock.now();
    let evidence = Evidence {
        kind: EvidenceKind::Photo,
        file_id: "AgAD-nuri".into(),
        file_name: None,
        size: Some(4),
        received_at: now,
    };
    tracker.apply(TrackerEvent::EvidenceReceived { evidence, at: now }).unwrap();
    d.bed.store.transition_tracker(&tracker, stored.value.state(), stored.version).await.unwrap();
    d.bed.fake.add_file("AgAD-nuri", "photos/file_7.png", b"\x89PNG".to_vec());
    let panel = get(&d, &format!("/ui/processes/{PROCESS}/trackers/nuri/confirm"), Some("operator-token")).await.text();
    let src = format!("data-src=\"/ui/processes/{PROCESS}/trackers/nuri/evidence/0\"");
    assert!(panel.contains(&src), "{panel}");
    let file = get(&d, &format!("/ui/processes/{PROCESS}/trackers/nuri/evidence/0"), Some("viewer-token")).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.text());
    assert_eq!(file.headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(file.body, b"\x89PNG");
    assert!(file.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("sandbox"));
}

async fn advice_is_reviewed_as_a_table_before_it_is_applied(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    let draft = Process::new(
        "hanbit-last".parse().unwrap(),
        Some("hanbit".parse().unwrap()),
        ProcessKind::Participation { round: Round::LastDay },
        "2026-03-20T00:00:00Z".parse().unwrap(),
        ReminderPolicy::default(),
        d.bed.app.clock.now(),
    );
    d.bed.store.create_process(&draft).await.unwrap();
    let advisor = get(&d, "/ui/processes/hanbit-last", Some("advisor-token")).await.text();
    assert!(advisor.contains("data-testid=\"advice-import\"") && advisor.contains("data-testid=\"control-start\""));
    let csv = "기관명,펀드,참여가격,참여수량,확약여부,코멘트,발송\n(가상)누리자산운용,공모 코벤,17500,500000,3개월,상단,\n(가상)없는운용,x,17000,1000,미확약,,\n";
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"advice.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let upload = |path: &'static str| {
        let (d, body, content_type) = (&d, body.clone(), content_type.clone());
        async move { call(d, Method::POST, path, Some("advisor-token"), Some((&content_type, body.into_bytes()))).await }
    };
    let review = upload("/ui/processes/hanbit-last/advice?dry_run=true").await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.text());
    let html = review.text();
    assert_eq!(html.matches("data-status=\"accepted\"").count(), 1, "{html}");
    assert_eq!(html.matches("data-status=\"rejected\"").count(), 1, "{html}");
    assert!(html.contains("17,500원 / 500,000주 / 3개월"), "{html}");
    assert!(
        d.bed.store.trackers_of_process(&"hanbit-last".parse().unwrap()).await.unwrap().is_empty(),
        "a dry run writes nothing"
    );
    // Applying with a rejected row is refused whole, the report saying why.
    let refused = upload("/ui/processes/hanbit-last/advice").await;
    assert!(refused.text().contains("data-testid=\"import-refused\""), "{}", refused.text());
    assert!(d.bed.store.trackers_of_process(&"hanbit-last".parse().unwrap()).await.unwrap().is_empty());
}

async fn an_advisor_controls_the_process(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    let operator = get(&d, &format!("/ui/processes/{PROCESS}"), Some("operator-token")).await.text();
    assert!(!operator.contains("process-controls"), "controls are the advisor's");
    let paused = post(&d, &format!("/ui/processes/{PROCESS}/control/pause"), Some("advisor-token")).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text());
    assert!(paused.text().contains("data-testid=\"control-resume\""), "{}", paused.text());
    let process = d.bed.store.get_process(&PROCESS.parse().unwrap()).await.unwrap();
    assert_eq!(process.value.state(), shared::domain::process::ProcessState::Paused);
    let wrong = post(&d, &format!("/ui/processes/{PROCESS}/control/schedule"), Some("advisor-token")).await;
    assert_eq!(wrong.status, StatusCode::CONFLICT, "{}", wrong.text());
}

async fn the_emergency_stop_shows_on_every_page(engine: Engine) {
    let Some(d) = dashboard(engine).await else { return };
    assert!(get(&d, "/ui/bot", Some("operator-token")).await.text().contains("data-testid=\"bot-stop-form\""));
    let form = (
        "application/x-www-form-urlencoded",
        "reason=%EC%9E%98%EB%AA%BB%EB%90%9C+%EA%B0%80%EA%B2%A9".as_bytes().to_vec(),
    );
    let stopped = call(&d, Method::POST, "/ui/bot/stop", Some("operator-token"), Some(form)).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.text());
    assert!(stopped.text().contains("data-testid=\"bot-stopped\"") && stopped.text().contains("잘못된 가격"));
    let viewer = get(&d, "/ui/bot", Some("viewer-token")).await.text();
    assert!(viewer.contains("긴급 정지 중") && !viewer.contains("hx-post"), "{viewer}");
    assert!(get(&d, "/ui/bot", Some("advisor-token")).await.text().contains("data-testid=\"bot-resume\""));
    // Held: a remind now is refused, nothing is sent.
    let before = d.bed.fake.sent(NURI_CHAT).len();
    let remind = post(&d, &format!("/ui/processes/{PROCESS}/trackers/nuri/remind"), Some("operator-token")).await;
    assert!(!remind.status.is_success(), "{}", remind.text());
    assert_eq!(d.bed.fake.sent(NURI_CHAT).len(), before);
    let resumed = post(&d, "/ui/bot/resume", Some("advisor-token")).await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.text());
    assert!(resumed.text().contains("재개했습니다"), "{}", resumed.text());
    assert!(!get(&d, "/ui/bot", Some("viewer-token")).await.text().contains("긴급 정지 중"));
}

on_both_engines!(
    the_emergency_stop_shows_on_every_page,
    a_screenshot_is_shown_beside_the_form,
    advice_is_reviewed_as_a_table_before_it_is_applied,
    an_advisor_controls_the_process,
    every_page_renders_for_each_role,
    the_shell_and_static_files_are_public_and_hold_no_data,
    data_without_a_valid_token_is_401,
    a_role_sees_only_what_it_may_do_and_is_refused_the_rest,
    remind_goes_out_through_telegram,
    an_answer_is_confirmed_with_the_values_of_the_form,
    exports_read_back,
);
