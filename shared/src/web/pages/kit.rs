//! What the admin pages (stocks, clients, staff, notices, logs, charts) share: reading a posted
//! form, dates as staff read them, a table drawn from the same [`Table`] its download writes,
//! horizontal bars as inline SVG, and the flash sentence beside a re-rendered page.

use crate::domain::time::Timestamp;
use crate::export::{Cell, Table};
use crate::ports::store::{Page, PageRequest, StoreError};
use crate::web::WebError;
use crate::web::export::{Format, download};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::Response;
use chrono::{Datelike, NaiveDate, TimeDelta};
use maud::{Markup, html};
use std::str::FromStr;

/// A posted form (`application/x-www-form-urlencoded`, as htmx sends one), read as pairs: fields
/// are typed one by one, so an error names the field as the form labels it.
#[derive(Debug, Default, Clone)]
pub struct Fields(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &S) -> Result<Self, WebError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| WebError::bad_request(format!("양식을 읽을 수 없습니다: {e}")))?;
        Ok(Fields(form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()))
    }
}

impl Fields {
    /// The field, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// Every value of a repeated field (checkboxes), blanks left out.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v != "false" && v != "off")
    }

    pub fn required(&self, name: &str, label: &str) -> Result<&str, WebError> {
        self.get(name).ok_or_else(|| WebError::bad_request(format!("{label}: 입력하세요")))
    }

    /// A required field parsed as `T`; the error names the field by its label.
    pub fn parse<T: FromStr>(&self, name: &str, label: &str) -> Result<T, WebError>
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.required(name, label)?;
        raw.parse().map_err(|e: T::Err| WebError::bad_request(format!("{label}: {raw:?}: {e}")))
    }

    /// An optional field parsed as `T`.
    pub fn parse_opt<T: FromStr>(&self, name: &str, label: &str) -> Result<Option<T>, WebError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(None),
            Some(_) => self.parse(name, label).map(Some),
        }
    }

    /// A required one-line text (a name, a title).
    pub fn label(&self, name: &str, label: &str) -> Result<crate::domain::text::Label, WebError> {
        crate::domain::text::Label::new(self.required(name, label)?)
            .map_err(|e| WebError::bad_request(format!("{label}: {e}")))
    }

    /// The record's version the form was drawn from.
    pub fn version(&self) -> Result<u64, WebError> {
        self.parse("version", "버전")
    }
}

/// A write's error as staff read it on these pages: a record someone else changed since the form
/// was drawn, or an id already taken, in Korean with what to do; anything else as the API says it.
pub fn write_error(e: impl Into<crate::app::AppError>) -> WebError {
    use crate::app::AppError;
    let conflict = |detail: String| WebError { status: axum::http::StatusCode::CONFLICT, detail };
    match e.into() {
        AppError::Store(StoreError::Conflict { .. }) => {
            conflict("다른 사람이 먼저 바꿨습니다. 페이지를 새로 불러와 확인한 뒤 다시 하세요.".into())
        }
        AppError::Store(StoreError::AlreadyExists { id, .. }) => {
            conflict(format!("ID {id}는 이미 있습니다. 다른 ID를 쓰거나 비워 두세요."))
        }
        other => other.into(),
    }
}

const WEEKDAYS: [&str; 7] = ["월", "화", "수", "목", "금", "토", "일"];

pub fn weekday(d: NaiveDate) -> &'static str {
    WEEKDAYS.get(d.weekday().num_days_from_monday() as usize).copied().unwrap_or("")
}

/// `03-16 (월)`.
pub fn date_short(d: NaiveDate) -> String {
    format!("{} ({})", d.format("%m-%d"), weekday(d))
}

/// `2026-03-16 (월)`.
pub fn date_long(d: NaiveDate) -> String {
    format!("{} ({})", d.format("%Y-%m-%d"), weekday(d))
}

/// How a cell reads on the page: amounts as `17,000원`, counts grouped, dates with the weekday.
pub fn shown(cell: &Cell) -> String {
    use crate::domain::money::group_thousands;
    match cell {
        Cell::Won(w) if *w < 0 => format!("-{}원", group_thousands(w.unsigned_abs())),
        Cell::Won(w) => format!("{}원", group_thousands(w.unsigned_abs())),
        Cell::Count(n) => group_thousands(*n),
        Cell::Date(d) => date_long(*d),
        other => other.plain(),
    }
}

/// A table as the page shows it, cell for cell what its download holds.
pub fn table(t: &Table, testid: &str) -> Markup {
    html! {
        div.table-wrap {
            table data-testid=(testid) {
                thead { tr { @for (i, c) in t.columns.iter().enumerate() { th.num[numeric_column(t, i)] { (c) } } } }
                tbody {
                    @for row in &t.rows {
                        tr data-testid={ (testid) "-row" } {
                            @for cell in row {
                                @let numeric = matches!(cell, Cell::Won(_) | Cell::Count(_) | Cell::Percent(_));
                                td.num[numeric] { (shown(cell)) }
                            }
                        }
                    }
                }
            }
        }
        @if t.rows.is_empty() { p.empty { "표시할 내용이 없습니다." } }
    }
}

/// Whether a column holds numbers (its heading is then aligned with them).
fn numeric_column(t: &Table, i: usize) -> bool {
    t.rows.iter().any(|r| matches!(r.get(i), Some(Cell::Won(_) | Cell::Count(_) | Cell::Percent(_))))
}

/// Answers a download of `table` in the format asked.
pub fn export(table: &Table, format: Option<&str>, name: &str) -> Result<Response, WebError> {
    download(table, Format::parse(format)?, name)
}

/// One bar of a bar chart.
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// What the bar's end says (`12분`, `3건`).
    pub text: String,
}

/// Horizontal bars as inline SVG (no chart library, no script): one row per bar, scaled to the
/// largest. The numbers are also in the table beside it, for those who would rather read.
pub fn bars(bars: &[Bar], testid: &str, aria: &str) -> Markup {
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let row = 30.0;
    let height = row * bars.len().max(1) as f64 + 4.0;
    html! {
        svg.chart.bars role="img" aria-label=(aria) data-testid=(testid)
            viewBox={ "0 0 480 " (format!("{height:.0}")) } preserveAspectRatio="xMinYMin meet" {
            @for (i, b) in bars.iter().enumerate() {
                @let y = row * i as f64 + 4.0;
                @let width = if max > 0.0 { b.value / max * 200.0 } else { 0.0 };
                g data-testid={ (testid) "-bar" } {
                    text.label x="0" y=(format!("{:.1}", y + 16.0)) { (truncate(&b.label, 10)) }
                    rect x="150" y=(format!("{y:.1}")) width=(format!("{:.1}", width.max(1.0))) height="20" rx="3" {
                        title { (b.label) ": " (b.text) }
                    }
                    text.value x=(format!("{:.1}", 156.0 + width)) y=(format!("{:.1}", y + 16.0)) { (b.text) }
                }
            }
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_owned() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

/// Telegram HTML as the text a client reads (tags dropped, entities read back).
pub fn telegram_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
}

/// A `<select>` of `options` (`value`, `label`), `current` selected.
pub fn select(name: &str, id: &str, options: &[(String, String)], current: Option<&str>) -> Markup {
    html! {
        select name=(name) id=(id) data-testid=(id) {
            @for (value, label) in options {
                option value=(value) selected[current == Some(value.as_str())] { (label) }
            }
        }
    }
}

/// The windows a log is read back over from its newest end, widening until a page is full: the
/// logs are kept oldest first by time, and staff read them newest first.
const LOOKBACK_DAYS: [i64; 5] = [1, 7, 30, 120, 400];

/// A log's newest entries before `before`: at least `n` when there are (entries at the same time
/// as the last one shown come along, so the next page, before that time, misses none), newest
/// first, and the time the next page reads before when there may be more.
pub async fn newest_first<T, F, Fut>(
    before: Timestamp,
    n: usize,
    at: impl Fn(&T) -> Timestamp,
    mut read: F,
) -> Result<(Vec<T>, Option<Timestamp>), StoreError>
where
    F: FnMut(Timestamp, Timestamp, PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    let mut found = Vec::new();
    for days in LOOKBACK_DAYS {
        let from = before - TimeDelta::days(days);
        found.clear();
        let mut request = PageRequest::first(100);
        loop {
            let page = read(from, before, request).await?;
            found.extend(page.items);
            match page.next {
                Some(cursor) => request = PageRequest::after(100, cursor),
                None => break,
            }
        }
        if found.len() >= n {
            break;
        }
    }
    found.sort_by_key(|t| std::cmp::Reverse(at(t)));
    let Some(last) = found.get(n.saturating_sub(1)).map(&at) else { return Ok((found, None)) };
    let keep = found.iter().take_while(|t| at(t) >= last).count();
    let more = found.len() > keep;
    found.truncate(keep);
    Ok((found, more.then_some(last)))
}

/// `before` from a query (RFC 3339), or just after now.
pub fn before_or_now(before: Option<&str>, now: Timestamp) -> Result<Timestamp, WebError> {
    match before.filter(|b| !b.is_empty()) {
        None => Ok(now + TimeDelta::minutes(1)),
        Some(b) => chrono::DateTime::parse_from_rfc3339(b)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| WebError::bad_request(format!("before: {b:?}는 RFC 3339 시각이 아닙니다"))),
    }
}

/// `?before=` for a link (its `+` escaped).
pub fn before_query(t: Timestamp) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("before", &t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    q.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log kept oldest first, read back newest first a page at a time: every entry once, ties
    /// at a page's end kept together, nothing older than the widest window.
    #[tokio::test]
    async fn logs_read_back_newest_first_without_gaps() {
        let base = chrono::DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z").map(|t| t.to_utc()).unwrap_or_default();
        // Minutes back from base: two entries share minute 30; one is a year and more old.
        let log: Vec<Timestamp> =
            [600_000, 3_000, 90, 30, 30, 10, 1].iter().map(|m| base - TimeDelta::minutes(*m)).collect();
        let read = |from: Timestamp, until: Timestamp, page: PageRequest| {
            let items: Vec<Timestamp> = log.iter().copied().filter(|t| *t >= from && *t < until).collect();
            // Two at a time, as a store's pages would come.
            let start: usize = page.cursor.as_ref().and_then(|c| c.0.parse().ok()).unwrap_or(0);
            let next = (start + 2 < items.len()).then(|| crate::ports::store::Cursor((start + 2).to_string()));
            let items = items.into_iter().skip(start).take(2).collect();
            async move { Ok::<_, StoreError>(Page { items, next }) }
        };
        let (first, more) = newest_first(base, 3, |t: &Timestamp| *t, read).await.unwrap_or_default();
        let minutes = |ts: &[Timestamp]| ts.iter().map(|t| (base - *t).num_minutes()).collect::<Vec<_>>();
        assert_eq!(minutes(&first), [1, 10, 30, 30], "the tie at minute 30 comes along");
        let before = more.unwrap_or(base);
        let (second, more) = newest_first(before, 3, |t: &Timestamp| *t, read).await.unwrap_or_default();
        assert_eq!(minutes(&second), [90, 3_000]);
        assert_eq!(more, None, "nothing more within the widest window");
    }

    #[test]
    fn fields_read_as_typed_and_name_the_field() {
        let f = Fields(vec![("price".into(), " 17,000 ".into()), ("blank".into(), " ".into())]);
        assert_eq!(f.parse::<crate::domain::money::Price>("price", "가격").map(|p| p.get()).ok(), Some(17_000));
        assert!(f.get("blank").is_none());
        let missing = f.required("name", "종목명").err().map(|e| e.detail);
        assert_eq!(missing.as_deref(), Some("종목명: 입력하세요"));
        assert_eq!(date_short(NaiveDate::from_ymd_opt(2026, 3, 16).unwrap_or_default()), "03-16 (월)");
        assert_eq!(shown(&Cell::Won(17_000)), "17,000원");
    }
}
