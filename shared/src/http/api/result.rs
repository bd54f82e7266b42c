//! `GET /api/v1/stocks/{id}/result`: an IPO's result per client fund, across clients, and the
//! firm's advice against what clients did; JSON by default, CSV or an xlsx workbook by `Accept`
//! for the firm's Excel habits.

use super::ApiState;
use super::auth::{Authorized, Viewer};
use super::extract::Id;
use crate::domain::ids::StockId;
use crate::domain::result::StockResult;
use crate::export::{CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, csv_sections, workbook};
use crate::http::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(result))
}

/// What the client asked for, by `Accept`: the first of JSON, CSV and xlsx it names (`*/*` and no
/// header mean JSON). Weights are not ranked: no client of ours sends competing ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Xlsx,
}

fn format(headers: &HeaderMap) -> Option<Format> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Format::Json);
    };
    accept.split(',').find_map(|part| {
        match part.split(';').next().unwrap_or_default().trim().to_ascii_lowercase().as_str() {
            "application/json" | "*/*" | "application/*" => Some(Format::Json),
            "text/csv" | "text/*" => Some(Format::Csv),
            XLSX_CONTENT_TYPE => Some(Format::Xlsx),
            _ => None,
        }
    })
}

/// An IPO's result: per client fund, across clients, and the advice against what clients did.
/// Counts confirmed answers only; a sale whose statement is not confirmed yet counts from its
/// execution report (`provisional`), and `complete` says whether every share is accounted for.
#[utoipa::path(get, path = "/api/v1/stocks/{id}/result", tag = "stocks",
    params(("id" = StockId, Path, example = "sesol")),
    security(("staff" = ["viewer"])),
    responses(
        (status = 200, description = "The result: per client fund (allotted, paid, sold, average price, costs, realised \
            profit and return against the offer price), the stock's totals, and each sale against the advice",
            content((StockResult = "application/json"), (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 406, description = "`Accept` names none of application/json, text/csv and the xlsx type",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The stock has no final price yet (`no_final_price`)",
            body = Problem, content_type = "application/problem+json"),
    ))]
async fn result(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Id(stock_id): Id<StockId>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let Some(format) = format(&headers) else {
        return Err(Problem::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable",
            "the result is served as application/json, text/csv or an xlsx workbook",
        ));
    };
    let result = s.app.stock_result(&stock_id).await?;
    // Only a table past a worksheet's size fails, which no IPO's handful of funds reaches.
    let failed = |e: crate::export::ExportError| {
        tracing::error!(stock = %stock_id, error = %e, "result export failed");
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", e.to_string())
    };
    let file = |ext: &str| {
        let name = format!("attachment; filename=\"{stock_id}-result.{ext}\"");
        HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment"))
    };
    Ok(match format {
        Format::Json => Json(result).into_response(),
        Format::Csv => {
            let bytes = csv_sections(&result.tables(), true).map_err(failed)?;
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(CSV_CONTENT_TYPE)),
                    (header::CONTENT_DISPOSITION, file("csv")),
                ],
                bytes,
            )
                .into_response()
        }
        Format::Xlsx => {
            let bytes = workbook(&result.tables()).map_err(failed)?;
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(XLSX_CONTENT_TYPE)),
                    (header::CONTENT_DISPOSITION, file("xlsx")),
                ],
                bytes,
            )
                .into_response()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_picks_the_first_known_type() {
        let with = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
            format(&h)
        };
        assert_eq!(format(&HeaderMap::new()), Some(Format::Json));
        assert_eq!(with("text/csv"), Some(Format::Csv));
        assert_eq!(with("text/html, text/csv;q=0.9"), Some(Format::Csv));
        assert_eq!(with(XLSX_CONTENT_TYPE), Some(Format::Xlsx));
        assert_eq!(with("*/*"), Some(Format::Json));
        assert_eq!(with("image/png"), None);
    }
}
