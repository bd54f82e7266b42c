//! The whole system in one process on 127.0.0.1: every route, the local scheduler, the embedded
//! store on a file, and Telegram either real (long polling, when `TELEGRAM_BOT_TOKEN` is set) or the
//! built-in fake with a chat page at `/dev/telegram`.

mod demo;
mod fake_chats;
mod options;

use embedded_store::EmbeddedDynamo;
use options::Options;
use shared::adapters::dynamodb::{DynamoStore, TABLE};
use shared::adapters::local_scheduler::LocalScheduler;
use shared::adapters::telegram::{TELEGRAM_API, TelegramBot};
use shared::app::{App, AppConfig};
use shared::domain::ids::ChatId;
use shared::domain::staff::Role;
use shared::http::api::auth::{Principal, StaticTokens};
use shared::http::{WebhookConfig, router};
use shared::ports::clock::SystemClock;
use shared::ports::messenger::Messenger;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const TABLE_NAME: &str = "ipo-advisory";
/// The fake Telegram's staff group.
pub const FAKE_STAFF_CHAT: ChatId = ChatId(-1_001_876_543_210);

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,dynoxide=error")),
        )
        .init();
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("devserver: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<(), String> {
    std::fs::create_dir_all(&options.data_dir).map_err(|e| format!("creating {}: {e}", options.data_dir.display()))?;
    let file = options.data_dir.join("ipo-advisory.sqlite");
    let engine = EmbeddedDynamo::on_file(&file, 0).await.map_err(|e| e.to_string())?;
    TABLE.create(&engine.client(), TABLE_NAME).await.map_err(|e| e.to_string())?;
    let store = Arc::new(DynamoStore::new(engine.client(), TABLE_NAME));

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|e| format!("listening on 127.0.0.1:{}: {e}", options.port))?;
    let base = format!("http://127.0.0.1:{}", listener.local_addr().map_err(|e| e.to_string())?.port());
    let secret = random_token()?;

    // Telegram: the real one by long polling, or the built-in fake delivering to our webhook.
    let (messenger, staff_chat, fake): (Arc<dyn Messenger>, _, _) = match &options.telegram_token {
        Some(token) => (
            Arc::new(TelegramBot::new(TELEGRAM_API, token.clone()).map_err(|e| e.to_string())?),
            options.staff_chat,
            None,
        ),
        None => {
            let fake = Arc::new(testkit::fake_telegram::FakeTelegram::start(Default::default()).await);
            let bot = TelegramBot::new(fake.api_base(), fake.token()).map_err(|e| e.to_string())?;
            (Arc::new(bot), Some(options.staff_chat.unwrap_or(FAKE_STAFF_CHAT)), Some(fake))
        }
    };
    let app = Arc::new(App {
        store: store.clone(),
        messenger: messenger.clone(),
        scheduler: Arc::new(LocalScheduler::new(store.clone())),
        clock: Arc::new(SystemClock),
        pacing_clock: Arc::new(SystemClock),
        send_gate: Default::default(),
        memo: Default::default(),
        config: AppConfig { staff_chat, ..AppConfig::default() },
    });
    if options.demo {
        demo::load(&app, fake.is_some()).await.map_err(|e| format!("loading the demo data: {e}"))?;
    }

    let auth = StaticTokens::default().with(
        options.admin_token.clone(),
        Principal { name: "admin".into(), role: Role::Admin, staff_id: "admin".parse().ok() },
    );
    let mut routes = router(app.clone(), WebhookConfig { secret: secret.clone() })
        .merge(shared::http::api::routes(app.clone(), Arc::new(auth)));
    if let Some(fake) = &fake {
        routes = routes.merge(fake_chats::routes(fake.clone(), app.clone(), staff_chat.unwrap_or(FAKE_STAFF_CHAT)));
        messenger
            .set_webhook(
                &format!("{base}/telegram/webhook"),
                &secret,
                &["message", "edited_message", "callback_query", "my_chat_member"],
            )
            .await
            .map_err(|e| format!("pointing the fake Telegram at the webhook: {e}"))?;
    }

    let (stop, stopped) = watch::channel(false);
    let scheduler_loop = tokio::spawn(run_scheduler(app.clone(), stopped.clone()));
    let polling = options.telegram_token.is_some().then(|| tokio::spawn(poll_telegram(app.clone(), stopped.clone())));

    println!("ipo-advisory devserver");
    println!("  serving   {base}  (GET /healthz, POST /telegram/webhook, /api/v1/…)");
    println!("  api       {base}/api/v1/openapi.json describes every route (OpenAPI 3.1)");
    println!("  login     Authorization: Bearer {}", options.admin_token);
    println!("  store     {} (table {TABLE_NAME})", file.display());
    match &fake {
        Some(_) => {
            println!("  telegram  built-in fake: open {base}/dev/telegram to read each group and answer as the client")
        }
        None => println!("  telegram  real bot, long polling (staff group {:?})", staff_chat.map(|c| c.0)),
    }
    if options.demo {
        println!("  demo      five clients, three IPOs, and (가상)한빛로보틱스's first-day advice, sent on start");
    }
    println!("  Ctrl-C stops");

    let mut on_stop = stopped.clone();
    axum::serve(listener, routes)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = stop.send(true);
            let _ = on_stop.changed().await;
        })
        .await
        .map_err(|e| format!("serving: {e}"))?;
    // Requests in flight have finished; let the loops finish the job they are on.
    let _ = scheduler_loop.await;
    if let Some(polling) = polling {
        let _ = polling.await;
    }
    engine.shutdown().await;
    println!("stopped");
    Ok(())
}

/// Fires due jobs every second until told to stop (a job in progress is finished first).
async fn run_scheduler(app: Arc<App>, mut stopped: watch::Receiver<bool>) {
    loop {
        if let Err(e) = app.run_due_jobs(app.clock.now()).await {
            tracing::error!(error = %e, "scheduler loop");
        }
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Long polling: no public URL needed. Each update goes through the webhook's own handling.
async fn poll_telegram(app: Arc<App>, mut stopped: watch::Receiver<bool>) {
    let mut offset = 0;
    loop {
        let updates = tokio::select! {
            _ = stopped.changed() => return,
            updates = app.messenger.get_updates(offset, 25) => updates,
        };
        match updates {
            Ok(updates) => {
                for update in updates {
                    if let Some(id) = update.get("update_id").and_then(serde_json::Value::as_i64) {
                        offset = offset.max(id + 1);
                    }
                    app.handle_webhook(update.to_string().as_bytes()).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "getUpdates failed; retrying in 5 s");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

/// 32 hex characters from the system's random source.
pub fn random_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
