//! The few lines every function's `main` would otherwise repeat.

pub mod jwt;

use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::eventbridge::EventBridgeScheduler;
use shared::adapters::telegram::{TELEGRAM_API, TelegramBot};
use shared::adapters::withheld::Withheld;
use shared::app::{App, AppConfig};
use shared::config::{ConfigError, chat_id, optional, required};
use shared::ports::clock::SystemClock;
use shared::ports::messenger::Messenger;
use shared::ports::scheduler::Scheduler;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

/// Logs as JSON when Lambda asks for it (`AWS_LAMBDA_LOG_FORMAT=JSON`), at `AWS_LAMBDA_LOG_LEVEL`
/// or `RUST_LOG` (default info). The runtime crates stay at info whatever is asked: at trace they
/// log whole events, headers included, and the webhook's secret is a header.
pub fn init_tracing() {
    let level = optional("AWS_LAMBDA_LOG_LEVEL").or_else(|| optional("RUST_LOG")).unwrap_or_else(|| "info".into());
    let filter = EnvFilter::try_new(format!("{},lambda_runtime=info,lambda_http=info", level.to_lowercase()))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let json = optional("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).without_time();
    if json {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}

/// What a function may reach besides the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Telegram and the scheduler: their settings are required.
    Everything,
    /// The table only: the function is deployed without a bot token or schedule permissions.
    TableOnly,
}

/// The app with its production adapters, from the function's environment.
pub async fn app_from_env(reach: Reach) -> Result<App, ConfigError> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), required("TABLE_NAME")?);
    let (messenger, scheduler): (Arc<dyn Messenger>, Arc<dyn Scheduler>) = match reach {
        Reach::TableOnly => (Arc::new(Withheld), Arc::new(Withheld)),
        Reach::Everything => {
            let base = optional("TELEGRAM_API_BASE").unwrap_or_else(|| TELEGRAM_API.to_owned());
            let bot = TelegramBot::new(base, required("TELEGRAM_BOT_TOKEN")?)
                .map_err(|e| ConfigError::Invalid { name: "TELEGRAM_BOT_TOKEN", reason: e.to_string() })?;
            let scheduler = EventBridgeScheduler::new(
                aws_sdk_scheduler::Client::new(&aws),
                required("SCHEDULE_GROUP")?,
                required("SCHEDULER_FUNCTION_ARN")?,
                required("SCHEDULER_ROLE_ARN")?,
                optional("SCHEDULER_DLQ_ARN"),
            );
            (Arc::new(bot), Arc::new(scheduler))
        }
    };
    Ok(App {
        store: Arc::new(store),
        messenger,
        scheduler,
        clock: Arc::new(SystemClock),
        pacing_clock: Arc::new(SystemClock),
        send_gate: Default::default(),
        memo: Default::default(),
        config: AppConfig { staff_chat: chat_id("TELEGRAM_STAFF_CHAT_ID")?, ..AppConfig::default() },
    })
}
