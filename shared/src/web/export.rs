//! Every table of the dashboard downloads as CSV or xlsx, written by [`crate::export`]. The routes
//! sit under `/ui` like the pages, so a download carries the bearer token too (`app.js` fetches
//! it and hands the browser a blob): there is no unauthenticated export URL.

use super::WebError;
use crate::export::{CSV_CONTENT_TYPE, Table, XLSX_CONTENT_TYPE};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(format: Option<&str>) -> Result<Format, WebError> {
        match format {
            Some("csv") => Ok(Format::Csv),
            Some("xlsx") | None => Ok(Format::Xlsx),
            Some(other) => Err(WebError::bad_request(format!("format: {other:?} is not csv or xlsx"))),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct FormatQuery {
    pub format: Option<String>,
}

/// The table as a file named `{name}.csv` or `{name}.xlsx` (ASCII, so every browser keeps it).
pub fn download(table: &Table, format: Format, name: &str) -> Result<Response, WebError> {
    let (bytes, content_type, ext) = match format {
        Format::Csv => (table.to_csv()?, CSV_CONTENT_TYPE, "csv"),
        Format::Xlsx => (table.to_xlsx()?, XLSX_CONTENT_TYPE, "xlsx"),
    };
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let disposition = format!("attachment; filename=\"{safe}.{ext}\"");
    let mut response = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
