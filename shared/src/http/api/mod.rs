//! The staff API under `/api/v1`: every route authenticated, every role checked, errors as
//! problem+json, and the OpenAPI document generated from the same routes.
//!
//! Routes come in families, each deployed as its own Lambda function with only the permissions
//! its routes need; the devserver and tests serve them all.

mod advice;
pub mod auth;
mod bot;
mod clients;
pub(crate) mod extract;
mod journal;
pub mod openapi;
mod processes;
mod result;
mod schemas;
mod sell_plan;
mod staff;
mod stocks;

use crate::app::App;
use auth::Authenticator;
use axum::Router;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;

#[derive(Clone)]
pub struct ApiState {
    pub app: Arc<App>,
    pub auth: Arc<dyn Authenticator>,
}

/// A family of routes, served by one function in AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `/api/v1/staff`.
    Staff,
    /// `/api/v1/clients`: clients, link codes and message logs.
    Clients,
    /// `/api/v1/stocks`: schedules, final prices, amendments and withdrawals.
    Stocks,
    /// `/api/v1/processes`: processes, their advice and their trackers; and `/api/v1/bot`, the
    /// emergency stop, whose resume plans every process's jobs and tells the staff group.
    Processes,
    /// `/api/v1/audit`, `/api/v1/errors` and the OpenAPI document: read-only.
    Journal,
}

impl Family {
    pub const ALL: [Family; 5] = [Family::Staff, Family::Clients, Family::Stocks, Family::Processes, Family::Journal];

    pub fn name(self) -> &'static str {
        match self {
            Family::Staff => "staff",
            Family::Clients => "clients",
            Family::Stocks => "stocks",
            Family::Processes => "processes",
            Family::Journal => "journal",
        }
    }

    fn routes(self) -> OpenApiRouter<ApiState> {
        match self {
            Family::Staff => staff::routes(),
            Family::Clients => clients::routes(),
            Family::Stocks => stocks::routes().merge(result::routes()).merge(sell_plan::routes()),
            Family::Processes => processes::routes().merge(advice::routes()).merge(bot::routes()),
            Family::Journal => journal::routes().merge(openapi::routes()),
        }
    }

    /// Whether its routes send to Telegram or schedule jobs; the others run without access to either.
    pub fn reaches_out(self) -> bool {
        matches!(self, Family::Stocks | Family::Processes)
    }

    /// The paths this family serves, as the OpenAPI document spells them.
    pub fn paths(self) -> Vec<String> {
        self.routes().into_openapi().paths.paths.into_keys().collect()
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a family of routes: staff, clients, stocks, processes or journal")]
pub struct UnknownFamily(pub String);

impl FromStr for Family {
    type Err = UnknownFamily;
    fn from_str(s: &str) -> Result<Self, UnknownFamily> {
        Family::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| UnknownFamily(s.to_owned()))
    }
}

/// Every family's routes.
pub fn routes(app: Arc<App>, auth: Arc<dyn Authenticator>) -> Router {
    serve(&Family::ALL, app, auth)
}

/// The routes of some families only, as one function in AWS serves them.
pub fn serve(families: &[Family], app: Arc<App>, auth: Arc<dyn Authenticator>) -> Router {
    let router = families.iter().fold(OpenApiRouter::new(), |r, f| r.merge(f.routes()));
    let (router, _) = router.split_for_parts();
    router.with_state(ApiState { app, auth })
}

/// Records a change in the audit log, as the caller made it.
pub(super) async fn audit(
    state: &ApiState,
    caller: &auth::Principal,
    action: &str,
    entity_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) {
    state.app.record_audit(&caller.name, action, entity_id, before, after).await;
}
