//! `POST /api/v1/stocks/{id}/sell-plan`: one draft sell process per sale date of a stock (listing
//! day, each lock-up's release), from its confirmed allotments, each with the clients whose shares
//! unlock that day; `?dry_run=true` only says what it would create.

use super::ApiState;
use super::auth::{Advisor, Authorized};
use super::extract::{Id, Query};
use crate::app::{Proposal, ProposedSale};
use crate::domain::ids::StockId;
use crate::http::problem::Problem;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(sell_plan))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SellPlanQuery {
    /// Only say what would be created; nothing is written.
    #[serde(default)]
    #[param(example = false)]
    dry_run: bool,
}

/// The stock's sale dates and their sell processes.
#[derive(Serialize, ToSchema)]
struct SellPlan {
    sales: Vec<ProposedSale>,
}

/// Proposes the stock's sell processes: one draft per sale date (08:00 KST kickoff, before the
/// pre-open), each listing the clients whose shares unlock that day. A date that already has a
/// sell process keeps it. Load each one's plan with `POST /processes/{id}/advice`, then schedule it.
#[utoipa::path(post, path = "/api/v1/stocks/{id}/sell-plan", tag = "stocks",
    params(("id" = StockId, Path, example = "sesol"), SellPlanQuery),
    security(("staff" = ["advisor"])), responses((status = 200, body = SellPlan)))]
async fn sell_plan(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(stock_id): Id<StockId>,
    Query(q): Query<SellPlanQuery>,
) -> Result<Json<SellPlan>, Problem> {
    let sales = s.app.propose_sell_processes(&stock_id, q.dry_run).await?;
    let created: Vec<&str> =
        sales.iter().filter(|p| p.proposal == Proposal::Created).map(|p| p.process_id.as_str()).collect();
    if !created.is_empty() {
        super::audit(&s, &caller, "stock.sell_plan", stock_id.as_str(), None, Some(json!({ "created": created })))
            .await;
    }
    Ok(Json(SellPlan { sales }))
}
