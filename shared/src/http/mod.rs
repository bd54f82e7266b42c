//! The HTTP edge as one axum Router: the same routes serve API Gateway (through lambda_http) and
//! the devserver.

mod webhook;

use crate::app::App;
use axum::Router;
use axum::routing::get;
use std::sync::Arc;

pub use webhook::{MAX_UPDATE_BYTES, WebhookConfig};

pub const WEBHOOK_PATH: &str = "/telegram/webhook";

pub fn router(app: Arc<App>, webhook: WebhookConfig) -> Router {
    Router::new().route("/healthz", get(|| async { "ok" })).merge(webhook::routes(app, webhook))
}
