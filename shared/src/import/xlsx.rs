//! Rows from one sheet of the firm's Excel workbook (.xlsx).

use super::{ImportError, Layout, MAX_FILE_BYTES, MAX_ROWS, RawRow, RowKind, RowSource};
use calamine::{DataRef, Reader, Xlsx};
use std::io::Cursor;

/// The most the parts of a workbook may unpack to: a sheet of 2,000 rows is well under 5 MB of XML,
/// and a bound keeps a small "zip bomb" from filling memory.
const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
/// How many non-blank rows may stand above the header row (a title, a date line …).
const MAX_ROWS_ABOVE_HEADER: usize = 10;

/// Reads the rows of `sheet`: the header row is the first row with a 기관명 cell (or, when none of
/// the first rows has one, the first non-blank row, whose missing columns are then named); blank
/// rows are skipped. Numeric cells are written as Excel holds them (`17500.0` → `"17500"`).
pub fn read_xlsx(bytes: &[u8], sheet: &str) -> Result<Vec<RawRow>, ImportError> {
    read_xlsx_rows(bytes, sheet, RowKind::Bid)
}

/// [`read_xlsx`] for a sheet of `kind`.
pub fn read_xlsx_rows(bytes: &[u8], sheet: &str, kind: RowKind) -> Result<Vec<RawRow>, ImportError> {
    read_xlsx_first(bytes, &[sheet], kind)
}

/// [`read_xlsx_rows`] from the first of `sheets` the workbook has (a sell plan's own date's sheet,
/// else `sell`); when it has none, the error names the first.
pub fn read_xlsx_first(bytes: &[u8], sheets: &[impl AsRef<str>], kind: RowKind) -> Result<Vec<RawRow>, ImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::FileTooLarge { size: bytes.len(), limit: MAX_FILE_BYTES });
    }
    check_container(bytes)?;
    let mut workbook = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| ImportError::NotXlsx { reason: format!("it is a zip archive but not a workbook ({e})") })?;
    let present = workbook.sheet_names();
    let name = sheets
        .iter()
        .find_map(|sheet| {
            let sheet = sheet.as_ref();
            present
                .iter()
                .find(|n| n.as_str() == sheet)
                .or_else(|| present.iter().find(|n| n.trim().to_lowercase() == sheet.trim().to_lowercase()))
        })
        .cloned()
        .ok_or_else(|| ImportError::SheetMissing {
            wanted: sheets.first().map(|s| s.as_ref().to_owned()).unwrap_or_default(),
            present: present.clone(),
        })?;
    let unreadable = |e: calamine::XlsxError| ImportError::UnreadableXlsx { reason: format!("sheet {name}: {e}") };
    let mut cells = workbook.worksheet_cells_reader(&name).map_err(unreadable)?;

    let mut rows = SheetRows::new(&name, kind);
    let mut current: Option<u32> = None;
    let mut line: Vec<(usize, String)> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (row, col) = cell.get_position();
        let Some(text) = cell_text(cell.get_value()) else { continue };
        if current != Some(row) {
            if let Some(done) = current {
                rows.push(done, std::mem::take(&mut line))?;
            }
            current = Some(row);
        }
        line.push((col as usize, text));
    }
    if let Some(done) = current {
        rows.push(done, line)?;
    }
    rows.finish()
}

/// Builds rows out of the sheet's non-blank lines, as they come.
struct SheetRows<'a> {
    sheet: &'a str,
    kind: RowKind,
    /// The first non-blank line, kept until a header is found: the one named when none is.
    first: Option<(u32, Vec<(usize, String)>)>,
    seen_before_header: usize,
    layout: Option<Layout>,
    rows: Vec<RawRow>,
}

impl<'a> SheetRows<'a> {
    fn new(sheet: &'a str, kind: RowKind) -> Self {
        SheetRows { sheet, kind, first: None, seen_before_header: 0, layout: None, rows: Vec::new() }
    }

    /// One line of non-empty cells; `row` is 0-based as calamine counts.
    fn push(&mut self, row: u32, cells: Vec<(usize, String)>) -> Result<(), ImportError> {
        let excel_row = row.saturating_add(1);
        let Some(layout) = &self.layout else {
            if Layout::has_client_column(cells.iter().map(|(i, s)| (*i, s.as_str()))) {
                let layout = Layout::from_header(self.kind, cells.iter().map(|(i, s)| (*i, s.as_str())))
                    .map_err(|missing| self.header_missing(excel_row, missing))?;
                self.layout = Some(layout);
            } else {
                self.seen_before_header += 1;
                if self.first.is_none() {
                    self.first = Some((excel_row, cells));
                }
                if self.seen_before_header >= MAX_ROWS_ABOVE_HEADER {
                    return Err(self.no_header());
                }
            }
            return Ok(());
        };
        let cell = |i: usize| cells.iter().find(|(c, _)| *c == i).map(|(_, s)| s.clone());
        if let Some(raw) = layout.row(RowSource::new(self.sheet, excel_row), cell) {
            if self.rows.len() >= MAX_ROWS {
                return Err(ImportError::TooManyRows { limit: MAX_ROWS });
            }
            self.rows.push(raw);
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<RawRow>, ImportError> {
        if self.layout.is_none() {
            return Err(self.no_header());
        }
        Ok(self.rows)
    }

    fn header_missing(&self, header_row: u32, missing: Vec<String>) -> ImportError {
        ImportError::HeaderMissing { sheet: self.sheet.to_owned(), header_row, missing }
    }

    /// No line has a 기관명 cell: the first non-blank line is taken as the header, and its missing
    /// columns named.
    fn no_header(&self) -> ImportError {
        let (row, cells) = self.first.as_ref().map_or((1, &[][..]), |(r, c)| (*r, c.as_slice()));
        let missing =
            Layout::from_header(self.kind, cells.iter().map(|(i, s)| (*i, s.as_str()))).err().unwrap_or_default();
        self.header_missing(row, missing)
    }
}

/// A cell's text, `None` when blank. Whole numbers lose their `.0`; other numbers are written as
/// they are, and are then refused by the price and quantity parsers with the number shown.
fn cell_text(value: &DataRef<'_>) -> Option<String> {
    let text = match value {
        DataRef::Empty => return None,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::DateTime(d) => number_text(d.as_f64()),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        DataRef::Error(e) => e.to_string(),
    };
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

fn number_text(f: f64) -> String {
    // Below 2^53 every whole f64 is an exact integer.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if f.fract() == 0.0 && f.abs() < EXACT { format!("{}", f as i64) } else { f.to_string() }
}

/// Checks that the bytes are a zip archive whose parts unpack to a reasonable size, before calamine
/// reads them; says what the file is instead when it is not.
fn check_container(bytes: &[u8]) -> Result<(), ImportError> {
    const OLE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let not_xlsx = |reason: &str| Err(ImportError::NotXlsx { reason: reason.to_owned() });
    if bytes.starts_with(&OLE) {
        return not_xlsx(
            "it is an old-format .xls workbook or a password-protected one: save it as .xlsx (Excel 통합 문서) without a password",
        );
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return not_xlsx(if bytes.is_empty() { "the file is empty" } else { "it is not a zip-based .xlsx file" });
    }
    match unpacked_size(bytes) {
        None => not_xlsx("the zip archive is damaged or cut short"),
        Some(size) if size > MAX_UNPACKED_BYTES => {
            Err(ImportError::UnreadableXlsx { reason: format!("it unpacks to more than {MAX_UNPACKED_BYTES} bytes") })
        }
        Some(_) => Ok(()),
    }
}

/// The sum of the uncompressed sizes the zip's central directory declares (the zip reader refuses
/// to unpack past a declared size), or `None` when there is no readable central directory. ZIP64
/// entries count as too large: no workbook of ours needs them.
fn unpacked_size(bytes: &[u8]) -> Option<u64> {
    const EOCD: [u8; 4] = [0x50, 0x4B, 0x05, 0x06];
    const ENTRY: [u8; 4] = [0x50, 0x4B, 0x01, 0x02];
    let u16_at = |at: usize| bytes.get(at..at + 2).map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])));
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])));
    // The end record is at least 22 bytes and followed by a comment of at most 64 KiB.
    let lowest = bytes.len().saturating_sub(22 + 0xFFFF);
    let eocd = (lowest..=bytes.len().checked_sub(22)?).rev().find(|&i| bytes[i..i + 4] == EOCD)?;
    let entries = u16_at(eocd + 10)?;
    let mut at = usize::try_from(u32_at(eocd + 16)?).ok()?;
    let mut total: u64 = 0;
    for _ in 0..entries {
        if bytes.get(at..at + 4)? != ENTRY {
            return None;
        }
        let size = u32_at(at + 24)?;
        if size == 0xFFFF_FFFF {
            return Some(u64::MAX);
        }
        total = total.saturating_add(size);
        let name_len = u16_at(at + 28)?;
        let extra_len = u16_at(at + 30)?;
        let comment_len = u16_at(at + 32)?;
        at = at.checked_add(46 + usize::try_from(name_len + extra_len + comment_len).ok()?)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lose_only_a_zero_fraction() {
        assert_eq!(number_text(17_500.0), "17500");
        assert_eq!(number_text(1_000_000.0), "1000000");
        assert_eq!(number_text(17.5), "17.5");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(cell_text(&DataRef::Float(300_000.0)).as_deref(), Some("300000"));
        assert_eq!(cell_text(&DataRef::SharedString(" 17,500 ")).as_deref(), Some("17,500"));
        assert_eq!(cell_text(&DataRef::String("  ".into())), None);
        assert_eq!(cell_text(&DataRef::Bool(false)).as_deref(), Some("FALSE"));
    }

    #[test]
    fn the_first_wanted_sheet_the_workbook_has_is_read() {
        use crate::export::{Cell, Table, workbook};
        let sheet = |title: &str, client: &str| {
            let mut t = Table::new(title, &["기관명", "펀드", "매도수량", "주문유형"]);
            t.push(vec![Cell::text(client), Cell::text("하이일드"), Cell::text("50%"), Cell::text("시가")]);
            t
        };
        let clients = |rows: Vec<RawRow>| rows.into_iter().map(|r| r.client).collect::<Vec<_>>();
        let wanted = ["sell-2026-04-07", "sell"];
        let fallback = workbook(&[sheet("메모", "memo"), sheet("Sell", "fallback")]).unwrap();
        assert_eq!(clients(read_xlsx_first(&fallback, &wanted, RowKind::Sell).unwrap()), ["fallback"]);
        // The order of the wanted sheets decides, not the workbook's.
        let both = workbook(&[sheet("sell", "fallback"), sheet("sell-2026-04-07", "dated")]).unwrap();
        assert_eq!(clients(read_xlsx_first(&both, &wanted, RowKind::Sell).unwrap()), ["dated"]);
        match read_xlsx_first(&fallback, &["sell-2026-05-07", "매도"], RowKind::Sell) {
            Err(ImportError::SheetMissing { wanted, present }) => {
                assert_eq!((wanted.as_str(), present), ("sell-2026-05-07", vec!["메모".to_owned(), "Sell".to_owned()]));
            }
            other => panic!("expected the first wanted sheet named, got {other:?}"),
        }
    }

    #[test]
    fn non_workbooks_are_named() {
        let err = |bytes: &[u8]| read_xlsx(bytes, "firstDay").unwrap_err().to_string();
        assert!(err(b"").contains("empty"), "{}", err(b""));
        assert!(err(b"hello,world").contains("not a zip-based .xlsx"));
        let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        xls.extend([0; 100]);
        assert!(err(&xls).contains("old-format .xls"));
        assert!(err(b"PK\x03\x04 cut short").contains("damaged"));
        let big = vec![0; MAX_FILE_BYTES + 1];
        assert_eq!(
            read_xlsx(&big, "firstDay"),
            Err(ImportError::FileTooLarge { size: MAX_FILE_BYTES + 1, limit: MAX_FILE_BYTES })
        );
    }

    /// A zip whose central directory declares one entry of `size` bytes.
    fn zip_declaring(size: u32) -> Vec<u8> {
        let mut z = b"PK\x03\x04".to_vec();
        let cd = z.len() as u32;
        let mut entry = vec![0u8; 46];
        entry[..4].copy_from_slice(&[0x50, 0x4B, 0x01, 0x02]);
        entry[24..28].copy_from_slice(&size.to_le_bytes());
        entry[28..30].copy_from_slice(&1u16.to_le_bytes());
        entry.push(b'x');
        let cd_len = entry.len() as u32;
        z.extend(entry);
        let mut end = vec![0u8; 22];
        end[..4].copy_from_slice(&[0x50, 0x4B, 0x05, 0x06]);
        end[10..12].copy_from_slice(&1u16.to_le_bytes());
        end[12..16].copy_from_slice(&cd_len.to_le_bytes());
        end[16..20].copy_from_slice(&cd.to_le_bytes());
        z.extend(end);
        z
    }

    #[test]
    fn declared_sizes_bound_what_is_unpacked() {
        assert_eq!(unpacked_size(&zip_declaring(1_000)), Some(1_000));
        assert_eq!(unpacked_size(&zip_declaring(u32::MAX)), Some(u64::MAX));
        let bomb = read_xlsx(&zip_declaring(200 * 1024 * 1024), "firstDay").unwrap_err();
        assert!(matches!(bomb, ImportError::UnreadableXlsx { .. }), "{bomb:?}");
        let ok_size = read_xlsx(&zip_declaring(1_000), "firstDay").unwrap_err();
        assert!(matches!(ok_size, ImportError::NotXlsx { .. }), "{ok_size:?}");
    }
}
