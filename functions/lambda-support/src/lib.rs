//! The few lines every function's `main` would otherwise repeat.

pub mod jwt;
pub mod secrets;

use secrets::{
    BOT_TOKEN_PARAMETER_ENV, DEFAULT_GRACE, ParameterStore, Secret, SecretsError, TelegramParameters,
    WEBHOOK_SECRET_GRACE_ENV, WEBHOOK_SECRET_PARAMETER_ENV, WEBHOOK_SECRET_PREVIOUS_PARAMETER_ENV, WebhookSecrets,
};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::eventbridge::EventBridgeScheduler;
use shared::adapters::telegram::{TELEGRAM_API, TelegramBot};
use shared::adapters::withheld::Withheld;
use shared::app::{App, AppConfig};
use shared::config::{ConfigError, chat_id, optional, required};
use shared::ports::clock::SystemClock;
use shared::ports::messenger::Messenger;
use shared::ports::scheduler::Scheduler;
use std::collections::HashMap;
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

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// The app with its production adapters, from the function's environment. With
/// [`Reach::Everything`], the bot token is read from Parameter Store (the parameter named by
/// `TELEGRAM_BOT_TOKEN_PARAMETER`), once.
pub async fn app_from_env(reach: Reach) -> Result<App, StartError> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let token = match reach {
        Reach::TableOnly => None,
        Reach::Everything => {
            let parameters = ParameterStore::new(aws_sdk_ssm::Client::new(&aws));
            Some(parameters.required(&required(BOT_TOKEN_PARAMETER_ENV)?).await?)
        }
    };
    build(&aws, token)
}

/// The webhook's app and its check of Telegram's secret: the bot token and the current and previous
/// webhook secrets read from Parameter Store in one request.
pub async fn webhook_from_env() -> Result<(App, WebhookSecrets), StartError> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let parameters = ParameterStore::new(aws_sdk_ssm::Client::new(&aws));
    let names = TelegramParameters {
        bot_token: required(BOT_TOKEN_PARAMETER_ENV)?,
        webhook_secret: required(WEBHOOK_SECRET_PARAMETER_ENV)?,
        webhook_secret_previous: required(WEBHOOK_SECRET_PREVIOUS_PARAMETER_ENV)?,
    };
    let grace = match optional(WEBHOOK_SECRET_GRACE_ENV) {
        None => DEFAULT_GRACE,
        Some(minutes) => minutes
            .trim()
            .parse::<u32>()
            .map(|m| chrono::TimeDelta::minutes(m.into()))
            .map_err(|e| ConfigError::Invalid { name: WEBHOOK_SECRET_GRACE_ENV, reason: e.to_string() })?,
    };
    let mut found: HashMap<String, Secret> =
        parameters.read(&[&names.bot_token, &names.webhook_secret, &names.webhook_secret_previous]).await?;
    let token =
        found.remove(&names.bot_token).ok_or_else(|| SecretsError::Missing { name: names.bot_token.clone() })?;
    let webhook = WebhookSecrets::from_read(parameters, names, &mut found, grace, Arc::new(SystemClock))?;
    Ok((build(&aws, Some(token))?, webhook))
}

/// The app, given the bot token when the function sends.
fn build(aws: &aws_config::SdkConfig, token: Option<Secret>) -> Result<App, StartError> {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), required("TABLE_NAME")?);
    let (messenger, scheduler): (Arc<dyn Messenger>, Arc<dyn Scheduler>) = match token {
        None => (Arc::new(Withheld), Arc::new(Withheld)),
        Some(token) => {
            if token.value.trim().is_empty() {
                return Err(ConfigError::Invalid {
                    name: BOT_TOKEN_PARAMETER_ENV,
                    reason: "the bot token is empty".into(),
                }
                .into());
            }
            let base = optional("TELEGRAM_API_BASE").unwrap_or_else(|| TELEGRAM_API.to_owned());
            let bot = TelegramBot::new(base, token.value)
                .map_err(|e| ConfigError::Invalid { name: BOT_TOKEN_PARAMETER_ENV, reason: e.to_string() })?;
            let scheduler = EventBridgeScheduler::new(
                aws_sdk_scheduler::Client::new(aws),
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
