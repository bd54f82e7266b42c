//! Telegram's webhook on Lambda: builds the clients once, then serves the shared router.

use shared::config::required;
use shared::http::{WebhookConfig, router};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_support::init_tracing();
    let app = lambda_support::app_from_env(lambda_support::Reach::Everything).await?;
    let webhook = WebhookConfig { secret: required("TELEGRAM_WEBHOOK_SECRET")? };
    lambda_http::run(router(Arc::new(app), webhook)).await
}
