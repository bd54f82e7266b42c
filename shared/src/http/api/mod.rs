//! The staff API under `/api/v1`: every route authenticated, every role checked, errors as
//! problem+json.

mod advice;
pub mod auth;
mod clients;
mod extract;
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
        .with_state(ApiState { app, auth })
}
