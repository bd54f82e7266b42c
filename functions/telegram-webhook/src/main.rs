//! Telegram's webhook on Lambda: builds the clients once, then serves the shared router.

use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::telegram::{TELEGRAM_API, TelegramBot};
use shared::app::{App, AppConfig};
use shared::config::{chat_id, optional, required};
use shared::http::{WebhookConfig, router};
use shared::ports::clock::SystemClock;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), required("TABLE_NAME")?);
    let base = optional("TELEGRAM_API_BASE").unwrap_or_else(|| TELEGRAM_API.to_owned());
    let bot = TelegramBot::new(base, required("TELEGRAM_BOT_TOKEN")?)?;
    let config = AppConfig { staff_chat: chat_id("TELEGRAM_STAFF_CHAT_ID")?, ..AppConfig::default() };
    let app = App {
        store: Arc::new(store),
        messenger: Arc::new(bot),
        clock: Arc::new(SystemClock),
        pacing_clock: Arc::new(SystemClock),
        config,
    };
    let webhook = WebhookConfig { secret: required("TELEGRAM_WEBHOOK_SECRET")? };
    lambda_http::run(router(Arc::new(app), webhook)).await
}
