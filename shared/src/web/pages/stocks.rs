//! Stocks: every offering with its price band and schedule, a month calendar of every schedule
//! date (book-building, price fixing, subscription, payment, listing and the lock-up releases), and
//! for advisors the stock's create, final price, 정정 (amendment) and 철회 (withdrawal). KRX's date
//! order refuses, naming each broken rule; the soft rules are warnings, shown before applying
//! (a check that saves nothing) and after, as the API answers them.

use super::actions::flash;
use super::common::Names;
use super::kit::{Fields, date_long, date_short, export, select, table, write_error};
use crate::app::all_pages;
use crate::domain::calendar::KrxCalendar;
use crate::domain::ids::StockId;
use crate::domain::lockup::LockUp;
use crate::domain::money::Price;
use crate::domain::process::Process;
use crate::domain::regulation::Regulation;
use crate::domain::staff::Role;
use crate::domain::stock::{
    Market, NewStock, PriceBand, Schedule, ScheduleDates, Stock, StockError, StockStatus, StockWarning,
};
use crate::domain::time::kst_date;
use crate::export::{Cell, Table};
use crate::http::api::auth::{Advisor, Authorized, Principal, Viewer};
use crate::ports::store::Versioned;
use crate::web::extract::Id;
use crate::web::layout::{export_buttons, heading, link, may};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{Datelike, Months, NaiveDate};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeSet;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/ui/stocks", get(page).post(create))
        .route("/ui/stocks/export", get(export_list))
        .route("/ui/stocks/calendar/export", get(export_calendar))
        .route("/ui/stocks/new", get(new_form))
        .route("/ui/stocks/check", post(check_new))
        .route("/ui/stocks/{id}", get(detail))
        .route("/ui/stocks/{id}/export", get(export_schedule))
        .route("/ui/stocks/{id}/schedule", axum::routing::put(amend))
        .route("/ui/stocks/{id}/schedule/check", post(check_amendment))
        .route("/ui/stocks/{id}/final-price", post(final_price))
        .route("/ui/stocks/{id}/withdraw", post(withdraw))
}

/// The schedule's fields, in KRX's order, with what staff call them.
pub const DATE_FIELDS: [(&str, &str); 8] = [
    ("filing", "증권신고서 제출"),
    ("bookbuilding_start", "수요예측 시작"),
    ("bookbuilding_end", "수요예측 마감"),
    ("price_fixing", "공모가 확정"),
    ("subscription_start", "청약 시작"),
    ("subscription_end", "청약 마감"),
    ("payment", "납입"),
    ("listing", "상장"),
];

fn field_label(field: &str) -> &str {
    DATE_FIELDS.iter().find(|(f, _)| *f == field).map_or(field, |(_, l)| *l)
}

fn date_of(d: &ScheduleDates, field: &str) -> Option<NaiveDate> {
    Some(match field {
        "filing" => d.filing,
        "bookbuilding_start" => d.bookbuilding_start,
        "bookbuilding_end" => d.bookbuilding_end,
        "price_fixing" => d.price_fixing,
        "subscription_start" => d.subscription_start,
        "subscription_end" => d.subscription_end,
        "payment" => d.payment,
        "listing" => d.listing,
        _ => return None,
    })
}

/// A warning as staff read it.
pub fn warning_text(w: &StockWarning) -> String {
    match w {
        StockWarning::ShortBookbuilding { business_days } => {
            format!("수요예측 기간이 영업일 {business_days}일입니다 (스팩이 아니면 5영업일 이상).")
        }
        StockWarning::UnusualPaymentDate { expected, actual } => {
            format!("납입일 {}: 보통 청약 마감 2영업일 뒤인 {}입니다.", date_long(*actual), date_long(*expected))
        }
        StockWarning::NotABusinessDay { field, date } => {
            format!("{} {}은(는) 거래소 영업일이 아닙니다.", field_label(field), date_long(*date))
        }
        StockWarning::HolidaysUnknown { year } => {
            format!("{year}년 휴장일 목록이 없어 주말만 확인했습니다.")
        }
        StockWarning::FinalPriceOffGrid { price, tick } => {
            format!("확정 공모가 {price}이(가) 호가 단위({tick}원)에 맞지 않습니다.")
        }
        StockWarning::FinalPriceOutsideBand { price, low, high } => {
            format!("확정 공모가 {price}이(가) 희망 공모가 밴드({low}~{high}) 밖입니다.")
        }
    }
}

/// KRX's order broken: one sentence per rule, each naming both dates.
fn order_errors(e: &StockError) -> Vec<String> {
    match e {
        StockError::ScheduleOutOfOrder(violations) => violations
            .iter()
            .map(|v| {
                let rel = if v.strict { "보다 앞서야" } else { "과 같거나 앞서야" };
                format!(
                    "{} ({})은(는) {} ({}){rel} 합니다.",
                    field_label(v.earlier),
                    date_long(v.earlier_date),
                    field_label(v.later),
                    date_long(v.later_date)
                )
            })
            .collect(),
        other => vec![other.to_string()],
    }
}

fn warnings_box(warnings: &[String], testid: &str) -> Markup {
    html! {
        @if warnings.is_empty() {
            p.flash data-testid={ (testid) "-none" } { "경고 없음: 일정이 거래소 규칙에 맞습니다." }
        } @else {
            div.warnings data-testid=(testid) {
                strong { "경고 " (warnings.len()) "건 (저장은 됩니다)" }
                ul { @for w in warnings { li data-testid="warning" { (w) } } }
            }
        }
    }
}

fn errors_box(errors: &[String]) -> Markup {
    html! {
        div.flash.error role="alert" data-testid="schedule-errors" {
            strong { "일정 순서가 맞지 않아 저장할 수 없습니다" }
            ul { @for e in errors { li { (e) } } }
        }
    }
}

/// One date of an offering on the calendar.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Event {
    pub date: NaiveDate,
    pub stock: String,
    pub stock_id: StockId,
    pub what: String,
    /// For the colour: `bb`, `price`, `sub`, `pay`, `list`, `lockup`.
    pub kind: &'static str,
}

/// Every schedule date of an active offering: each business day of book-building and of
/// subscription, price fixing, payment, listing, and the first sale date of each lock-up.
pub fn events(stock: &Stock) -> Vec<Event> {
    let cal = KrxCalendar::builtin();
    let d = stock.schedule().dates();
    let mut out = Vec::new();
    let mut push = |date: NaiveDate, what: String, kind: &'static str| {
        out.push(Event { date, stock: stock.name.to_string(), stock_id: stock.id.clone(), what, kind });
    };
    let mut span = |start: NaiveDate, end: NaiveDate, name: &str, kind: &'static str| {
        let days: Vec<NaiveDate> =
            start.iter_days().take_while(|day| *day <= end).filter(|day| cal.is_business_day(*day)).collect();
        let n = days.len();
        for (i, day) in days.into_iter().enumerate() {
            let what = match (i, n) {
                (_, 1) => name.to_owned(),
                (0, _) => format!("{name} 시작"),
                (i, n) if i + 1 == n => format!("{name} 마감"),
                (i, n) => format!("{name} {}/{n}일차", i + 1),
            };
            push(day, what, kind);
        }
    };
    span(d.bookbuilding_start, d.bookbuilding_end, "수요예측", "bb");
    span(d.subscription_start, d.subscription_end, "청약", "sub");
    push(d.price_fixing, "공모가 확정".into(), "price");
    push(d.payment, "납입".into(), "pay");
    push(d.listing, "상장".into(), "list");
    for lockup in [LockUp::Days15, LockUp::Months1, LockUp::Months3, LockUp::Months6] {
        // A listing outside the dated release rules has no release date to show.
        if let Ok(date) = Regulation::builtin().first_sale_date(lockup, d.listing, cal) {
            push(date, format!("{} 확약 해제", lockup.korean()), "lockup");
        }
    }
    out.sort();
    out
}

async fn all_stocks(state: &WebState) -> Result<Vec<Versioned<Stock>>, WebError> {
    let app = &state.app;
    Ok(all_pages(|page| async move { app.store.list_stocks(&page).await }).await?)
}

#[derive(Debug, Default, Deserialize)]
struct MonthQuery {
    /// `2026-03`.
    month: Option<String>,
    format: Option<String>,
}

fn month_of(q: &MonthQuery, today: NaiveDate) -> Result<NaiveDate, WebError> {
    match q.month.as_deref() {
        None | Some("") => Ok(today.with_day(1).unwrap_or(today)),
        Some(m) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
            .map_err(|_| WebError::bad_request(format!("month: {m:?}는 2026-03 같은 형식이어야 합니다"))),
    }
}

fn month_key(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

async fn page(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Viewer>,
    Query(q): Query<MonthQuery>,
) -> Result<Markup, WebError> {
    render(&state, &caller, &q, None).await
}

/// The page, with `panel` open (what a create left to read).
async fn render(
    state: &WebState,
    caller: &Principal,
    q: &MonthQuery,
    panel: Option<Markup>,
) -> Result<Markup, WebError> {
    let today = kst_date(state.app.clock.now());
    let month = month_of(q, today)?;
    let stocks = all_stocks(state).await?;
    let active: Vec<&Stock> = stocks.iter().map(|s| &s.value).filter(|s| s.status() == StockStatus::Active).collect();
    let all_events: Vec<Event> = active.iter().flat_map(|s| events(s)).collect();
    let months: BTreeSet<String> = all_events.iter().map(|e| month_key(e.date)).collect();
    let in_month: Vec<&Event> = all_events.iter().filter(|e| month_key(e.date) == month_key(month)).collect();
    let advisor = may(caller.role, Role::Advisor);
    let prev = month.checked_sub_months(Months::new(1)).unwrap_or(month);
    let next = month.checked_add_months(Months::new(1)).unwrap_or(month);
    Ok(html! {
        (heading("종목"))
        div.toolbar {
            @if advisor {
                button.primary type="button" hx-get="/ui/stocks/new" hx-target="#stock-panel"
                    data-testid="open-new-stock" id="open-new-stock" { "종목 등록" }
            }
        }
        div #stock-panel { @if let Some(panel) = panel { (panel) } }

        h2 #calendar {
            "일정 달력 " span.count { (month.format("%Y년 %m월")) }
            span.spacer {}
            (export_buttons(&format!("/ui/stocks/calendar/export?month={}", month_key(month)), "export-calendar"))
        }
        div.toolbar.months {
            (link(&format!("/stocks?month={}", month_key(prev)), html! { "◀ 이전 달" }, "month-prev"))
            (link(&format!("/stocks?month={}", month_key(today)), html! { "이번 달" }, "month-today"))
            (link(&format!("/stocks?month={}", month_key(next)), html! { "다음 달 ▶" }, "month-next"))
            @if !months.is_empty() {
                span.muted { "일정 있는 달:" }
                @for m in &months {
                    (link(&format!("/stocks?month={m}"), html! { (m) }, &format!("month-{m}")))
                }
            }
        }
        (calendar(month, today, &in_month))

        h2 { "종목 목록" span.count { (stocks.len()) "개" } span.spacer {} (export_buttons("/ui/stocks/export", "export-stocks")) }
        div.table-wrap {
            table.nowrap data-testid="stocks-table" {
                thead { tr {
                    th { "종목" } th.hide-narrow { "시장" } th.hide-narrow { "주관사" } th { "희망 공모가" } th { "확정 공모가" }
                    th { "수요예측" } th { "청약" } th { "상장" } th { "상태" } th { "경고" }
                } }
                tbody {
                    @for s in &stocks {
                        @let st = &s.value;
                        @let d = st.schedule().dates();
                        @let warnings = st.warnings(KrxCalendar::builtin(), Regulation::builtin());
                        tr data-testid="stock-row" data-stock=(st.id) .withdrawn[st.status() == StockStatus::Withdrawn] {
                            td { (link(&format!("/stocks/{}", st.id), html! { (st.name) }, "stock-link")) }
                            td.hide-narrow { (st.market) }
                            td.hide-narrow { (st.lead_manager) }
                            td.num { (band_text(st.band())) }
                            td.num { @if let Some(p) = st.final_price() { (p) } @else { "-" } }
                            td { (date_short(d.bookbuilding_start)) "~" (date_short(d.bookbuilding_end)) }
                            td { (date_short(d.subscription_start)) "~" (date_short(d.subscription_end)) }
                            td { (date_short(d.listing)) }
                            td { (status_badge(st.status())) }
                            td.num { @if warnings.is_empty() { "-" } @else { span.badge.warn title=(warnings.iter().map(warning_text).collect::<Vec<_>>().join("\n")) { (warnings.len()) "건" } } }
                        }
                    }
                }
            }
        }
        @if stocks.is_empty() { p.empty { "등록된 종목이 없습니다." } }
    })
}

fn band_text(b: PriceBand) -> String {
    if b.low() == b.high() { b.low().to_string() } else { format!("{}~{}", b.low(), b.high()) }
}

fn status_badge(s: StockStatus) -> Markup {
    match s {
        StockStatus::Active => html! { span.badge.s-confirmed data-status="active" { "진행" } },
        StockStatus::Withdrawn => html! { span.badge.s-failed data-status="withdrawn" { "철회" } },
    }
}

/// The month as a grid of weeks from Monday; on a phone (CSS) the days with events as a list.
fn calendar(month: NaiveDate, today: NaiveDate, events: &[&Event]) -> Markup {
    let cal = KrxCalendar::builtin();
    let first = month;
    let lead = first.weekday().num_days_from_monday();
    let start = first - chrono::Days::new(u64::from(lead));
    let next_month = month.checked_add_months(Months::new(1)).unwrap_or(month);
    let mut weeks: Vec<Vec<NaiveDate>> = Vec::new();
    let mut day = start;
    while day < next_month || weeks.last().is_some_and(|w| w.len() < 7) {
        if weeks.last().is_none_or(|w| w.len() == 7) {
            weeks.push(Vec::new());
        }
        if let Some(w) = weeks.last_mut() {
            w.push(day);
        }
        day = day.succ_opt().unwrap_or(day);
        if weeks.len() > 6 {
            break;
        }
    }
    html! {
        div.table-wrap {
            table.calendar data-testid="calendar" data-month=(month_key(month)) {
                thead { tr { @for w in ["월", "화", "수", "목", "금", "토", "일"] { th { (w) } } } }
                tbody {
                    @for week in &weeks {
                        tr {
                            @for d in week {
                                @let todays: Vec<&&Event> = events.iter().filter(|e| e.date == *d).collect();
                                @let holiday = cal.holiday_name(*d);
                                td.other[d.month() != month.month()] .closed[!cal.is_business_day(*d)] .today[*d == today]
                                    .has-events[!todays.is_empty()]
                                    data-date=(d) data-testid="calendar-day" {
                                    div.day { span.dnum { (d.day()) } span.dlong { (date_long(*d)) } @if let Some(h) = holiday { " " span.holiday { (h) } } }
                                    @for e in &todays {
                                        div class={ "ev ev-" (e.kind) } data-testid="calendar-event" data-stock=(e.stock_id) {
                                            (e.stock) " " strong { (e.what) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if events.is_empty() { p.empty data-testid="calendar-empty" { "이 달에는 일정이 없습니다." } }
    }
}

async fn export_list(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<MonthQuery>,
) -> Result<Response, WebError> {
    let stocks = all_stocks(&state).await?;
    let mut t = Table::new(
        "종목",
        &[
            "종목 ID",
            "종목",
            "종목코드",
            "시장",
            "주관사",
            "밴드 하단",
            "밴드 상단",
            "확정 공모가",
            "증권신고서",
            "수요예측 시작",
            "수요예측 마감",
            "공모가 확정",
            "청약 시작",
            "청약 마감",
            "납입",
            "상장",
            "스팩",
            "상태",
            "경고",
        ],
    );
    for s in &stocks {
        let st = &s.value;
        let d = st.schedule().dates();
        let won = |p: Price| Cell::Won(i64::try_from(p.get()).unwrap_or(i64::MAX));
        let warnings = st.warnings(KrxCalendar::builtin(), Regulation::builtin());
        t.push(vec![
            Cell::text(st.id.as_str()),
            Cell::text(st.name.as_str()),
            st.code.as_ref().map_or(Cell::Empty, |c| Cell::text(c.as_str())),
            Cell::text(st.market.to_string()),
            Cell::text(st.lead_manager.as_str()),
            won(st.band().low()),
            won(st.band().high()),
            st.final_price().map_or(Cell::Empty, won),
            Cell::Date(d.filing),
            Cell::Date(d.bookbuilding_start),
            Cell::Date(d.bookbuilding_end),
            Cell::Date(d.price_fixing),
            Cell::Date(d.subscription_start),
            Cell::Date(d.subscription_end),
            Cell::Date(d.payment),
            Cell::Date(d.listing),
            Cell::text(if st.spac { "예" } else { "아니오" }),
            Cell::text(match st.status() {
                StockStatus::Active => "진행",
                StockStatus::Withdrawn => "철회",
            }),
            Cell::text(warnings.iter().map(warning_text).collect::<Vec<_>>().join(" ")),
        ]);
    }
    export(&t, q.format.as_deref(), "stocks")
}

async fn export_calendar(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<MonthQuery>,
) -> Result<Response, WebError> {
    let month = month_of(&q, kst_date(state.app.clock.now()))?;
    let stocks = all_stocks(&state).await?;
    let mut t = Table::new(format!("일정 {}", month_key(month)), &["날짜", "종목", "일정"]);
    for s in stocks.iter().filter(|s| s.value.status() == StockStatus::Active) {
        for e in events(&s.value).into_iter().filter(|e| month_key(e.date) == month_key(month)) {
            t.push(vec![Cell::Date(e.date), Cell::text(e.stock), Cell::text(e.what)]);
        }
    }
    t.rows.sort_by(|a, b| a.first().map(Cell::plain).cmp(&b.first().map(Cell::plain)));
    export(&t, q.format.as_deref(), &format!("calendar-{}", month_key(month)))
}

/// The date inputs of a schedule, filled from `dates` when there are some.
fn date_inputs(prefix: &str, dates: Option<&ScheduleDates>) -> Markup {
    html! {
        div.form-grid {
            @for (field, label) in DATE_FIELDS {
                @let id = format!("{prefix}-{field}");
                label for=(id) { (label)
                    input type="date" name=(field) id=(id) data-testid=(id) required
                        value=[dates.and_then(|d| date_of(d, field)).map(|d| d.to_string())];
                }
            }
        }
    }
}

async fn new_form(_: Authorized<Advisor>) -> Markup {
    let markets = vec![("KOSDAQ".to_owned(), "KOSDAQ".to_owned()), ("KOSPI".to_owned(), "KOSPI".to_owned())];
    html! {
        div.card.panel data-testid="new-stock" {
            h3 { "종목 등록" }
            form.stack #new-stock-form hx-post="/ui/stocks" hx-target="#main" {
                div.form-grid {
                    label for="stock-name" { "종목명" input #stock-name name="name" data-testid="stock-name" required placeholder="(가상)예시바이오"; }
                    label for="stock-id" { "종목 ID (비우면 자동)" input #stock-id name="id" data-testid="stock-id" pattern="[A-Za-z0-9_-]{1,56}"; }
                    label for="stock-code" { "종목코드" input #stock-code name="code" data-testid="stock-code" placeholder="6자리"; }
                    label for="stock-market" { "시장" (select("market", "stock-market", &markets, None)) }
                    label for="stock-lead" { "주관사" input #stock-lead name="lead_manager" data-testid="stock-lead" required; }
                    label for="stock-low" { "희망 공모가 하단 (원)" input #stock-low name="band_low" data-testid="stock-low" inputmode="numeric" required; }
                    label for="stock-high" { "희망 공모가 상단 (원)" input #stock-high name="band_high" data-testid="stock-high" inputmode="numeric" required; }
                    label.check for="stock-spac" { input #stock-spac type="checkbox" name="spac" value="true" data-testid="stock-spac"; " 스팩" }
                }
                (date_inputs("new", None))
                div #stock-check {}
                div.actions {
                    button type="button" hx-post="/ui/stocks/check" hx-target="#stock-check" data-testid="check-stock" { "경고 확인" }
                    button.primary type="submit" data-testid="create-stock" id="create-stock" { "등록" }
                }
            }
        }
    }
}

fn schedule_from(f: &Fields) -> Result<ScheduleDates, WebError> {
    let date = |field: &str| f.parse::<NaiveDate>(field, field_label(field));
    Ok(ScheduleDates {
        filing: date("filing")?,
        bookbuilding_start: date("bookbuilding_start")?,
        bookbuilding_end: date("bookbuilding_end")?,
        price_fixing: date("price_fixing")?,
        subscription_start: date("subscription_start")?,
        subscription_end: date("subscription_end")?,
        payment: date("payment")?,
        listing: date("listing")?,
    })
}

/// A new stock from the form, checked as the API checks its body.
fn new_stock(f: &Fields) -> Result<Result<Stock, Vec<String>>, WebError> {
    let market = match f.required("market", "시장")? {
        "KOSPI" => Market::Kospi,
        "KOSDAQ" => Market::Kosdaq,
        other => return Err(WebError::bad_request(format!("시장: {other:?}는 KOSPI나 KOSDAQ이어야 합니다"))),
    };
    let low: Price = f.parse("band_low", "희망 공모가 하단")?;
    let high: Price = f.parse("band_high", "희망 공모가 상단")?;
    let band = PriceBand::new(low, high).map_err(|_| WebError::bad_request("희망 공모가: 하단이 상단보다 큽니다"))?;
    let code = match f.get("code") {
        None => None,
        Some(c) => Some(
            c.to_owned()
                .try_into()
                .map_err(|e: crate::domain::stock::StockCodeError| WebError::bad_request(format!("종목코드: {e}")))?,
        ),
    };
    let schedule = match Schedule::new(schedule_from(f)?) {
        Ok(s) => s,
        Err(e) => return Ok(Err(order_errors(&e))),
    };
    Ok(Ok(Stock::new(NewStock {
        id: f.parse_opt::<StockId>("id", "종목 ID")?.unwrap_or_else(StockId::generate),
        name: f.label("name", "종목명")?,
        code,
        market,
        lead_manager: f.label("lead_manager", "주관사")?,
        band,
        schedule,
        spac: f.checked("spac"),
    })))
}

/// The check before creating: KRX's order and the soft rules, nothing saved.
async fn check_new(_: Authorized<Advisor>, f: Fields) -> Result<Markup, WebError> {
    Ok(match new_stock(&f)? {
        Err(errors) => errors_box(&errors),
        Ok(stock) => {
            let warnings: Vec<String> =
                stock.warnings(KrxCalendar::builtin(), Regulation::builtin()).iter().map(warning_text).collect();
            warnings_box(&warnings, "check-warnings")
        }
    })
}

async fn create(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    f: Fields,
) -> Result<Markup, WebError> {
    let stock = match new_stock(&f)? {
        Ok(stock) => stock,
        Err(errors) => return Err(WebError::bad_request(errors.join(" "))),
    };
    let created = state.app.store.create_stock(&stock).await.map_err(write_error)?;
    state
        .app
        .record_audit(&caller.name, "stock.create", created.value.id.as_str(), None, Some(json!(created.value)))
        .await;
    let warnings: Vec<String> =
        created.value.warnings(KrxCalendar::builtin(), Regulation::builtin()).iter().map(warning_text).collect();
    let month = created.value.schedule().dates().bookbuilding_start;
    let q = MonthQuery { month: Some(month_key(month)), format: None };
    let panel = html! {
        div.card data-testid="created-stock" {
            h3 { (link(&format!("/stocks/{}", created.value.id), html! { (created.value.name) }, "created-stock-link")) " 등록됨" }
            (warnings_box(&warnings, "created-warnings"))
        }
    };
    let page = render(&state, &caller, &q, Some(panel)).await?;
    let message = format!("{}을(를) 등록했습니다.", created.value.name);
    Ok(html! { (page) (flash(&message)) })
}

async fn detail(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Viewer>,
    Id(id): Id<StockId>,
) -> Result<Markup, WebError> {
    render_detail(&state, &caller, &id).await
}

/// The stock's dates and its lock-up releases, as shown and downloaded.
fn schedule_table(st: &Stock) -> Table {
    let d = st.schedule().dates();
    let mut schedule = Table::new(format!("{} 일정", st.name), &["일정", "날짜"]);
    for (field, label) in DATE_FIELDS {
        if let Some(date) = date_of(d, field) {
            schedule.push(vec![Cell::text(label), Cell::Date(date)]);
        }
    }
    for lockup in [LockUp::Days15, LockUp::Months1, LockUp::Months3, LockUp::Months6] {
        if let Ok(date) = Regulation::builtin().first_sale_date(lockup, d.listing, KrxCalendar::builtin()) {
            schedule.push(vec![Cell::text(format!("{} 확약 해제 (첫 매도일)", lockup.korean())), Cell::Date(date)]);
        }
    }
    schedule
}

async fn export_schedule(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Id(id): Id<StockId>,
    Query(q): Query<MonthQuery>,
) -> Result<Response, WebError> {
    let stock = state.app.store.get_stock(&id).await?.value;
    export(&schedule_table(&stock), q.format.as_deref(), &format!("schedule-{}", stock.id))
}

async fn processes_of(state: &WebState, id: &StockId) -> Result<Vec<Process>, WebError> {
    let app = &state.app;
    let found = all_pages(|page| async move { app.store.processes_of_stock(id, &page).await }).await?;
    Ok(found.into_iter().map(|p| p.value).collect())
}

async fn render_detail(state: &WebState, caller: &Principal, id: &StockId) -> Result<Markup, WebError> {
    let stored = state.app.store.get_stock(id).await?;
    let st = &stored.value;
    let d = st.schedule().dates();
    let cal = KrxCalendar::builtin();
    let warnings: Vec<String> = st.warnings(cal, Regulation::builtin()).iter().map(warning_text).collect();
    let processes = processes_of(state, id).await?;
    // Its processes' titles name this stock, read above.
    let names = Names { stocks: [(st.id.clone(), st.clone())].into(), ..Names::default() };
    let open: Vec<&Process> = processes.iter().filter(|p| !p.state().is_final()).collect();
    let advisor = may(caller.role, Role::Advisor) && st.status() == StockStatus::Active;
    let today = kst_date(state.app.clock.now());
    let schedule = schedule_table(st);
    Ok(html! {
        (heading(st.name.as_str()))
        p { (link("/stocks", html! { "← 종목 목록" }, "back-stocks")) }
        div.cards {
            div.card data-testid="stock-info" data-stock=(st.id) {
                h3 { (st.name) " " (status_badge(st.status())) }
                dl.facts {
                    dt { "종목 ID" } dd { (st.id) }
                    dt { "종목코드" } dd { @if let Some(c) = &st.code { (c.as_str()) } @else { "-" } }
                    dt { "시장" } dd { (st.market) @if st.spac { " · 스팩" } }
                    dt { "주관사" } dd { (st.lead_manager) }
                    dt { "희망 공모가" } dd { (band_text(st.band())) }
                    dt { "확정 공모가" } dd data-testid="final-price" { @if let Some(p) = st.final_price() { (p) } @else { "미정" } }
                    dt { "버전" } dd { (stored.version) }
                }
            }
            div.card { h3 { "경고" } (warnings_box(&warnings, "stock-warnings")) }
        }
        h2 { "일정" span.spacer {} (export_buttons(&format!("/ui/stocks/{}/export", st.id), "export-schedule")) }
        (table(&schedule, "schedule-table"))
        h2 { "프로세스" span.count { (processes.len()) "건" } }
        @if processes.is_empty() { p.empty { "이 종목의 프로세스가 없습니다." } } @else {
            ul.plain {
                @for p in &processes {
                    li { (link(&format!("/processes/{}", p.id), html! { (names.process_title(p)) }, "stock-process")) " "
                        span.badge { (fmt::process_state(p.state())) } " " span.muted { (fmt::kst_short(p.kickoff_at)) } }
                }
            }
        }
        (super::stock_result::section(&st.id, caller.role))
        @if advisor {
            h2 { "공모가 확정" }
            @if today <= d.bookbuilding_end {
                p.muted { "수요예측이 " (date_long(d.bookbuilding_end)) "에 끝난 뒤에 확정할 수 있습니다." }
            } @else {
                form.toolbar hx-post={ "/ui/stocks/" (st.id) "/final-price" } hx-target="#main" data-testid="final-price-form" {
                    input type="hidden" name="version" value=(stored.version);
                    label for="final-price-input" { "확정 공모가 (원)" }
                    input #final-price-input name="price" inputmode="numeric" required data-testid="final-price-input"
                        value=[st.final_price().map(|p| p.get().to_string())];
                    button.primary type="submit" data-testid="set-final-price" { "확정" }
                }
            }
            h2 { "정정 (일정 변경)" }
            form.stack.card #amend-form hx-put={ "/ui/stocks/" (st.id) "/schedule" } hx-target="#main"
                hx-confirm="정정한 일정을 저장할까요? 아직 시작하지 않은 프로세스의 시작 시각도 함께 옮겨집니다." {
                input type="hidden" name="version" value=(stored.version);
                (date_inputs("amend", Some(d)))
                div #amend-check {}
                div.actions {
                    // The form's confirm is for saving; a check saves nothing.
                    button type="button" hx-post={ "/ui/stocks/" (st.id) "/schedule/check" } hx-target="#amend-check" hx-confirm="unset"
                        data-testid="check-amend" { "경고 확인" }
                    button.primary type="submit" data-testid="apply-amend" { "정정 저장" }
                }
            }
            h2 { "철회" }
            div.card.danger-zone data-testid="withdraw-zone" {
                p { "철회하면 이 종목의 끝나지 않은 프로세스 " strong { (open.len()) "건" } "이 모두 취소되고, 자문을 받은 고객사에 철회 안내가 갑니다. 되돌릴 수 없습니다." }
                @if !open.is_empty() {
                    ul { @for p in &open { li { (names.process_title(p)) " · " (fmt::process_state(p.state())) } } }
                }
                form hx-post={ "/ui/stocks/" (st.id) "/withdraw" } hx-target="#main"
                    hx-confirm={ (st.name) "을(를) 철회할까요? 프로세스 " (open.len()) "건이 취소됩니다." } {
                    input type="hidden" name="version" value=(stored.version);
                    button.danger type="submit" data-testid="withdraw-stock" { "철회" }
                }
            }
        }
    })
}

/// The amendment's check: KRX's order and the soft rules of the new dates, nothing saved.
async fn check_amendment(
    State(state): State<WebState>,
    _: Authorized<Advisor>,
    Id(id): Id<StockId>,
    f: Fields,
) -> Result<Markup, WebError> {
    let stock = state.app.store.get_stock(&id).await?.value;
    Ok(match Schedule::new(schedule_from(&f)?) {
        Err(e) => errors_box(&order_errors(&e)),
        Ok(schedule) => {
            let warnings: Vec<String> =
                schedule.warnings(KrxCalendar::builtin(), stock.spac).iter().map(warning_text).collect();
            warnings_box(&warnings, "amend-warnings")
        }
    })
}

async fn amend(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(id): Id<StockId>,
    f: Fields,
) -> Result<Markup, WebError> {
    let schedule = Schedule::new(schedule_from(&f)?).map_err(|e| WebError::bad_request(order_errors(&e).join(" ")))?;
    let version = f.version()?;
    let before = state.app.store.get_stock(&id).await.ok().map(|s| json!(s.value));
    let (saved, moved) = state.app.amend_schedule(&id, schedule, version).await.map_err(write_error)?;
    state.app.record_audit(&caller.name, "stock.amend", id.as_str(), before, Some(json!(saved.value))).await;
    after_change(&state, &caller, &saved, &format!("일정을 정정했습니다. 함께 옮겨진 프로세스: {moved}건.")).await
}

async fn final_price(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(id): Id<StockId>,
    f: Fields,
) -> Result<Markup, WebError> {
    let price: Price = f.parse("price", "확정 공모가")?;
    let version = f.version()?;
    let saved = state.app.set_final_price(&id, price, version).await.map_err(write_error)?;
    state.app.record_audit(&caller.name, "stock.final_price", id.as_str(), None, Some(json!(saved.value))).await;
    after_change(&state, &caller, &saved, &format!("확정 공모가를 {price}으로 정했습니다.")).await
}

async fn withdraw(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(id): Id<StockId>,
    f: Fields,
) -> Result<Markup, WebError> {
    let saved = state.app.withdraw_stock(&id, f.version()?).await.map_err(write_error)?;
    state.app.record_audit(&caller.name, "stock.withdraw", id.as_str(), None, Some(json!(saved.value))).await;
    after_change(&state, &caller, &saved, "철회했습니다. 끝나지 않은 프로세스는 취소되었습니다.").await
}

/// The stock's page again, with what was done and the warnings the change left.
async fn after_change(
    state: &WebState,
    caller: &Principal,
    saved: &Versioned<Stock>,
    message: &str,
) -> Result<Markup, WebError> {
    let page = render_detail(state, caller, &saved.value.id).await?;
    let warnings = saved.value.warnings(KrxCalendar::builtin(), Regulation::builtin());
    let message = if warnings.is_empty() {
        message.to_owned()
    } else {
        format!("{message} 경고 {}건이 있습니다.", warnings.len())
    };
    Ok(html! { (page) (flash(&message)) })
}
