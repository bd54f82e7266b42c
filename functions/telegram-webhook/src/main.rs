//! Telegram's webhook on Lambda: builds the clients and reads its secrets once (Parameter Store),
//! then serves the shared router.

use shared::http::router;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_support::init_tracing();
    let (app, secrets) = lambda_support::webhook_from_env().await?;
    lambda_http::run(router(Arc::new(app), secrets)).await
}
