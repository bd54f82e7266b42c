//! Charts, where people would rather look than read: how a kickoff progressed over time (sent,
//! answered, confirmed, counted as they happened), deviations per IPO, and how long each client
//! takes to answer. Server-rendered inline SVG, no script; every chart's numbers are a table too,
//! and every table downloads.
//!
//! Trackers keep their current state only, so the times come from the message log (the first
//! message sent about the process, the client's first message that answered it) and, for a
//! confirmation, the tracker's own `state_since`.

use super::common::{Names, all_processes};
use super::kit::{Bar, bars, export, table};
use crate::app::all_pages;
use crate::domain::ids::{ClientId, ProcessId, StockId};
use crate::domain::message_log::{Direction, MessageLogEntry};
use crate::domain::process::{Process, ProcessState};
use crate::domain::time::Timestamp;
use crate::domain::tracker::{Tracker, TrackerState};
use crate::export::{Cell, Table};
use crate::http::api::auth::{Authorized, Viewer};
use crate::web::layout::{export_buttons, heading};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use chrono::TimeDelta;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/ui/charts", get(page))
        .route("/ui/charts/kickoff", get(kickoff_section))
        .route("/ui/charts/deviations", get(deviations_section))
        .route("/ui/charts/response", get(response_section))
        .route("/ui/charts/kickoff/export", get(export_kickoff))
        .route("/ui/charts/deviations/export", get(export_deviations))
        .route("/ui/charts/response/export", get(export_response))
}

#[derive(Debug, Default, Deserialize)]
struct ChartQuery {
    process: Option<String>,
    format: Option<String>,
}

/// One client's way through a process, as far as it went.
#[derive(Clone)]
struct Course {
    client: ClientId,
    sent: Option<Timestamp>,
    answered: Option<Timestamp>,
    confirmed: Option<Timestamp>,
}

/// How long a chart's figures are reused. The charts read every client's message log (one query
/// each), which takes seconds with a firm's 300 clients; the figures move slowly, and a minute old
/// is fresh enough to look at. Kept per process (per `App`), so tests and instances never share.
const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(60);

type Key = (usize, String);
/// Figures by key, with when they were computed and for which `App`. The entry holds a weak
/// reference to it, so its address cannot be reused by another while the entry lives (tests run
/// several at once), and figures of an `App` gone are never read.
type Cache<T> = std::sync::Mutex<HashMap<Key, (std::time::Instant, std::sync::Weak<crate::app::App>, T)>>;
static TABLES: std::sync::LazyLock<Cache<Table>> = std::sync::LazyLock::new(Default::default);
static COURSES: std::sync::LazyLock<Cache<Vec<Course>>> = std::sync::LazyLock::new(Default::default);

fn key(state: &WebState, what: &str) -> Key {
    (std::sync::Arc::as_ptr(&state.app) as usize, what.to_owned())
}

fn live<T>(entry: &(std::time::Instant, std::sync::Weak<crate::app::App>, T)) -> bool {
    entry.0.elapsed() < FRESH_FOR && entry.1.strong_count() > 0
}

fn recall<T: Clone>(cache: &Cache<T>, key: &Key) -> Option<T> {
    let cache = cache.lock().ok()?;
    cache.get(key).filter(|e| live(e)).map(|(_, _, v)| v.clone())
}

fn keep<T>(cache: &Cache<T>, state: &WebState, key: Key, value: T) {
    // A poisoned lock only loses the reuse: the next request computes again.
    if let Ok(mut cache) = cache.lock() {
        cache.retain(|_, e| live(e));
        cache.insert(key, (std::time::Instant::now(), std::sync::Arc::downgrade(&state.app), value));
    }
}

/// A client's messages about each process.
type ByProcess = HashMap<ProcessId, Vec<MessageLogEntry>>;

/// How many clients' logs are read at once: one query each, so a page of 300 clients is not 300
/// round trips one after the other, without flooding the store.
const READ_AT_ONCE: usize = 16;

/// The messages of each of `clients` about each process, from `from` on.
async fn messages_by_process(
    state: &WebState,
    clients: &[ClientId],
    from: Timestamp,
) -> Result<HashMap<ClientId, ByProcess>, WebError> {
    let until = state.app.clock.now() + TimeDelta::minutes(1);
    let mut out = HashMap::new();
    for chunk in clients.chunks(READ_AT_ONCE) {
        let mut reads = tokio::task::JoinSet::new();
        for client in chunk {
            let (app, client) = (state.app.clone(), client.clone());
            reads.spawn(async move {
                let app = &app;
                let id = &client;
                let log =
                    all_pages(|page| async move { app.store.client_messages(id, from, until, &page).await }).await;
                (client, log)
            });
        }
        while let Some(joined) = reads.join_next().await {
            let (client, log) = joined.map_err(|e| WebError {
                status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                detail: format!("a message log read stopped: {e}"),
            })?;
            let mut by: ByProcess = HashMap::new();
            for m in log? {
                if let Some(p) = m.process_id.clone() {
                    by.entry(p).or_default().push(m);
                }
            }
            out.insert(client, by);
        }
    }
    Ok(out)
}

fn first(log: Option<&Vec<MessageLogEntry>>, direction: Direction) -> Option<Timestamp> {
    log.and_then(|l| l.iter().filter(|m| m.direction == direction).map(|m| m.at).min())
}

/// A tracker's course from its process's messages: an answer that came as a button press leaves
/// no message, so a tracker past `sent` without one counts from when it entered its state.
fn course(t: &Tracker, log: Option<&Vec<MessageLogEntry>>, kickoff: Timestamp) -> Course {
    let state = t.state();
    let sent = first(log, Direction::Outbound)
        .or_else(|| (!matches!(state, TrackerState::Pending | TrackerState::Failed)).then_some(kickoff));
    let answered = first(log, Direction::Inbound).or_else(|| {
        matches!(state, TrackerState::Acknowledged | TrackerState::Submitted | TrackerState::Confirmed)
            .then(|| t.state_since())
    });
    let confirmed = (state == TrackerState::Confirmed).then(|| t.state_since());
    Course { client: t.client_id.clone(), sent, answered, confirmed }
}

struct Kickoff {
    process: Process,
    courses: Vec<Course>,
    names: Names,
}

fn started(p: &Process) -> bool {
    matches!(p.state(), ProcessState::Running | ProcessState::Paused | ProcessState::Completed)
}

async fn kickoff(state: &WebState, processes: &[Process], chosen: Option<&str>) -> Result<Option<Kickoff>, WebError> {
    let process = match chosen.filter(|c| !c.is_empty()) {
        Some(id) => processes.iter().find(|p| p.id.as_str() == id),
        // What staff watch first: the newest process still running, else the newest finished.
        None => {
            processes.iter().filter(|p| started(p)).max_by_key(|p| (p.state() != ProcessState::Completed, p.kickoff_at))
        }
    };
    let Some(process) = process.cloned() else { return Ok(None) };
    let cache_key = key(state, process.id.as_str());
    let courses: Vec<Course> = match recall(&COURSES, &cache_key) {
        Some(courses) => courses,
        None => {
            let trackers = state.app.store.trackers_of_process(&process.id).await?;
            let from = process.kickoff_at - TimeDelta::hours(12);
            let clients: Vec<ClientId> = trackers.iter().map(|t| t.value.client_id.clone()).collect();
            let logs = messages_by_process(state, &clients, from).await?;
            let courses: Vec<Course> = trackers
                .iter()
                .map(|t| {
                    let log = logs.get(&t.value.client_id).and_then(|by| by.get(&process.id));
                    course(&t.value, log, process.kickoff_at)
                })
                .collect();
            keep(&COURSES, state, cache_key, courses.clone());
            courses
        }
    };
    let names = Names::read(&state.app, courses.iter().map(|c| &c.client), [&process]).await?;
    Ok(Some(Kickoff { process, courses, names }))
}

fn minutes(from: Timestamp, to: Timestamp) -> u64 {
    u64::try_from((to - from).num_minutes()).unwrap_or(0)
}

fn kickoff_table(k: &Kickoff) -> Table {
    let mut t = Table::new(
        format!("진행 {}", k.names.process_title(&k.process)),
        &["고객사", "발송 (KST)", "첫 응답 (KST)", "확정 (KST)", "응답까지 (분)"],
    );
    let time = |t: Option<Timestamp>| t.map_or(Cell::Empty, |t| Cell::text(fmt::kst_full(t)));
    for c in &k.courses {
        let took = match (c.sent, c.answered) {
            (Some(s), Some(a)) => Cell::Count(minutes(s, a)),
            _ => Cell::Empty,
        };
        t.push(vec![Cell::text(k.names.client(&c.client)), time(c.sent), time(c.answered), time(c.confirmed), took]);
    }
    t
}

/// Step lines of how many clients had been sent, had answered and were confirmed, over time.
fn progress_chart(k: &Kickoff, now: Timestamp) -> Markup {
    let series: [(&str, &str, Vec<Timestamp>); 3] = [
        ("발송", "sent", k.courses.iter().filter_map(|c| c.sent).collect()),
        ("응답", "answered", k.courses.iter().filter_map(|c| c.answered).collect()),
        ("확정", "confirmed", k.courses.iter().filter_map(|c| c.confirmed).collect()),
    ];
    let total = k.courses.len().max(1) as f64;
    // From the first send: a process started by hand long after its planned kickoff would
    // otherwise be a flat line across months.
    let start = series.iter().flat_map(|(_, _, ts)| ts.iter().copied()).min().unwrap_or(k.process.kickoff_at);
    let last = series.iter().flat_map(|(_, _, ts)| ts.iter().copied()).max().unwrap_or(start);
    // Up to now for a process still running, else a little past its last event.
    let end = if k.process.state() == ProcessState::Running { now.max(last) } else { last + TimeDelta::minutes(10) };
    let end = end.max(start + TimeDelta::minutes(30));
    let span = (end - start).num_seconds().max(1) as f64;
    let (left, top, w, h) = (34.0, 10.0, 420.0, 200.0);
    let x = |t: Timestamp| left + (t - start).num_seconds() as f64 / span * w;
    let y = |n: f64| top + h - n / total * h;
    let path = |ts: &[Timestamp]| {
        let mut ts = ts.to_vec();
        ts.sort();
        let mut d = format!("M{:.1},{:.1}", x(start), y(0.0));
        for (i, t) in ts.iter().enumerate() {
            d.push_str(&format!(" H{:.1} V{:.1}", x(*t), y((i + 1) as f64)));
        }
        d.push_str(&format!(" H{:.1}", x(end)));
        d
    };
    let ticks: Vec<Timestamp> =
        (0..=3).map(|i| start + TimeDelta::seconds((span * f64::from(i) / 3.0) as i64)).collect();
    html! {
        svg.chart.lines role="img" data-testid="kickoff-chart" viewBox="0 0 480 250" preserveAspectRatio="xMinYMin meet"
            aria-label={ "고객사 " (k.courses.len()) "곳 중 발송 " (series[0].2.len()) ", 응답 " (series[1].2.len()) ", 확정 " (series[2].2.len()) } {
            @for n in [0.0, (total / 2.0).round(), total] {
                line.grid x1=(left) x2=(left + w) y1=(format!("{:.1}", y(n))) y2=(format!("{:.1}", y(n))) {}
                text.axis x=(left - 6.0) y=(format!("{:.1}", y(n) + 4.0)) text-anchor="end" { (format!("{n:.0}")) }
            }
            @for t in &ticks {
                text.axis x=(format!("{:.1}", x(*t))) y=(top + h + 18.0) text-anchor="middle" { (axis_time(*t, end - start)) }
            }
            @for (label, class, ts) in &series {
                path class={ "series " (class) } d=(path(ts)) data-testid={ "series-" (class) } data-count=(ts.len()) { title { (label) " " (ts.len()) "곳" } }
            }
        }
        ul.legend.chart-legend {
            @for (label, class, ts) in &series { li { i class={ "line-" (class) } {} (label) " " (ts.len()) "/" (k.courses.len()) } }
        }
    }
}

/// A time on the axis: the hour within a day, with the date beyond one.
fn axis_time(t: Timestamp, span: TimeDelta) -> String {
    let local = t.with_timezone(&crate::domain::time::kst());
    if span > TimeDelta::hours(20) {
        local.format("%m-%d %H:%M").to_string()
    } else {
        local.format("%H:%M").to_string()
    }
}

/// Per IPO: answers, answers that deviate from the advice, and how many findings.
async fn deviations(state: &WebState, processes: &[Process]) -> Result<Table, WebError> {
    let cache_key = key(state, "deviations");
    if let Some(table) = recall(&TABLES, &cache_key) {
        return Ok(table);
    }
    let table = count_deviations(state, processes).await?;
    keep(&TABLES, state, cache_key, table.clone());
    Ok(table)
}

async fn count_deviations(state: &WebState, processes: &[Process]) -> Result<Table, WebError> {
    let mut by_stock: BTreeMap<StockId, (u64, u64, u64)> = BTreeMap::new();
    for p in processes.iter().filter(|p| started(p)) {
        let Some(stock) = &p.stock_id else { continue };
        let entry = by_stock.entry(stock.clone()).or_default();
        for t in state.app.store.trackers_of_process(&p.id).await? {
            if t.value.answer().is_none() {
                continue;
            }
            entry.0 += 1;
            let found = t.value.deviations();
            if !found.is_empty() {
                entry.1 += 1;
                entry.2 += found.len() as u64;
            }
        }
    }
    let names = Names::read(&state.app, [], processes.iter().filter(|p| started(p))).await?;
    let mut t = Table::new("종목별 편차", &["종목", "답변", "편차 있는 답변", "편차 건수"]);
    for (stock, (answers, deviating, findings)) in by_stock {
        let name = names.stocks.get(&stock).map_or_else(|| stock.to_string(), |s| s.name.to_string());
        t.push(vec![Cell::text(name), Cell::Count(answers), Cell::Count(deviating), Cell::Count(findings)]);
    }
    Ok(t)
}

/// Per client: how many answers, and the median and average minutes from the first message sent
/// about a process to the client's first answer, over the last 90 days.
async fn response_times(state: &WebState, processes: &[Process]) -> Result<Table, WebError> {
    let cache_key = key(state, "response");
    if let Some(table) = recall(&TABLES, &cache_key) {
        return Ok(table);
    }
    let table = measure_response_times(state, processes).await?;
    keep(&TABLES, state, cache_key, table.clone());
    Ok(table)
}

async fn measure_response_times(state: &WebState, processes: &[Process]) -> Result<Table, WebError> {
    let since = state.app.clock.now() - TimeDelta::days(90);
    let app = &state.app;
    let clients = all_pages(|page| async move { app.store.list_clients(&page).await }).await?;
    let kinds: HashMap<&ProcessId, &Process> = processes.iter().map(|p| (&p.id, p)).collect();
    let mut t =
        Table::new("고객사별 응답 시간", &["고객사", "응답한 프로세스", "중앙값 (분)", "평균 (분)", "가장 늦은 (분)"]);
    let ids: Vec<ClientId> = clients.iter().map(|c| c.value.id.clone()).collect();
    let logs = messages_by_process(state, &ids, since).await?;
    let none = ByProcess::new();
    for c in &clients {
        let by = logs.get(&c.value.id).unwrap_or(&none);
        let mut took: Vec<u64> = by
            .iter()
            .filter(|(p, _)| kinds.contains_key(p))
            .filter_map(|(_, log)| {
                match (first(Some(log), Direction::Outbound), first(Some(log), Direction::Inbound)) {
                    (Some(s), Some(a)) if a >= s => Some(minutes(s, a)),
                    _ => None,
                }
            })
            .collect();
        if took.is_empty() {
            t.push(vec![Cell::text(c.value.name.as_str()), Cell::Count(0), Cell::Empty, Cell::Empty, Cell::Empty]);
            continue;
        }
        took.sort_unstable();
        let median = took[took.len() / 2];
        let mean = took.iter().sum::<u64>() / took.len() as u64;
        let max = took.last().copied().unwrap_or(0);
        t.push(vec![
            Cell::text(c.value.name.as_str()),
            Cell::Count(took.len() as u64),
            Cell::Count(median),
            Cell::Count(mean),
            Cell::Count(max),
        ]);
    }
    Ok(t)
}

fn count_of(row: &[Cell], i: usize) -> Option<u64> {
    match row.get(i) {
        Some(Cell::Count(n)) => Some(*n),
        _ => None,
    }
}

/// The page: each chart is its own fragment, loaded as the page opens, so the page answers at once
/// and a slow chart (one log read per client) holds up only itself.
async fn page(_: Authorized<Viewer>, Query(q): Query<ChartQuery>) -> Markup {
    let kickoff = match q.process.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => {
            format!("/ui/charts/kickoff?process={}", form_urlencoded::byte_serialize(p.as_bytes()).collect::<String>())
        }
        None => "/ui/charts/kickoff".to_owned(),
    };
    html! {
        (heading("차트"))
        p.muted { "수치는 1분 동안 다시 쓰입니다: 고객사마다 메시지 기록을 읽어 셉니다." }
        @for (id, title, url) in [("kickoff-section", "킥오프 진행", kickoff.as_str()),
            ("deviations-section", "종목별 편차", "/ui/charts/deviations"), ("response-section", "고객사별 응답 시간", "/ui/charts/response")] {
            section.chart-card.card id=(id) data-testid=(id) hx-get=(url) hx-trigger="load" {
                h2 { (title) } p.muted { "불러오는 중…" }
            }
        }
    }
}

async fn kickoff_section(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<ChartQuery>,
) -> Result<Markup, WebError> {
    let now = state.app.clock.now();
    let processes: Vec<Process> = all_processes(&state.app).await?.into_iter().map(|p| p.value).collect();
    let k = kickoff(&state, &processes, q.process.as_deref()).await?;
    let mut choices: Vec<&Process> = processes.iter().filter(|p| started(p)).collect();
    choices.sort_by_key(|p| std::cmp::Reverse(p.kickoff_at));
    let titles = Names::read(&state.app, [], choices.iter().copied()).await?;
    let options: Vec<(String, String)> = choices
        .iter()
        .map(|p| (p.id.to_string(), format!("{} · {}", titles.process_title(p), fmt::kst_short(p.kickoff_at))))
        .collect();
    Ok(html! {
        h2 {
            "킥오프 진행"
            span.spacer {}
            @if let Some(k) = &k { (export_buttons(&format!("/ui/charts/kickoff/export?process={}", k.process.id), "export-kickoff")) }
        }
        @if options.is_empty() {
            p.empty data-testid="no-kickoff" { "시작한 프로세스가 없습니다." }
        } @else {
            div.toolbar {
                label for="chart-process" { "프로세스" }
                // A select of its own, not a form: reading another chart writes nothing.
                select #chart-process name="process" data-testid="chart-process" hx-get="/ui/charts/kickoff"
                    hx-target="#kickoff-section" hx-trigger="change" {
                    @for (value, label) in &options {
                        option value=(value) selected[k.as_ref().is_some_and(|k| k.process.id.as_str() == value)] { (label) }
                    }
                }
            }
        }
        @if let Some(k) = &k {
            p.muted { (k.names.process_title(&k.process)) " · 시작 " (fmt::kst_full(k.process.kickoff_at)) " · " (fmt::process_state(k.process.state())) }
            (progress_chart(k, now))
            details { summary { "숫자로 보기" } (table(&kickoff_table(k), "kickoff-table")) }
        }
    })
}

async fn deviations_section(State(state): State<WebState>, _: Authorized<Viewer>) -> Result<Markup, WebError> {
    let processes: Vec<Process> = all_processes(&state.app).await?.into_iter().map(|p| p.value).collect();
    let dev = deviations(&state, &processes).await?;
    let dev_bars: Vec<Bar> = dev
        .rows
        .iter()
        .map(|r| {
            let n = count_of(r, 2).unwrap_or(0);
            Bar {
                label: r.first().map(Cell::plain).unwrap_or_default(),
                value: n as f64,
                text: format!("{n}곳 / 답변 {}", count_of(r, 1).unwrap_or(0)),
            }
        })
        .collect();
    Ok(html! {
        h2 { "종목별 편차" span.count { "자문과 다른 답변" } span.spacer {} (export_buttons("/ui/charts/deviations/export", "export-deviations")) }
        @if dev_bars.is_empty() { p.empty { "답변이 아직 없습니다." } } @else {
            (bars(&dev_bars, "deviations-chart", "종목별 편차 있는 답변 수"))
        }
        details { summary { "숫자로 보기" } (table(&dev, "deviations-table")) }
    })
}

async fn response_section(State(state): State<WebState>, _: Authorized<Viewer>) -> Result<Markup, WebError> {
    let processes: Vec<Process> = all_processes(&state.app).await?.into_iter().map(|p| p.value).collect();
    let resp = response_times(&state, &processes).await?;
    let resp_bars: Vec<Bar> = resp
        .rows
        .iter()
        .filter_map(|r| {
            let median = count_of(r, 2)?;
            Some(Bar {
                label: r.first().map(Cell::plain).unwrap_or_default(),
                value: median as f64,
                text: format!("{median}분"),
            })
        })
        .collect();
    Ok(html! {
        h2 { "고객사별 응답 시간" span.count { "최근 90일, 중앙값" } span.spacer {} (export_buttons("/ui/charts/response/export", "export-response")) }
        @if resp_bars.is_empty() { p.empty { "응답 기록이 아직 없습니다." } } @else {
            (bars(&resp_bars, "response-chart", "고객사별 응답까지 걸린 시간 중앙값 (분)"))
        }
        details { summary { "숫자로 보기" } (table(&resp, "response-table")) }
    })
}

async fn export_kickoff(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<ChartQuery>,
) -> Result<Response, WebError> {
    let processes: Vec<Process> = all_processes(&state.app).await?.into_iter().map(|p| p.value).collect();
    let k = kickoff(&state, &processes, q.process.as_deref()).await?.ok_or_else(|| WebError {
        status: axum::http::StatusCode::NOT_FOUND,
        detail: "시작한 프로세스가 없습니다".into(),
    })?;
    export(&kickoff_table(&k), q.format.as_deref(), &format!("kickoff-{}", k.process.id))
}

async fn export_deviations(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<ChartQuery>,
) -> Result<Response, WebError> {
    let processes: Vec<Process> = all_processes(&state.app).await?.into_iter().map(|p| p.value).collect();
    export(&deviations(&state, &processes).await?, q.format.as_deref(), "deviations")
}

async fn export_response(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<ChartQuery>,
) -> Result<Response, WebError> {
    let processes: Vec<Process> = all_processes(&state.app).await?.into_iter().map(|p| p.value).collect();
    export(&response_times(&state, &processes).await?, q.format.as_deref(), "response-times")
}
