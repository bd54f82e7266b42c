//! Rows from a CSV file with the workbook's header (UTF-8, with or without a byte-order mark).

use super::{ImportError, Layout, MAX_FILE_BYTES, MAX_ROWS, RawRow, RowKind, RowSource};

/// Reads a CSV file whose first record is the header. Commas separate fields, or tabs when the
/// header line has tabs and no comma (text copied out of Excel). Blank records are skipped. Rows
/// are numbered by the line they start on, the header being line 1, as Excel numbers them.
pub fn read_csv(bytes: &[u8]) -> Result<Vec<RawRow>, ImportError> {
    read_csv_rows(bytes, RowKind::Bid)
}

/// [`read_csv`] for a sheet of `kind`.
pub fn read_csv_rows(bytes: &[u8], kind: RowKind) -> Result<Vec<RawRow>, ImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::FileTooLarge { size: bytes.len(), limit: MAX_FILE_BYTES });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        ImportError::NotUtf8 { line: u32::try_from(line).unwrap_or(u32::MAX) }
    })?;
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if first_line.contains('\t') && !first_line.contains(',') { b'\t' } else { b',' };
    let mut reader =
        ::csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let invalid = |e: ::csv::Error| ImportError::InvalidCsv { reason: e.to_string() };

    let mut records = reader.records();
    let header = match records.next() {
        Some(record) => record.map_err(invalid)?,
        None => return Err(ImportError::InvalidCsv { reason: "the file is empty".into() }),
    };
    let mut lines = LineCounter::new(text.as_bytes());
    let header_row = lines.line_at(header.position().map_or(0, ::csv::Position::byte));
    let layout = Layout::from_header(kind, header.iter().enumerate())
        .map_err(|missing| ImportError::HeaderMissing { sheet: "csv".into(), header_row, missing })?;
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(invalid)?;
        let line = lines.line_at(record.position().map_or(0, ::csv::Position::byte));
        let cell = |i: usize| record.get(i).map(str::to_owned);
        if let Some(row) = layout.row(RowSource::new("csv", line), cell) {
            if rows.len() >= MAX_ROWS {
                return Err(ImportError::TooManyRows { limit: MAX_ROWS });
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

/// The 1-based line a record starts on. The csv crate's own line count lags by one after a CRLF
/// (Excel's line ending), so lines are counted here, from byte offsets that only grow.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u32,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter { text, offset: 0, line: 1 }
    }

    fn line_at(&mut self, byte: u64) -> u32 {
        let mut at = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        // A record's position may fall on the line break that ended the previous one.
        while matches!(self.text.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        if at > self.offset {
            let breaks = self.text[self.offset..at].iter().filter(|b| **b == b'\n').count();
            self.line = self.line.saturating_add(u32::try_from(breaks).unwrap_or(u32::MAX));
            self.offset = at;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "기관명,참여가격,참여수량,확약여부,코멘트,발송";

    #[test]
    fn rows_keep_their_line_numbers_and_quoted_commas() {
        let text = format!(
            "\u{feff}{HEADER}\n(가상)누리자산운용,\"17,500\",300000,1개월,\"첫 줄, 둘째\",O\n\n,,,,,\n(가상)다솜자산운용,,1000,미확약,,X\n"
        );
        let rows = read_csv(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].source, RowSource::new("csv", 2));
        assert_eq!(rows[0].price.as_deref(), Some("17,500"));
        assert_eq!(rows[0].comment, "첫 줄, 둘째");
        assert_eq!(rows[1].source, RowSource::new("csv", 5));
        assert_eq!(rows[1].price, None);
        assert_eq!(rows[1].send.as_deref(), Some("X"));
    }

    #[test]
    fn crlf_line_endings_number_rows_the_same() {
        let text =
            format!("{HEADER}\r\nA,1,1,미확약,,\r\n\r\n,,,,,\r\nB,\"1,000\",1,미확약,\"두\r\n줄\",\r\nC,1,1,미확약,,");
        let rows = read_csv(text.as_bytes()).unwrap();
        let lines: Vec<u32> = rows.iter().map(|r| r.source.row).collect();
        assert_eq!(lines, [2, 5, 7]);
        assert_eq!(rows[1].comment, "두\r\n줄");
    }

    #[test]
    fn tabs_separate_when_the_header_has_no_comma() {
        let text = "기관명\t참여가격\t참여수량\t확약여부\t코멘트\t발송\t펀드\nA\t17,500\t10\t15일\t\t\t하이일드\n";
        let rows = read_csv(text.as_bytes()).unwrap();
        assert_eq!(rows[0].price.as_deref(), Some("17,500"));
        assert_eq!(rows[0].fund.as_deref(), Some("하이일드"));
    }

    #[test]
    fn unreadable_files_are_refused_with_the_reason() {
        // "기관명" in CP949, on line 2.
        let cp949 = b"a,b\n\xB1\xE2\xB0\xFC\xB8\xED,x\n";
        assert_eq!(read_csv(cp949), Err(ImportError::NotUtf8 { line: 2 }));
        assert!(matches!(read_csv(b""), Err(ImportError::InvalidCsv { .. })));
        let no_price = "기관명,참여수량,확약여부,코멘트,발송\n";
        assert_eq!(
            read_csv(no_price.as_bytes()),
            Err(ImportError::HeaderMissing {
                sheet: "csv".into(), header_row: 1, missing: vec!["참여가격".into()]
            })
        );
        let many = format!("{HEADER}\n{}", "A,1,1,미확약,,\n".repeat(MAX_ROWS + 1));
        assert_eq!(read_csv(many.as_bytes()), Err(ImportError::TooManyRows { limit: MAX_ROWS }));
    }
}
