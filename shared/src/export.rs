//! Tables for people who live in Excel: typed cells written as CSV (UTF-8 with a byte-order mark,
//! so Excel reads the Korean right) or as an xlsx workbook with number formats. The IPO result
//! route writes its tables here, and the dashboard can reuse them for any download.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use std::fmt::Write as _;

/// The content type of an xlsx workbook.
pub const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The content type of the CSV written here.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// One cell, typed so that each format writes it its own way (a won amount is a number in a
/// workbook, grouped nowhere in CSV so that it reads back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Text(String),
    /// An amount in won; negative for a loss.
    Won(i64),
    /// A number of things (shares, clients).
    Count(u64),
    /// A percentage in basis points (1234 = 12.34%): exact, where a float would not be.
    Percent(i64),
    Date(NaiveDate),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// How the cell reads in CSV (and in a test): plain numbers, ISO dates, `12.34%`.
    pub fn plain(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Won(w) => w.to_string(),
            Cell::Count(n) => n.to_string(),
            Cell::Percent(bp) => percent_text(*bp),
            Cell::Date(d) => d.to_string(),
        }
    }
}

/// Basis points as a percentage with two decimals: `1234` → `12.34%`, `-5` → `-0.05%`.
pub fn percent_text(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let abs = bp.unsigned_abs();
    format!("{sign}{}.{:02}%", abs / 100, abs % 100)
}

/// A titled table: the title names the workbook's sheet (and heads its CSV section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the workbook could not be written: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("the CSV could not be written: {0}")]
    Csv(String),
    #[error("the table is too large for a worksheet")]
    TooLarge,
}

impl Table {
    pub fn new(title: impl Into<String>, columns: &[&str]) -> Table {
        Table { title: title.into(), columns: columns.iter().map(|c| (*c).to_owned()).collect(), rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// The header and the rows as CSV, with a byte-order mark.
    pub fn to_csv(&self) -> Result<Vec<u8>, ExportError> {
        csv_sections(std::slice::from_ref(self), false)
    }

    /// One sheet, named after the title.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, ExportError> {
        workbook(std::slice::from_ref(self))
    }
}

/// Several tables in one CSV file: each under a line with its title (when `titled`), a blank line
/// between them. Excel opens it as one sheet.
pub fn csv_sections(tables: &[Table], titled: bool) -> Result<Vec<u8>, ExportError> {
    let mut writer = ::csv::WriterBuilder::new().flexible(true).from_writer(b"\xEF\xBB\xBF".to_vec());
    let fail = |e: ::csv::Error| ExportError::Csv(e.to_string());
    for (i, table) in tables.iter().enumerate() {
        if i > 0 {
            writer.write_record([""]).map_err(fail)?;
        }
        if titled {
            writer.write_record([table.title.as_str()]).map_err(fail)?;
        }
        writer.write_record(&table.columns).map_err(fail)?;
        for row in &table.rows {
            writer.write_record(row.iter().map(Cell::plain)).map_err(fail)?;
        }
    }
    writer.into_inner().map_err(|e| ExportError::Csv(e.to_string()))
}

/// A workbook with one sheet per table, headers in bold, won and counts grouped by thousands,
/// percentages and dates as Excel's own.
pub fn workbook(tables: &[Table]) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let won = Format::new().set_num_format("#,##0");
    let percent = Format::new().set_num_format("0.00%");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let mut names: Vec<String> = Vec::new();
    for table in tables {
        let sheet = book.add_worksheet();
        let name = unique(sheet_name(&table.title), &names);
        sheet.set_name(&name)?;
        names.push(name);
        for (c, column) in table.columns.iter().enumerate() {
            let c = col(c)?;
            sheet.write_string_with_format(0, c, column, &bold)?;
            // Wide enough for a fund name or 12 digits with separators.
            sheet.set_column_width(c, 16)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).map_err(|_| ExportError::TooLarge)?;
            for (c, cell) in row.iter().enumerate() {
                let c = col(c)?;
                // Excel holds numbers as doubles: exact for every amount below 2^53 won.
                #[allow(clippy::cast_precision_loss)]
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s)?;
                    }
                    Cell::Won(w) => {
                        sheet.write_number_with_format(r, c, *w as f64, &won)?;
                    }
                    Cell::Count(n) => {
                        sheet.write_number_with_format(r, c, *n as f64, &won)?;
                    }
                    Cell::Percent(bp) => {
                        sheet.write_number_with_format(r, c, *bp as f64 / 10_000.0, &percent)?;
                    }
                    Cell::Date(d) => {
                        let (Ok(y), Ok(m), Ok(day)) =
                            (u16::try_from(d.year()), u8::try_from(d.month()), u8::try_from(d.day()))
                        else {
                            sheet.write_string(r, c, d.to_string())?;
                            continue;
                        };
                        sheet.write_date_with_format(r, c, &ExcelDateTime::from_ymd(y, m, day)?, &date)?;
                    }
                }
            }
        }
    }
    Ok(book.save_to_buffer()?)
}

fn col(c: usize) -> Result<u16, ExportError> {
    u16::try_from(c).map_err(|_| ExportError::TooLarge)
}

/// Excel's rules for a sheet name: at most 31 characters, none of `[]:*?/\`, not blank, and no
/// apostrophe at either end.
fn sheet_name(title: &str) -> String {
    let cleaned: String =
        title.chars().map(|c| if "[]:*?/\\".contains(c) || c.is_control() { ' ' } else { c }).take(31).collect();
    let cleaned = cleaned.trim().trim_matches('\'').trim().to_owned();
    if cleaned.is_empty() { "Sheet".to_owned() } else { cleaned }
}

/// `name`, or `name (2)` … when a sheet already has it (Excel compares names case-blind).
fn unique(name: String, taken: &[String]) -> String {
    let clash = |n: &str| taken.iter().any(|t| t.to_lowercase() == n.to_lowercase());
    if !clash(&name) {
        return name;
    }
    (2..)
        .map(|i| {
            let mut base: String = name.chars().take(31 - 5).collect();
            let _ = write!(base, " ({i})");
            base
        })
        .find(|n| !clash(n))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    fn sample() -> Table {
        let mut t = Table::new("결과: 펀드별 [한빛]", &["펀드", "매도금액", "수량", "수익률", "매도일"]);
        t.push(vec![
            Cell::text("하이일드, \"HY\""),
            Cell::Won(-1_234_567),
            Cell::Count(12_000),
            Cell::Percent(1_234),
            Cell::Date("2026-04-07".parse().unwrap()),
        ]);
        t.push(vec![Cell::text("사모"), Cell::Empty, Cell::Count(0), Cell::Percent(-5), Cell::Empty]);
        t
    }

    #[test]
    fn csv_has_a_bom_quotes_and_plain_numbers() {
        let csv = String::from_utf8(sample().to_csv().unwrap()).unwrap();
        assert_eq!(
            csv,
            "\u{feff}펀드,매도금액,수량,수익률,매도일\n\"하이일드, \"\"HY\"\"\",-1234567,12000,12.34%,2026-04-07\n사모,,0,-0.05%,\n"
        );
        let both = String::from_utf8(csv_sections(&[sample(), sample()], true).unwrap()).unwrap();
        assert_eq!(both.matches("결과: 펀드별 [한빛]\n").count(), 2);
        assert!(both.contains("\n\"\"\n") || both.contains("\n\n"), "{both}");
    }

    #[test]
    fn xlsx_reads_back_with_typed_cells() {
        let bytes = workbook(&[sample(), sample()]).unwrap();
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), vec!["결과  펀드별  한빛".to_owned(), "결과  펀드별  한빛 (2)".to_owned()]);
        let range = book.worksheet_range("결과  펀드별  한빛").unwrap();
        assert_eq!(range.get_value((0, 1)), Some(&Data::String("매도금액".into())));
        assert_eq!(range.get_value((1, 1)), Some(&Data::Float(-1_234_567.0)));
        assert_eq!(range.get_value((1, 2)), Some(&Data::Float(12_000.0)));
        assert_eq!(range.get_value((1, 3)), Some(&Data::Float(0.1234)));
        assert!(matches!(range.get_value((1, 4)), Some(Data::DateTime(_))), "{:?}", range.get_value((1, 4)));
    }

    #[test]
    fn percentages_and_sheet_names() {
        assert_eq!(
            (percent_text(0), percent_text(100), percent_text(-1_050)),
            ("0.00%".into(), "1.00%".into(), "-10.50%".into())
        );
        assert_eq!(sheet_name("'?'"), "Sheet");
        assert_eq!(sheet_name(&"가".repeat(40)).chars().count(), 31);
    }
}
