//! The staff API under `/api/v1`: every route authenticated, every role checked, errors as
//! problem+json.

mod advice;
pub mod auth;
mod clients;
mod extract;
mod journal;
mod processes;
mod staff;
mod stocks;

use crate::app::App;
use auth::Authenticator;
use axum::Router;
use std::sync::Arc;

#[derive(Clone)]
pub struct ApiState {
    pub app: Arc<App>,
    pub auth: Arc<dyn Authenticator>,
}

pub fn routes(app: Arc<App>, auth: Arc<dyn Authenticator>) -> Router {
    Router::new()
        .merge(advice::routes())
        .merge(clients::routes())
        .merge(stocks::routes())
        .merge(processes::routes())
        .merge(staff::routes())
        .merge(journal::routes())
        .with_state(ApiState { app, auth })
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
