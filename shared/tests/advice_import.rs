//! The advice import over real files: the firm's workbook for (가상)한빛로보틱스 with both
//! book-building sheets, the same first day as CSV, and the files it must refuse.
#![allow(clippy::unwrap_used)] // fixtures built from literals

use chrono::NaiveDate;
use shared::domain::client::Client;
use shared::domain::ids::ClientId;
use shared::domain::lockup::LockUp;
use shared::domain::money::{Price, Quantity, Won};
use shared::domain::phase::bid::{AdviceLine, Finding};
use shared::domain::regulation::Regulation;
use shared::import::{
    ImportError, ImportReport, RowOutcome, RowReport, RowSource, read_csv, read_xlsx, review, rows_from_json,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("../events/advice/{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The demo clients of the domain brief.
fn clients() -> Vec<Client> {
    shared::demo::clients()
}

/// (가상)한빛로보틱스 builds its book from 2026-03-16 to 03-20.
fn first_day() -> NaiveDate {
    "2026-03-16".parse().unwrap()
}

fn last_day() -> NaiveDate {
    "2026-03-20".parse().unwrap()
}

fn advice(fund: &str, price: u64, qty: u64, lockup: LockUp, comment: &str) -> AdviceLine {
    AdviceLine {
        fund_id: fund.parse().unwrap(),
        price: Price::new(price).unwrap(),
        quantity: Quantity::new(qty).unwrap(),
        lockup,
        comment: comment.into(),
    }
}

fn report_row(sheet: &str, row: u32, input: &str, client: &str, fund: &str, outcome: RowOutcome) -> RowReport {
    RowReport {
        source: RowSource::new(sheet, row),
        client_input: input.into(),
        client_id: Some(client.parse().unwrap()),
        fund_id: Some(fund.parse().unwrap()),
        outcome,
    }
}

fn accepted(advice: AdviceLine) -> RowOutcome {
    RowOutcome::Accepted { advice, warnings: vec![] }
}

/// The first day's rows, the same in the workbook and in the CSV: the demo cases of the brief.
fn expected_first_day(sheet: &str) -> ImportReport {
    let rows = vec![
        report_row(
            sheet,
            2,
            "(가상)새벽자산운용",
            "saebyeok",
            "hy",
            accepted(advice("hy", 17_500, 300_000, LockUp::Months1, "밴드 상단 초과 제시")),
        ),
        report_row(
            sheet,
            3,
            "(가상)새벽자산운용",
            "saebyeok",
            "pv-kv",
            accepted(advice("pv-kv", 17_500, 200_000, LockUp::Months3, "")),
        ),
        report_row(
            sheet,
            4,
            "(가상)누리자산운용",
            "nuri",
            "kv",
            accepted(advice("kv", 17_000, 500_000, LockUp::None, "")),
        ),
        // Row 5 is blank.
        report_row(
            sheet,
            6,
            "(가상)가온자산운용",
            "gaon",
            "ipo",
            RowOutcome::Accepted {
                advice: advice("ipo", 16_995, 300_000, LockUp::Months1, "16,995 그대로 제출"),
                warnings: vec![Finding::OffGrid {
                    fund_id: "ipo".parse().unwrap(),
                    price: Price::new(16_995).unwrap(),
                    tick: 10,
                }],
            },
        ),
        report_row(
            sheet,
            7,
            "(가상)가온자산운용",
            "gaon",
            "pv",
            RowOutcome::Rejected { reasons: vec![format!("{sheet} row 7: no price (a bid needs a price)")] },
        ),
        report_row(
            sheet,
            8,
            "(가상)다솜자산운용",
            "dasom",
            "hedge",
            RowOutcome::Accepted {
                advice: advice("hedge", 17_500, 1_000_000, LockUp::Months6, ""),
                warnings: vec![Finding::ExceedsAbilityToPay {
                    fund_id: "hedge".parse().unwrap(),
                    amount: Won::new(17_500_000_000),
                    aum: Won::new(15_000_000_000),
                }],
            },
        ),
        report_row(sheet, 9, "(가상)바른투자일임", "bareun", "ilim", RowOutcome::Skipped),
    ];
    ImportReport { rows, accepted: 5, rejected: 1, skipped: 1 }
}

#[test]
fn the_workbooks_first_day_gives_the_demo_cases() {
    let rows = read_xlsx(&fixture("hanbit_advice.xlsx"), "firstDay").unwrap();
    assert_eq!(rows.len(), 7, "the blank row 5 is skipped: {rows:#?}");
    // Numeric cells lose their `.0`; text cells keep their commas.
    assert_eq!(rows[0].price.as_deref(), Some("17500"));
    assert_eq!(rows[1].price.as_deref(), Some("17,500"));
    assert_eq!(rows[1].quantity.as_deref(), Some("200,000"));
    assert_eq!(rows[2].price.as_deref(), Some("17000"));
    assert_eq!(rows[2].fund, None);
    assert_eq!(rows[2].send, None);
    assert_eq!(rows[4].price, None);
    assert_eq!(rows[6].send.as_deref(), Some("X"));

    let report = review(&rows, &clients(), first_day(), Regulation::builtin());
    assert_eq!(report, expected_first_day("firstDay"));
    assert!(!report.is_clean());
    let by_client = report.advice_by_client();
    let ids: Vec<&str> = by_client.keys().map(ClientId::as_str).collect();
    assert_eq!(ids, ["dasom", "gaon", "nuri", "saebyeok"]);
    assert_eq!(by_client[&"saebyeok".parse::<ClientId>().unwrap()].len(), 2);
}

#[test]
fn the_workbooks_last_day_names_funds_in_the_client_cell() {
    let rows = read_xlsx(&fixture("hanbit_advice.xlsx"), "lastDay").unwrap();
    assert!(rows.iter().all(|r| r.fund.is_none()), "lastDay has no 펀드 column");
    let report = review(&rows, &clients(), last_day(), Regulation::builtin());
    let sheet = "lastDay";
    let expected = ImportReport {
        rows: vec![
            report_row(
                sheet,
                2,
                "(가상)새벽자산운용 하이일드",
                "saebyeok",
                "hy",
                accepted(advice("hy", 18_000, 300_000, LockUp::Months1, "수요 강함: 상향")),
            ),
            report_row(
                sheet,
                3,
                "(가상)새벽자산운용 사모 코벤",
                "saebyeok",
                "pv-kv",
                accepted(advice("pv-kv", 18_000, 200_000, LockUp::Months3, "")),
            ),
            report_row(
                sheet,
                4,
                "(가상)누리자산운용",
                "nuri",
                "kv",
                accepted(advice("kv", 18_000, 500_000, LockUp::None, "")),
            ),
            report_row(
                sheet,
                5,
                "(가상)가온자산운용 공모주 채권혼합",
                "gaon",
                "ipo",
                accepted(advice("ipo", 18_000, 300_000, LockUp::Months1, "")),
            ),
            report_row(
                sheet,
                6,
                "(가상)가온자산운용 사모",
                "gaon",
                "pv",
                accepted(advice("pv", 18_000, 100_000, LockUp::None, "")),
            ),
            // Row 7 is blank; 800,000 × 18,000 = 144억 fits the 150억 fund.
            report_row(
                sheet,
                8,
                "(가상)다솜자산운용",
                "dasom",
                "hedge",
                accepted(advice("hedge", 18_000, 800_000, LockUp::Months6, "")),
            ),
            report_row(sheet, 9, "(가상)바른투자일임", "bareun", "ilim", RowOutcome::Skipped),
        ],
        accepted: 6,
        rejected: 0,
        skipped: 1,
    };
    assert_eq!(report, expected);
    assert!(report.is_clean());
    assert_eq!(report.advice_by_client().values().map(Vec::len).sum::<usize>(), 6);
}

#[test]
fn the_csv_first_day_reads_like_the_workbook() {
    let bytes = fixture("hanbit_first_day.csv");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "saved by Excel as CSV UTF-8, with its byte-order mark");
    let rows = read_csv(&bytes).unwrap();
    let report = review(&rows, &clients(), first_day(), Regulation::builtin());
    assert_eq!(report, expected_first_day("csv"));
}

#[test]
fn json_rows_review_like_the_sheet() {
    let rows = rows_from_json(&serde_json::json!([
        {"client": "(가상)가온자산운용", "fund": "공모주 채권혼합", "price": "16,995", "quantity": "300000",
         "lockup": "1개월", "comment": "16,995 그대로 제출", "send": true},
        {"client": "(가상)바른투자일임", "price": 17000, "quantity": 10000, "lockup": "15일", "send": false}
    ]))
    .unwrap();
    let report = review(&rows, &clients(), first_day(), Regulation::builtin());
    let mut expected = expected_first_day("json");
    expected.rows = vec![expected.rows[3].clone(), expected.rows[6].clone()];
    expected.rows[0].source = RowSource::new("json", 1);
    expected.rows[1].source = RowSource::new("json", 2);
    assert_eq!(report, ImportReport { accepted: 1, rejected: 0, skipped: 1, ..expected });
}

#[test]
fn a_file_that_is_not_a_workbook_is_refused_clearly() {
    let err = read_xlsx(&fixture("hanbit_first_day.csv"), "firstDay").unwrap_err();
    assert_eq!(err, ImportError::NotXlsx { reason: "it is not a zip-based .xlsx file".into() });
    assert_eq!(err.to_string(), "the file is not an Excel workbook (.xlsx): it is not a zip-based .xlsx file");
}

#[test]
fn a_missing_sheet_is_refused_naming_the_sheets_present() {
    let err = read_xlsx(&fixture("hanbit_advice.xlsx"), "2일차").unwrap_err();
    assert_eq!(
        err,
        ImportError::SheetMissing { wanted: "2일차".into(), present: vec!["firstDay".into(), "lastDay".into()] }
    );
    assert_eq!(err.to_string(), "the workbook has no sheet \"2일차\"; its sheets are: firstDay, lastDay");
    // Sheet names are matched ignoring case and surrounding spaces.
    assert!(read_xlsx(&fixture("hanbit_advice.xlsx"), " FirstDay ").is_ok());
}

#[test]
fn a_header_without_the_price_column_is_refused_naming_it() {
    // The header is on row 2, under a title row, and says 가격 instead of 참여가격.
    let err = read_xlsx(&fixture("hanbit_bad_header.xlsx"), "firstDay").unwrap_err();
    assert_eq!(
        err,
        ImportError::HeaderMissing { sheet: "firstDay".into(), header_row: 2, missing: vec!["참여가격".into()] }
    );
    assert_eq!(err.to_string(), "firstDay: the header row (row 2) has no column \"참여가격\"");

    let csv = String::from_utf8(fixture("hanbit_first_day.csv")).unwrap().replacen("참여가격", "가격", 1);
    assert_eq!(
        read_csv(csv.as_bytes()),
        Err(ImportError::HeaderMissing { sheet: "csv".into(), header_row: 1, missing: vec!["참여가격".into()] })
    );
}

#[test]
fn a_cp949_csv_is_refused_as_not_utf8() {
    let err = read_csv(&fixture("hanbit_first_day_cp949.csv")).unwrap_err();
    assert_eq!(err, ImportError::NotUtf8 { line: 1 });
    assert_eq!(
        err.to_string(),
        "the CSV file is not UTF-8 (the first invalid byte is on line 1): in Excel, save it as \"CSV UTF-8 (쉼표로 분리)\""
    );
}
