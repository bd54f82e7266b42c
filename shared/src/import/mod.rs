//! Advice import: the advisors' opinions on one stock, loaded from their Excel workbook (sheets
//! `firstDay` and `lastDay`), from a CSV file with the same header, or from JSON rows posted to the
//! staff API.
//!
//! Reading ([`read_xlsx`], [`read_csv`], [`rows_from_json`]) only finds the rows and their raw text;
//! [`review`] then judges every row against the client list and the domain rules, purely, and says
//! per row what would be imported, what is refused and why, and what was marked not to be sent.

mod csv;
mod json;
mod review;
mod sell;
mod xlsx;

pub use self::csv::{read_csv, read_csv_rows};
pub use self::json::{SELL_FIELDS, rows_from_json, rows_from_json_of};
pub use self::review::{Bands, ImportReport, MAX_COMMENT_CHARS, RowOutcome, RowReport, review};
pub use self::sell::{SellDay, SellReport, describe, review_sell};
pub use self::xlsx::{read_xlsx, read_xlsx_first, read_xlsx_rows};

use serde::Serialize;
use std::fmt;

/// The most data rows one import may hold (a busy IPO has a few hundred fund accounts).
pub const MAX_ROWS: usize = 2_000;
/// The largest file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// Where a row came from, as the user would find it: the sheet (or `csv`, `json`) and the 1-based
/// row number. In a workbook it is the row number Excel shows; in a CSV the line the record starts
/// on (the header being line 1); in JSON the item's position in the array, from 1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RowSource {
    pub sheet: String,
    pub row: u32,
}

impl RowSource {
    pub fn new(sheet: impl Into<String>, row: u32) -> Self {
        RowSource { sheet: sheet.into(), row }
    }
}

impl fmt::Display for RowSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} row {}", self.sheet, self.row)
    }
}

/// Which columns a sheet has: book-building advice (참여가격, 참여수량, 확약여부) or a sell plan
/// (매도수량, 주문유형, 지정가, 조건). The client, fund, comment and send columns are common.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RowKind {
    #[default]
    Bid,
    Sell,
}

/// One row as written, before anything is checked. Blank cells are `None` (or an empty string for
/// the client and the comment); text is trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawRow {
    pub source: RowSource,
    /// 기관명: the client's name, possibly followed by a fund's name.
    pub client: String,
    /// 펀드.
    pub fund: Option<String>,
    /// 참여가격; in a sell plan 지정가, the limit price.
    pub price: Option<String>,
    /// 참여수량; in a sell plan 매도수량, shares or a percentage (`50%`).
    pub quantity: Option<String>,
    /// 확약여부 (book-building only).
    pub lockup: Option<String>,
    /// 주문유형: 시가, 시장가 or 지정가 (sell plans only).
    pub order: Option<String>,
    /// 조건: when the order applies, as the advisor wrote it (sell plans only).
    pub condition: Option<String>,
    /// 코멘트.
    pub comment: String,
    /// 발송: blank means send.
    pub send: Option<String>,
}

/// Why a file or a request could not be read into rows at all. Problems with single rows are not
/// errors: [`review`] reports them row by row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportError {
    #[error("the file is not an Excel workbook (.xlsx): {reason}")]
    NotXlsx { reason: String },
    #[error("the workbook could not be read: {reason}")]
    UnreadableXlsx { reason: String },
    #[error("the workbook has no sheet {wanted:?}; its sheets are: {}", present.join(", "))]
    SheetMissing { wanted: String, present: Vec<String> },
    #[error("{sheet}: the header row (row {header_row}) has no column {}", quoted(missing))]
    HeaderMissing { sheet: String, header_row: u32, missing: Vec<String> },
    #[error(
        "the CSV file is not UTF-8 (the first invalid byte is on line {line}): in Excel, save it as \"CSV UTF-8 (쉼표로 분리)\""
    )]
    NotUtf8 { line: u32 },
    #[error("the CSV file could not be read: {reason}")]
    InvalidCsv { reason: String },
    #[error("the JSON rows are not valid: {reason}")]
    InvalidJson { reason: String },
    #[error("more than {limit} rows: split the file")]
    TooManyRows { limit: usize },
    #[error("the file has {size} bytes; at most {limit} are accepted")]
    FileTooLarge { size: usize, limit: usize },
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}

/// The columns of the header row, by the names the firm's workbook uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Client,
    Fund,
    Price,
    Quantity,
    LockUp,
    Comment,
    Send,
    Order,
    Condition,
}

impl Column {
    const ALL: [Column; 9] = [
        Column::Client,
        Column::Fund,
        Column::Price,
        Column::Quantity,
        Column::LockUp,
        Column::Comment,
        Column::Send,
        Column::Order,
        Column::Condition,
    ];

    /// The name written in the header for this kind of sheet; the first is the canonical one.
    /// Empty when the kind has no such column.
    fn names(self, kind: RowKind) -> &'static [&'static str] {
        match (self, kind) {
            (Column::Client, _) => &["기관명"],
            (Column::Fund, _) => &["펀드", "펀드명"],
            (Column::Comment, _) => &["코멘트"],
            (Column::Send, _) => &["발송", "발송여부"],
            (Column::Price, RowKind::Bid) => &["참여가격"],
            (Column::Quantity, RowKind::Bid) => &["참여수량"],
            (Column::LockUp, RowKind::Bid) => &["확약여부", "확약"],
            (Column::Order | Column::Condition, RowKind::Bid) => &[],
            (Column::Price, RowKind::Sell) => &["지정가", "지정가격", "매도가격"],
            (Column::Quantity, RowKind::Sell) => &["매도수량", "수량"],
            (Column::Order, RowKind::Sell) => &["주문유형", "주문", "매도방법"],
            (Column::Condition, RowKind::Sell) => &["조건"],
            (Column::LockUp, RowKind::Sell) => &[],
        }
    }

    fn required(self, kind: RowKind) -> bool {
        match kind {
            RowKind::Bid => !matches!(self, Column::Fund | Column::Order | Column::Condition),
            // A market order has no limit price, and most orders no condition.
            RowKind::Sell => matches!(self, Column::Client | Column::Quantity | Column::Order),
        }
    }

    fn matches(self, kind: RowKind, header: &str) -> bool {
        let squashed: String = header.chars().filter(|c| !c.is_whitespace() && *c != '\u{feff}').collect();
        self.names(kind).contains(&squashed.as_str())
    }
}

/// Where each known column sits in a header row (0-based positions); other columns are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layout {
    positions: [Option<usize>; 9],
}

impl Layout {
    /// Reads a header row given as (position, text) cells. `Err` names the missing required columns.
    fn from_header<'a>(
        kind: RowKind,
        cells: impl IntoIterator<Item = (usize, &'a str)>,
    ) -> Result<Layout, Vec<String>> {
        let mut positions = [None; 9];
        for (pos, text) in cells {
            for (i, col) in Column::ALL.iter().enumerate() {
                if positions[i].is_none() && col.matches(kind, text) {
                    positions[i] = Some(pos);
                }
            }
        }
        let missing: Vec<String> = Column::ALL
            .iter()
            .zip(positions)
            .filter(|(col, pos)| col.required(kind) && pos.is_none())
            .map(|(col, _)| col.names(kind)[0].to_owned())
            .collect();
        if missing.is_empty() { Ok(Layout { positions }) } else { Err(missing) }
    }

    fn has_client_column<'a>(cells: impl IntoIterator<Item = (usize, &'a str)>) -> bool {
        cells.into_iter().any(|(_, text)| Column::Client.matches(RowKind::Bid, text))
    }

    /// The row's fields, or `None` when every known column is blank.
    fn row(&self, source: RowSource, cell: impl Fn(usize) -> Option<String>) -> Option<RawRow> {
        let get = |col: Column| {
            let i = Column::ALL.iter().position(|c| *c == col)?;
            self.positions[i].and_then(&cell).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
        };
        let row = RawRow {
            source,
            client: get(Column::Client).unwrap_or_default(),
            fund: get(Column::Fund),
            price: get(Column::Price),
            quantity: get(Column::Quantity),
            lockup: get(Column::LockUp),
            comment: get(Column::Comment).unwrap_or_default(),
            send: get(Column::Send),
            order: get(Column::Order),
            condition: get(Column::Condition),
        };
        let blank = row.client.is_empty()
            && row.comment.is_empty()
            && [&row.fund, &row.price, &row.quantity, &row.lockup, &row.send, &row.order, &row.condition]
                .iter()
                .all(|v| v.is_none());
        (!blank).then_some(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_matched_ignoring_spaces_and_missing_ones_are_named() {
        let header = [" 기관명 ", "참여 가격", "참여수량", "확약여부", "코멘트", "발송", "chat id", "펀드"];
        let layout = Layout::from_header(RowKind::Bid, header.iter().copied().enumerate()).unwrap();
        assert_eq!(layout.positions, [Some(0), Some(7), Some(1), Some(2), Some(3), Some(4), Some(5), None, None]);
        let missing =
            Layout::from_header(RowKind::Bid, ["기관명", "참여수량", "코멘트"].into_iter().enumerate()).unwrap_err();
        assert_eq!(missing, vec!["참여가격", "확약여부", "발송"]);
    }

    #[test]
    fn blank_rows_are_dropped_and_text_trimmed() {
        let header = ["기관명", "참여가격", "참여수량", "확약여부", "코멘트", "발송", "chat"];
        let layout = Layout::from_header(RowKind::Bid, header.iter().copied().enumerate()).unwrap();
        let cells = ["", " ", "", "", "", "", "-100123"];
        assert_eq!(layout.row(RowSource::new("csv", 3), |i| cells.get(i).map(|s| s.to_string())), None);
        let cells = [" (가상)누리자산운용 ", "17,500", "", "1개월", "", ""];
        let row = layout.row(RowSource::new("csv", 4), |i| cells.get(i).map(|s| s.to_string())).unwrap();
        assert_eq!(row.client, "(가상)누리자산운용");
        assert_eq!(row.price.as_deref(), Some("17,500"));
        assert_eq!(row.quantity, None);
        assert_eq!(row.send, None);
        assert_eq!(row.source.to_string(), "csv row 4");
    }

    #[test]
    fn a_sell_sheet_has_its_own_columns() {
        let header = ["기관명", "펀드", "매도 수량", "주문유형", "지정가", "조건", "코멘트", "발송"];
        let layout = Layout::from_header(RowKind::Sell, header.iter().copied().enumerate()).unwrap();
        let cells = ["(가상)새벽자산운용", "하이일드", "50%", "지정가", "34,000", "시가 +30% 이상", "", ""];
        let row = layout.row(RowSource::new("csv", 2), |i| cells.get(i).map(|s| s.to_string())).unwrap();
        assert_eq!(
            (row.quantity.as_deref(), row.order.as_deref(), row.price.as_deref(), row.condition.as_deref()),
            (Some("50%"), Some("지정가"), Some("34,000"), Some("시가 +30% 이상"))
        );
        assert_eq!(row.lockup, None);
        let missing = Layout::from_header(RowKind::Sell, ["기관명", "참여가격"].into_iter().enumerate()).unwrap_err();
        assert_eq!(missing, vec!["매도수량", "주문유형"]);
    }

    #[test]
    fn errors_read_clearly() {
        let e =
            ImportError::HeaderMissing {
                sheet: "firstDay".into(), header_row: 1, missing: vec!["참여가격".into()]
            };
        assert_eq!(e.to_string(), "firstDay: the header row (row 1) has no column \"참여가격\"");
        let e =
            ImportError::SheetMissing { wanted: "lastDay".into(), present: vec!["firstDay".into(), "메모".into()] };
        assert_eq!(e.to_string(), "the workbook has no sheet \"lastDay\"; its sheets are: firstDay, 메모");
    }
}
