//! The HTTP edge as one axum Router: the same routes serve API Gateway (through lambda_http) and
//! the devserver.

pub mod api;
pub mod problem;
mod webhook;

use crate::app::App;
use axum::Router;
use axum::routing::get;
use std::sync::Arc;

pub use webhook::{MAX_UPDATE_BYTES, WebhookAuth, WebhookConfig};

pub const WEBHOOK_PATH: &str = "/telegram/webhook";

/// The webhook (and the health check), checking Telegram's secret with `webhook`: a
/// [`WebhookConfig`] for one fixed secret.
pub fn router(app: Arc<App>, webhook: impl WebhookAuth) -> Router {
    health().merge(webhook::routes(app, webhook))
}

/// `GET /healthz`: answers without authentication.
pub fn health() -> Router {
    Router::new().route("/healthz", get(|| async { "ok" }))
}

/// Compares without stopping at the first difference, so response times do not reveal a secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
