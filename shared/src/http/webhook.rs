//! `POST /telegram/webhook`: checks Telegram's secret header, then hands the body to the use case.
//! Answers: 401 for a wrong secret, 413 for an oversized body, 503 when the update could not be
//! durably accepted (Telegram retries), 200 for everything else, so that an unparseable or
//! unwanted update is never retried forever.

use super::{WEBHOOK_PATH, constant_time_eq};
use crate::app::{App, WebhookOutcome};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::sync::Arc;

/// Telegram's updates are a few KB; anything this large is not one.
pub const MAX_UPDATE_BYTES: usize = 256 * 1024;
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

#[derive(Clone)]
pub struct WebhookConfig {
    /// The `secret_token` given to `setWebhook`.
    pub secret: String,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookConfig { secret: <redacted> }")
    }
}

/// Whether a call carries Telegram's secret: one fixed secret ([`WebhookConfig`], the devserver and
/// tests), or the secrets a Lambda reads from Parameter Store, which change by rotation.
#[async_trait::async_trait]
pub trait WebhookAuth: Send + Sync + 'static {
    /// `given`: the `X-Telegram-Bot-Api-Secret-Token` header, empty when absent. Compare in
    /// constant time ([`super::constant_time_eq`]).
    async fn accepts(&self, given: &[u8]) -> bool;
}

#[async_trait::async_trait]
impl WebhookAuth for WebhookConfig {
    async fn accepts(&self, given: &[u8]) -> bool {
        constant_time_eq(given, self.secret.as_bytes())
    }
}

#[derive(Clone)]
struct WebhookState {
    app: Arc<App>,
    auth: Arc<dyn WebhookAuth>,
}

pub(super) fn routes(app: Arc<App>, auth: impl WebhookAuth) -> Router {
    let state = WebhookState { app, auth: Arc::new(auth) };
    Router::new().route(WEBHOOK_PATH, post(receive)).with_state(state)
}

async fn receive(State(state): State<WebhookState>, headers: HeaderMap, body: Body) -> (StatusCode, &'static str) {
    let given = headers.get(SECRET_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
    if !state.auth.accepts(given).await {
        tracing::warn!("webhook call with a wrong or missing secret");
        return (StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // Read only once the caller is known to be Telegram: a stranger's body is never buffered.
    let Ok(body) = axum::body::to_bytes(body, MAX_UPDATE_BYTES).await else {
        tracing::warn!(limit = MAX_UPDATE_BYTES, "webhook body too large, or cut short");
        return (StatusCode::PAYLOAD_TOO_LARGE, "too large");
    };
    // On its own task: a caller that hangs up (Telegram gives up on a slow answer and will
    // redeliver, which finds the update taken) must not cancel an update half handled.
    let app = state.app.clone();
    let handled = tokio::spawn(async move { app.handle_webhook(&body).await }).await;
    match handled {
        Ok(WebhookOutcome::Processed | WebhookOutcome::Duplicate | WebhookOutcome::Ignored(_)) => {
            (StatusCode::OK, "ok")
        }
        Ok(WebhookOutcome::RetryLater(_)) => (StatusCode::SERVICE_UNAVAILABLE, "retry later"),
        Err(e) => {
            tracing::error!(error = %e, "the update's handling panicked");
            (StatusCode::INTERNAL_SERVER_ERROR, "failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::http::constant_time_eq;

    #[test]
    fn secrets_compare_exactly() {
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(!constant_time_eq(b"s3cret", b"s3creT"));
        assert!(!constant_time_eq(b"s3cret", b"s3cre"));
        assert!(!constant_time_eq(b"", b"s3cret"));
    }
}
