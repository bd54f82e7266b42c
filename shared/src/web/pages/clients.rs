//! Clients: the list (by representative), and each client's funds, Telegram group, link codes and
//! message log. Admins create and edit clients as the API allows (the chat binding changes only by
//! linking); operators issue and revoke link codes.

use super::actions::flash;
use super::common::Names;
use super::kit::{Fields, before_or_now, before_query, export, newest_first, select, telegram_text, write_error};
use crate::app::all_pages;
use crate::domain::client::{Client, FundAccount, FundKind};
use crate::domain::ids::{ClientId, FundId, StaffId};
use crate::domain::message_log::{Direction, MessageLogEntry};
use crate::domain::money::Won;
use crate::domain::staff::{Role, Staff};
use crate::domain::text::Label;
use crate::export::{Cell, Table};
use crate::http::api::auth::{Admin, Authorized, Operator, Principal, Viewer};
use crate::http::problem::Problem;
use crate::ports::store::{StoreError, Versioned};
use crate::web::extract::Id;
use crate::web::layout::{export_buttons, heading, link, may};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/ui/clients", get(page).post(create))
        .route("/ui/clients/export", get(export_list))
        .route("/ui/clients/new", get(new_form))
        .route("/ui/clients/{id}", get(detail).put(update))
        .route("/ui/clients/{id}/edit", get(edit_form))
        .route("/ui/clients/{id}/funds/export", get(export_funds))
        .route("/ui/clients/{id}/messages/export", get(export_messages))
        .route("/ui/clients/{id}/link-code", post(issue_code).delete(revoke_codes))
}

pub const FUND_KINDS: [(FundKind, &str, &str); 5] = [
    (FundKind::IpoFund, "ipo_fund", "공모주"),
    (FundKind::KosdaqVenture, "kosdaq_venture", "코스닥벤처"),
    (FundKind::HighYield, "high_yield", "하이일드"),
    (FundKind::Private, "private", "사모"),
    (FundKind::Discretionary, "discretionary", "일임"),
];

pub fn fund_kind(kind: FundKind) -> &'static str {
    FUND_KINDS.iter().find(|(k, _, _)| *k == kind).map_or("", |(_, _, l)| *l)
}

fn fund_kind_slug(kind: FundKind) -> &'static str {
    FUND_KINDS.iter().find(|(k, _, _)| *k == kind).map_or("", |(_, s, _)| *s)
}

/// How the client's group stands, as a word and a class.
pub fn chat_status(c: &Client) -> (&'static str, &'static str) {
    match &c.chat {
        None => ("미연결", "s-pending"),
        Some(chat) if chat.active => ("연결됨", "s-confirmed"),
        Some(_) => ("끊김", "s-failed"),
    }
}

async fn all_clients(state: &WebState) -> Result<Vec<Versioned<Client>>, StoreError> {
    let app = &state.app;
    all_pages(|page| async move { app.store.list_clients(&page).await }).await
}

pub async fn all_staff(state: &WebState) -> Result<Vec<Versioned<Staff>>, StoreError> {
    let app = &state.app;
    all_pages(|page| async move { app.store.list_staff(&page).await }).await
}

fn total_aum(c: &Client) -> Won {
    Won::new(c.funds().iter().map(|f| f.aum.get()).sum())
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    rep: Option<String>,
    format: Option<String>,
}

async fn page(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Viewer>,
    Query(q): Query<ListQuery>,
) -> Result<Markup, WebError> {
    render_list(&state, &caller, q.rep.as_deref().filter(|r| !r.is_empty())).await
}

async fn render_list(state: &WebState, caller: &Principal, rep: Option<&str>) -> Result<Markup, WebError> {
    let clients = all_clients(state).await?;
    let staff = all_staff(state).await?;
    let names: HashMap<&StaffId, &str> = staff.iter().map(|s| (&s.value.id, s.value.name.as_str())).collect();
    let mut reps: Vec<&StaffId> = clients.iter().map(|c| &c.value.representative).collect();
    reps.sort();
    reps.dedup();
    let shown: Vec<&Client> =
        clients.iter().map(|c| &c.value).filter(|c| rep.is_none_or(|r| c.representative.as_str() == r)).collect();
    let export_url = match rep {
        Some(r) => format!("/ui/clients/export?rep={r}"),
        None => "/ui/clients/export".to_owned(),
    };
    Ok(html! {
        (heading("고객사"))
        div.toolbar {
            @if may(caller.role, Role::Admin) {
                button.primary type="button" hx-get="/ui/clients/new" hx-target="#client-panel"
                    data-testid="open-new-client" id="open-new-client" { "고객사 등록" }
            }
        }
        div #client-panel {}
        nav.tabs aria-label="담당 대표" {
            a href="/clients" hx-get="/ui/clients" hx-target="#main" hx-push-url="/clients" aria-selected=(rep.is_none()) data-testid="rep-all" { "전체" }
            @for r in &reps {
                a href={ "/clients?rep=" (r) } hx-get={ "/ui/clients?rep=" (r) } hx-target="#main" hx-push-url={ "/clients?rep=" (r) }
                    aria-selected=(rep == Some(r.as_str())) data-testid={ "rep-" (r) } {
                    (names.get(r).copied().unwrap_or(r.as_str()))
                }
            }
        }
        h2 { "고객사 목록" span.count { (shown.len()) "곳" } span.spacer {} (export_buttons(&export_url, "export-clients")) }
        div.table-wrap {
            table.nowrap data-testid="clients-table" {
                thead { tr { th { "고객사" } th.hide-narrow { "담당" } th { "펀드" } th.num { "운용규모" } th { "텔레그램" } th.hide-narrow { "응답 추적" } th { "상태" } } }
                tbody {
                    @for c in &shown {
                        @let (chat, class) = chat_status(c);
                        tr data-testid="client-row" data-client=(c.id) .inactive[!c.active] {
                            td { (link(&format!("/clients/{}", c.id), html! { (c.name) }, "client-link")) }
                            td.hide-narrow { (names.get(&c.representative).copied().unwrap_or(c.representative.as_str())) }
                            td { (c.funds().len()) "개" }
                            td.num { (total_aum(c).display_eok()) }
                            td { span class={ "badge " (class) } data-testid="chat-status" { (chat) } }
                            td.hide-narrow { @if c.response_tracking { "예" } @else { "아니오" } }
                            td { @if c.active { "활성" } @else { span.muted { "비활성" } } }
                        }
                    }
                }
            }
        }
        @if shown.is_empty() { p.empty { "고객사가 없습니다." } }
    })
}

async fn export_list(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let rep = q.rep.as_deref().filter(|r| !r.is_empty());
    let clients = all_clients(&state).await?;
    let mut t = Table::new(
        "고객사",
        &["고객사 ID", "고객사", "담당", "펀드 수", "운용규모 (원)", "텔레그램", "그룹", "응답 추적", "활성", "메모"],
    );
    for c in clients.iter().map(|c| &c.value).filter(|c| rep.is_none_or(|r| c.representative.as_str() == r)) {
        t.push(vec![
            Cell::text(c.id.as_str()),
            Cell::text(c.name.as_str()),
            Cell::text(c.representative.as_str()),
            Cell::Count(c.funds().len() as u64),
            Cell::Won(i64::try_from(total_aum(c).get()).unwrap_or(i64::MAX)),
            Cell::text(chat_status(c).0),
            c.chat.as_ref().and_then(|ch| ch.title.clone()).map_or(Cell::Empty, Cell::Text),
            Cell::text(if c.response_tracking { "예" } else { "아니오" }),
            Cell::text(if c.active { "예" } else { "아니오" }),
            Cell::text(c.memo.clone()),
        ]);
    }
    export(&t, q.format.as_deref(), "clients")
}

#[derive(Debug, Default, Deserialize)]
struct DetailQuery {
    before: Option<String>,
    format: Option<String>,
}

const MESSAGES_PER_PAGE: usize = 50;

async fn messages(
    state: &WebState,
    client: &ClientId,
    before: Option<&str>,
) -> Result<(Vec<MessageLogEntry>, Option<crate::domain::time::Timestamp>), WebError> {
    let app = &state.app;
    let before = before_or_now(before, app.clock.now())?;
    Ok(newest_first(
        before,
        MESSAGES_PER_PAGE,
        |m: &MessageLogEntry| m.at,
        |from, until, page| async move { app.store.client_messages(client, from, until, &page).await },
    )
    .await?)
}

async fn detail(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Viewer>,
    Id(id): Id<ClientId>,
    Query(q): Query<DetailQuery>,
) -> Result<Markup, WebError> {
    render_detail(&state, &caller, &id, q.before.as_deref()).await
}

/// A message as its reader saw it: the bot's are Telegram HTML, read without the markup.
fn message_text(m: &MessageLogEntry) -> String {
    match (&m.text, &m.file) {
        (Some(t), _) if m.direction == Direction::Outbound => telegram_text(t),
        (Some(t), _) => t.clone(),
        (None, Some(f)) => format!("[파일] {}", f.file_name.as_deref().unwrap_or("이름 없음")),
        (None, None) => String::new(),
    }
}

fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "받음",
        Direction::Outbound => "보냄",
    }
}

async fn render_detail(
    state: &WebState,
    caller: &Principal,
    id: &ClientId,
    before: Option<&str>,
) -> Result<Markup, WebError> {
    let stored = state.app.store.get_client(id).await?;
    let c = &stored.value;
    let rep = state.app.store.get_staff(&c.representative).await.ok();
    let (log, older) = messages(state, id, before).await?;
    let titles = process_titles(state, &log).await?;
    let (chat, class) = chat_status(c);
    let base = format!("/clients/{}", c.id);
    Ok(html! {
        (heading(c.name.as_str()))
        p { (link("/clients", html! { "← 고객사 목록" }, "back-clients")) }
        div.toolbar {
            @if may(caller.role, Role::Admin) {
                button type="button" hx-get={ "/ui" (base) "/edit" } hx-target="#client-panel" data-testid="open-edit-client" { "수정" }
            }
        }
        div #client-panel {}
        div.cards {
            div.card data-testid="client-info" data-client=(c.id) {
                h3 { (c.name) @if !c.active { " " span.badge { "비활성" } } }
                dl.facts {
                    dt { "고객사 ID" } dd { (c.id) }
                    dt { "담당 대표" } dd { (rep.as_ref().map_or(c.representative.as_str(), |r| r.value.name.as_str())) }
                    dt { "응답 추적" } dd { @if c.response_tracking { "예 (독촉·에스컬레이션)" } @else { "아니오 (메시지만)" } }
                    dt { "운용규모" } dd { (total_aum(c).display_eok()) }
                    dt { "메모" } dd { @if c.memo.is_empty() { span.muted { "-" } } @else { (c.memo) } }
                }
            }
            div.card data-testid="chat-card" {
                h3 { "텔레그램 그룹 " span class={ "badge " (class) } data-testid="chat-status" { (chat) } }
                @if let Some(ch) = &c.chat {
                    p { (ch.title.as_deref().unwrap_or("(제목 없음)")) " " span.muted { "chat " (ch.chat_id.0) } }
                    @if !ch.active { p.finding.error { "봇이 그룹에서 빠졌거나 차단되었습니다. 새 연결 코드로 다시 연결하세요." } }
                } @else {
                    p.muted { "연결 코드를 발급해 고객사 그룹에서 /link 코드 를 보내면 연결됩니다." }
                }
                div #link-code {}
                @if may(caller.role, Role::Operator) {
                    div.actions {
                        button.primary type="button" hx-post={ "/ui" (base) "/link-code" } hx-target="#link-code"
                            data-testid="issue-link-code" id="issue-link-code" { "연결 코드 발급" }
                        button.danger type="button" hx-delete={ "/ui" (base) "/link-code" } hx-target="#link-code"
                            hx-confirm="발급한 연결 코드를 모두 무효로 할까요? 이미 연결된 그룹은 그대로입니다."
                            data-testid="revoke-link-codes" { "코드 모두 무효화" }
                    }
                }
            }
        }
        h2 { "펀드" span.count { (c.funds().len()) "개" } span.spacer {} (export_buttons(&format!("/ui{base}/funds/export"), "export-funds")) }
        div.table-wrap {
            table.nowrap data-testid="funds-table" {
                thead { tr { th { "펀드" } th { "ID" } th { "종류" } th.num { "운용규모" } } }
                tbody {
                    @for f in c.funds() {
                        tr data-testid="fund-row" { td { (f.name) } td { (f.id) } td { (fund_kind(f.kind)) } td.num { (f.aum.display_eok()) } }
                    }
                }
            }
        }
        h2 #messages {
            "메시지 기록" span.count { "최근 순" }
            span.spacer {}
            (export_buttons(&format!("/ui{base}/messages/export{}", before.map(|b| format!("?before={}", urlencode(b))).unwrap_or_default()), "export-messages"))
        }
        @if log.is_empty() {
            p.empty data-testid="no-messages" { "기록된 메시지가 없습니다." }
        } @else {
            div.table-wrap {
                table data-testid="messages-table" {
                    thead { tr { th { "시각 (KST)" } th { "방향" } th { "내용" } th.hide-narrow { "프로세스" } } }
                    tbody {
                        @for m in &log {
                            tr data-testid="message-row" .inbound[m.direction == Direction::Inbound] {
                                td.num { (fmt::kst_short(m.at)) }
                                td { span.badge { (direction(m.direction)) } }
                                td.message { (message_text(m)) }
                                td.hide-narrow { @if let Some(p) = &m.process_id {
                                    (link(&format!("/processes/{p}"), html! { (titles.get(p).cloned().unwrap_or_else(|| p.to_string())) }, "message-process"))
                                } }
                            }
                        }
                    }
                }
            }
        }
        div.toolbar {
            @if before.is_some() { (link(&base, html! { "최신으로" }, "messages-newest")) }
            @if let Some(t) = older { (link(&format!("{base}?{}", before_query(t)), html! { "이전 메시지 ▶" }, "messages-older")) }
        }
    })
}

/// The titles of the processes the messages are about (a process since removed keeps its id).
async fn process_titles(
    state: &WebState,
    log: &[MessageLogEntry],
) -> Result<HashMap<crate::domain::ids::ProcessId, String>, WebError> {
    let mut ids: Vec<&crate::domain::ids::ProcessId> = log.iter().filter_map(|m| m.process_id.as_ref()).collect();
    ids.sort();
    ids.dedup();
    let mut processes = Vec::new();
    for id in ids {
        match state.app.store.get_process(id).await {
            Ok(p) => processes.push(p.value),
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let names = Names::read(&state.app, [], processes.iter()).await?;
    Ok(processes.iter().map(|p| (p.id.clone(), names.process_title(p))).collect())
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn export_funds(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Id(id): Id<ClientId>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, WebError> {
    let c = state.app.store.get_client(&id).await?.value;
    let mut t = Table::new(format!("{} 펀드", c.name), &["펀드 ID", "펀드", "종류", "운용규모 (원)"]);
    for f in c.funds() {
        t.push(vec![
            Cell::text(f.id.as_str()),
            Cell::text(f.name.as_str()),
            Cell::text(fund_kind(f.kind)),
            Cell::Won(i64::try_from(f.aum.get()).unwrap_or(i64::MAX)),
        ]);
    }
    export(&t, q.format.as_deref(), &format!("funds-{}", c.id))
}

async fn export_messages(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Id(id): Id<ClientId>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, WebError> {
    state.app.store.get_client(&id).await?;
    let (log, _) = messages(&state, &id, q.before.as_deref()).await?;
    let mut t = Table::new("메시지 기록", &["시각 (KST)", "방향", "내용", "파일", "프로세스"]);
    for m in &log {
        t.push(vec![
            Cell::text(fmt::kst_full(m.at)),
            Cell::text(direction(m.direction)),
            m.text.as_ref().map_or(Cell::Empty, |_| Cell::text(message_text(m))),
            m.file.as_ref().and_then(|f| f.file_name.clone()).map_or(Cell::Empty, Cell::Text),
            m.process_id.as_ref().map_or(Cell::Empty, |p| Cell::text(p.as_str())),
        ]);
    }
    export(&t, q.format.as_deref(), &format!("messages-{id}"))
}

/// Rows for funds in the form: the client's, then two blank ones to add.
fn client_form(
    target: &str,
    method_put: bool,
    client: Option<&Versioned<Client>>,
    staff: &[Versioned<Staff>],
) -> Markup {
    let reps: Vec<(String, String)> = staff
        .iter()
        .filter(|s| s.value.active)
        .map(|s| (s.value.id.to_string(), format!("{} ({})", s.value.name, s.value.id)))
        .collect();
    let c = client.map(|c| &c.value);
    let funds: Vec<Option<&FundAccount>> =
        c.map_or_else(Vec::new, |c| c.funds().iter().map(Some).collect()).into_iter().chain([None, None]).collect();
    let kinds: Vec<(String, String)> = FUND_KINDS.iter().map(|(_, s, l)| ((*s).to_owned(), (*l).to_owned())).collect();
    let body = html! {
        @if let Some(v) = client { input type="hidden" name="version" value=(v.version); }
        div.form-grid {
            @if c.is_none() {
                label for="client-id" { "고객사 ID (비우면 자동)" input #client-id name="id" data-testid="client-id" pattern="[A-Za-z0-9_-]{1,56}"; }
            }
            label for="client-name" { "고객사명" input #client-name name="name" required data-testid="client-name" value=[c.map(|c| c.name.to_string())]; }
            label for="client-rep" { "담당 대표" (select("representative", "client-rep", &reps, c.map(|c| c.representative.as_str()))) }
            label.check for="client-tracking" { input #client-tracking type="checkbox" name="response_tracking" value="true" checked[c.is_none_or(|c| c.response_tracking)]; " 응답 추적 (독촉·에스컬레이션)" }
            label.check for="client-active" { input #client-active type="checkbox" name="active" value="true" checked[c.is_none_or(|c| c.active)]; " 활성" }
        }
        label for="client-memo" { "메모" }
        textarea #client-memo name="memo" rows="2" { (c.map_or("", |c| c.memo.as_str())) }
        h3 { "펀드 " span.muted { "(ID·이름은 고객사 안에서 겹치지 않게, 운용규모는 850억 처럼)" } }
        div.fund-rows {
            @for (i, f) in funds.iter().enumerate() {
                div.fund-row data-testid="fund-input" {
                    input name={ "fund_id_" (i) } placeholder="펀드 ID" aria-label="펀드 ID" data-testid={ "fund-id-" (i) } value=[f.map(|f| f.id.to_string())];
                    input name={ "fund_name_" (i) } placeholder="펀드 이름" aria-label="펀드 이름" data-testid={ "fund-name-" (i) } value=[f.map(|f| f.name.to_string())];
                    (select(&format!("fund_kind_{i}"), &format!("fund-kind-{i}"), &kinds, f.map(|f| fund_kind_slug(f.kind))))
                    input name={ "fund_aum_" (i) } placeholder="운용규모" aria-label="운용규모" inputmode="numeric" data-testid={ "fund-aum-" (i) } value=[f.map(|f| f.aum.display_eok())];
                }
            }
        }
        div.actions { button.primary type="submit" data-testid="save-client" id="save-client" { "저장" } }
    };
    html! {
        div.card.panel data-testid="client-form" {
            h3 { @if c.is_some() { "고객사 수정" } @else { "고객사 등록" } }
            @if method_put {
                form.stack #client-form hx-put=(target) hx-target="#main" { (body) }
            } @else {
                form.stack #client-form hx-post=(target) hx-target="#main" { (body) }
            }
        }
    }
}

async fn new_form(State(state): State<WebState>, _: Authorized<Admin>) -> Result<Markup, WebError> {
    Ok(client_form("/ui/clients", false, None, &all_staff(&state).await?))
}

async fn edit_form(
    State(state): State<WebState>,
    _: Authorized<Admin>,
    Id(id): Id<ClientId>,
) -> Result<Markup, WebError> {
    let client = state.app.store.get_client(&id).await?;
    Ok(client_form(&format!("/ui/clients/{}", client.value.id), true, Some(&client), &all_staff(&state).await?))
}

/// The funds of the form's rows; a row with neither id nor name is blank.
fn funds_from(f: &Fields) -> Result<Vec<FundAccount>, WebError> {
    let mut funds = Vec::new();
    for i in 0..50 {
        let (id, name) = (f.get(&format!("fund_id_{i}")), f.get(&format!("fund_name_{i}")));
        if id.is_none() && name.is_none() {
            if f.0.iter().any(|(k, _)| k == &format!("fund_kind_{i}")) {
                continue;
            }
            break;
        }
        let n = i + 1;
        let name: Label = f.label(&format!("fund_name_{i}"), &format!("펀드 {n} 이름"))?;
        let id: FundId = match id {
            Some(_) => f.parse(&format!("fund_id_{i}"), &format!("펀드 {n} ID"))?,
            None => FundId::generate(),
        };
        let k = f.required(&format!("fund_kind_{i}"), &format!("펀드 {n} 종류"))?;
        let kind = FUND_KINDS
            .iter()
            .find(|(_, s, _)| *s == k)
            .map(|(kind, _, _)| *kind)
            .ok_or_else(|| WebError::bad_request(format!("펀드 {n} 종류: {k:?}")))?;
        let aum: Won = f.parse(&format!("fund_aum_{i}"), &format!("펀드 {n} 운용규모"))?;
        funds.push(FundAccount { id, name, kind, aum });
    }
    Ok(funds)
}

/// The client of the form, checked as the API checks its body (the representative must exist).
async fn client_from(state: &WebState, f: &Fields, id: ClientId) -> Result<Client, WebError> {
    let representative: StaffId = f.parse("representative", "담당 대표")?;
    match state.app.store.get_staff(&representative).await {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => return Err(WebError::bad_request("담당 대표: 없는 직원입니다")),
        Err(e) => return Err(e.into()),
    }
    let name: Label = f.label("name", "고객사명")?;
    let mut client = Client::new(id, name, representative, funds_from(f)?)
        .map_err(|e| WebError::from(Problem::bad_request(format!("펀드: {e}"))))?;
    client.response_tracking = f.checked("response_tracking");
    client.active = f.checked("active");
    client.memo = f.get("memo").unwrap_or_default().to_owned();
    Ok(client)
}

fn push_url(path: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(path) {
        h.insert("HX-Push-Url", v);
    }
    h
}

async fn create(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Admin>,
    f: Fields,
) -> Result<(HeaderMap, Markup), WebError> {
    let id = f.parse_opt::<ClientId>("id", "고객사 ID")?.unwrap_or_else(ClientId::generate);
    let client = client_from(&state, &f, id).await?;
    let created = state.app.store.create_client(&client).await.map_err(write_error)?;
    state
        .app
        .record_audit(&caller.name, "client.create", created.value.id.as_str(), None, Some(json!(created.value)))
        .await;
    let page = render_detail(&state, &caller, &created.value.id, None).await?;
    let message = format!("{}을(를) 등록했습니다. 연결 코드를 발급해 그룹을 연결하세요.", created.value.name);
    Ok((push_url(&format!("/clients/{}", created.value.id)), html! { (page) (flash(&message)) }))
}

async fn update(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Admin>,
    Id(id): Id<ClientId>,
    f: Fields,
) -> Result<Markup, WebError> {
    let version = f.version()?;
    let before = state.app.store.get_client(&id).await?;
    let mut client = client_from(&state, &f, id.clone()).await?;
    // The chat binding changes only by linking, as in the API.
    client.chat = before.value.chat.clone();
    let updated = state.app.store.update_client(&client, version).await.map_err(write_error)?;
    state
        .app
        .record_audit(&caller.name, "client.update", id.as_str(), Some(json!(before.value)), Some(json!(updated.value)))
        .await;
    let page = render_detail(&state, &caller, &id, None).await?;
    Ok(html! { (page) (flash("저장했습니다.")) })
}

async fn issue_code(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Operator>,
    Id(id): Id<ClientId>,
) -> Result<Markup, WebError> {
    let client = state.app.store.get_client(&id).await?;
    let (code, expires_at) = state.app.issue_link_code(&client.value).await?;
    state.app.record_audit(&caller.name, "client.link_code", client.value.id.as_str(), None, None).await;
    Ok(html! {
        div.flash data-testid="link-code-issued" {
            "고객사 그룹에서 이렇게 보내게 하세요: " code data-testid="link-code" { "/link " (code.as_str()) }
            br; span.muted { (fmt::kst_full(expires_at)) "까지 유효 · 이전 코드는 무효가 됩니다" }
        }
    })
}

async fn revoke_codes(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Operator>,
    Id(id): Id<ClientId>,
) -> Result<(StatusCode, Markup), WebError> {
    let client = state.app.store.get_client(&id).await?;
    let until = state.app.clock.now() + state.app.config.link_code_lifetime;
    state.app.store.revoke_link_codes(&client.value.id, until).await?;
    state.app.record_audit(&caller.name, "client.link_codes_revoked", client.value.id.as_str(), None, None).await;
    Ok((
        StatusCode::OK,
        html! { div.flash data-testid="link-codes-revoked" { "발급한 연결 코드를 모두 무효로 했습니다." } },
    ))
}
