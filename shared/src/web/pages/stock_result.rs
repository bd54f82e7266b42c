//! A stock's later phases on its page: the sell processes proposed from its confirmed allotments
//! (an advisor's button, the same use case as `POST /api/v1/stocks/{id}/sell-plan`) and the IPO's
//! result, each of its tables with its own download.

use super::kit::{export, table};
use crate::app::{Proposal, ProposedSale};
use crate::domain::ids::StockId;
use crate::domain::staff::Role;
use crate::http::api::auth::{Advisor, Authorized, Viewer};
use crate::web::extract::Id;
use crate::web::layout::{export_buttons, link};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/ui/stocks/{id}/result", get(result))
        .route("/ui/stocks/{id}/result/export", get(export_result))
        .route("/ui/stocks/{id}/sell-plan", post(propose))
}

/// Where the stock's page loads the section; the proposal button only for an advisor.
pub fn section(stock: &StockId, role: Role) -> Markup {
    html! {
        h2 { "매도 · 결과" }
        @if role.allows(Role::Advisor) {
            div.toolbar {
                button hx-post={ "/ui/stocks/" (stock) "/sell-plan" } hx-target="#stock-result"
                    data-testid="propose-sell" { "매도 프로세스 제안" }
                span.muted { "확정된 배정에서 상장일과 확약 해제일마다 초안을 만듭니다 (있는 날은 그대로)." }
            }
        }
        div.result #stock-result hx-get={ "/ui/stocks/" (stock) "/result" } hx-trigger="load" data-testid="stock-result" {}
    }
}

async fn result(State(state): State<WebState>, _: Authorized<Viewer>, Id(id): Id<StockId>) -> Result<Markup, WebError> {
    let result = match state.app.stock_result(&id).await {
        Ok(r) => r,
        // No final price yet, or nothing allotted: there is no result to show, which is no error.
        Err(crate::app::AppError::Refused(_)) => {
            return Ok(
                html! { p.empty data-testid="result-none" { "아직 결과가 없습니다: 확정 공모가와 확정된 배정이 있어야 합니다." } },
            );
        }
        Err(e) => return Err(e.into()),
    };
    let url = format!("/ui/stocks/{id}/result/export");
    Ok(html! {
        @if !result.complete { p.muted data-testid="result-provisional" { "잠정: 매도나 명세서 확인이 아직 남았습니다." } }
        @for (i, t) in result.tables().iter().enumerate() {
            h3 { (t.title) span.spacer {} (export_buttons(&format!("{url}?table={i}"), &format!("export-result-{i}"))) }
            (table(t, &format!("result-table-{i}")))
        }
    })
}

#[derive(Debug, Default, Deserialize)]
struct ExportQuery {
    #[serde(default)]
    table: usize,
    format: Option<String>,
}

async fn export_result(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Id(id): Id<StockId>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    let tables = state.app.stock_result(&id).await?.tables();
    let t = tables.get(q.table).ok_or_else(|| WebError::bad_request("table: 없는 표입니다"))?;
    export(t, q.format.as_deref(), &format!("result-{id}-{}", q.table))
}

async fn propose(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(id): Id<StockId>,
) -> Result<Markup, WebError> {
    let sales = state.app.propose_sell_processes(&id, false).await?;
    let created: Vec<&str> =
        sales.iter().filter(|p| p.proposal == Proposal::Created).map(|p| p.process_id.as_str()).collect();
    if !created.is_empty() {
        state
            .app
            .record_audit(&caller.name, "stock.sell_plan", id.as_str(), None, Some(json!({ "created": created })))
            .await;
    }
    Ok(proposals(&sales))
}

fn proposals(sales: &[ProposedSale]) -> Markup {
    html! {
        div.flash data-testid="sell-proposals" { "매도일 " (sales.len()) "개: 새로 만든 초안 "
            (sales.iter().filter(|s| s.proposal == Proposal::Created).count()) "개. 각 초안에서 매도 권고를 불러온 뒤 예약하세요." }
        ul.plain {
            @for s in sales {
                li data-testid="sell-proposal" {
                    (link(&format!("/processes/{}", s.process_id), html! { (s.sale_date.format("%Y-%m-%d")) " · " (s.lockup.to_string()) }, "sell-process"))
                    " " span.badge { (match s.proposal { Proposal::Created => "새 초안", Proposal::Exists => "있음", Proposal::WouldCreate => "만들 예정" }) }
                    " " span.muted { "시작 " (fmt::kst_short(s.kickoff_at)) " · " (s.clients.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")) }
                }
            }
        }
    }
}
