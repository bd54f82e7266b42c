//! The HTTP edge as one axum Router: the same routes serve API Gateway (through lambda_http) and
//! the devserver.

pub mod api;
pub mod problem;
mod webhook;

use crate::app::App;
use axum::Router;
use axum::routing::get;
use std::sync::Arc;

pub use webhook::{MAX_UPDATE_BYTES, WebhookConfig};

pub const WEBHOOK_PATH: &str = "/telegram/webhook";

/// The webhook (and the health check).
pub fn router(app: Arc<App>, webhook: WebhookConfig) -> Router {
    health().merge(webhook::routes(app, webhook))
}

/// `GET /healthz`: answers without authentication.
pub fn health() -> Router {
    Router::new().route("/healthz", get(|| async { "ok" }))
}

/// Compares without stopping at the first difference, so response times do not reveal a secret.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
