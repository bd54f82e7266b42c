//! The whole system in one process on 127.0.0.1: every route (the webhook with the Lambda's secret
//! check, `TELEGRAM_WEBHOOK_SECRET` or a generated one), the local scheduler, the embedded store on a
//! file, and Telegram either a bot (long polling, when `TELEGRAM_BOT_TOKEN` is set, at
//! `TELEGRAM_API_BASE` when set) or the built-in fake with a chat page at `/dev/telegram` whose
//! chats and update ids are kept across restarts.

mod demo;
mod fake_chats;
mod history;
mod options;

use embedded_store::EmbeddedDynamo;
use options::Options;
use shared::adapters::dynamodb::{DynamoStore, TABLE};
use shared::adapters::local_scheduler::LocalScheduler;
use shared::adapters::telegram::{TELEGRAM_API, TelegramBot};
use shared::app::{App, AppConfig, WebhookOutcome};
use shared::domain::ids::ChatId;
use shared::domain::staff::Role;
use shared::http::api::auth::{Authenticator, Principal, StaticTokens};
use shared::http::{WEBHOOK_PATH, WebhookConfig, router};
use shared::ports::clock::SystemClock;
use shared::ports::messenger::Messenger;
use shared::web::SignIn;
use shared::web::signin::DevLogin;
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
    let store_existed = file.exists();
    let engine = EmbeddedDynamo::on_file(&file, 0).await.map_err(|e| e.to_string())?;
    TABLE.create(&engine.client(), TABLE_NAME).await.map_err(|e| e.to_string())?;
    let store = Arc::new(DynamoStore::new(engine.client(), TABLE_NAME));

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|e| format!("listening on 127.0.0.1:{}: {e}", options.port))?;
    let base = format!("http://127.0.0.1:{}", listener.local_addr().map_err(|e| e.to_string())?.port());
    // The webhook's secret, as the Lambda function takes it; one of our own when unset.
    let (secret, secret_source) = match &options.webhook_secret {
        Some(secret) => (secret.clone(), "TELEGRAM_WEBHOOK_SECRET"),
        None => (random_token()?, "generated; set TELEGRAM_WEBHOOK_SECRET to choose one"),
    };

    // Telegram: a bot by long polling (Telegram's API or TELEGRAM_API_BASE's), or the built-in fake
    // delivering to our webhook, its chats kept next to the store.
    let (messenger, staff_chat, fake): (Arc<dyn Messenger>, _, _) = match &options.telegram_token {
        Some(token) => {
            let api = options.telegram_api_base.as_deref().unwrap_or(TELEGRAM_API);
            (Arc::new(TelegramBot::new(api, token.clone()).map_err(|e| e.to_string())?), options.staff_chat, None)
        }
        None => {
            let staff = options.staff_chat.unwrap_or(FAKE_STAFF_CHAT);
            let titles = fake_chats::Titles::new(staff);
            let kept = Arc::new(history::Kept::open(&options.data_dir, store_existed)?);
            let fake = Arc::new(testkit::fake_telegram::FakeTelegram::start(Default::default()).await);
            fake_chats::restore(&fake, &titles, &kept);
            let bot = TelegramBot::new(fake.api_base(), fake.token()).map_err(|e| e.to_string())?;
            (Arc::new(bot), Some(staff), Some((fake, titles, kept)))
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
    let demo = if options.demo {
        let loaded = demo::load(&app, fake.is_some()).await.map_err(|e| format!("loading the demo data: {e}"))?;
        Some(loaded.banner(&options.data_dir))
    } else {
        None
    };

    // One token per role, so the dashboard's login page can offer each role; the admin's may be
    // chosen, the others are new at each start.
    let mut tokens = vec![(Role::Admin, options.admin_token.clone())];
    for role in [Role::Advisor, Role::Operator, Role::Viewer] {
        tokens.push((role, random_token()?));
    }
    let auth: Arc<dyn Authenticator> = Arc::new(tokens.iter().fold(StaticTokens::default(), |auth, (role, token)| {
        let name = shared::web::fmt::role_name(*role);
        auth.with(token.clone(), Principal { name: name.into(), role: *role, staff_id: name.parse().ok() })
    }));
    let signin =
        SignIn::DevTokens(tokens.iter().map(|(role, token)| DevLogin { role: *role, token: token.clone() }).collect());
    let mut routes = router(app.clone(), WebhookConfig { secret: secret.clone() })
        .merge(shared::http::api::routes(app.clone(), auth.clone()))
        .merge(shared::web::routes(app.clone(), auth, signin));
    let (stop, stopped) = watch::channel(false);
    let mut keeping = None;
    if let Some((fake, titles, kept)) = &fake {
        routes =
            routes.merge(fake_chats::routes(fake.clone(), app.clone(), titles.clone(), kept.clone(), demo.clone())?);
        messenger
            .set_webhook(
                &format!("{base}{WEBHOOK_PATH}"),
                &secret,
                &["message", "edited_message", "callback_query", "my_chat_member"],
            )
            .await
            .map_err(|e| format!("pointing the fake Telegram at the webhook: {e}"))?;
        keeping = Some(tokio::spawn(fake_chats::keep(fake.clone(), titles.clone(), kept.clone(), stopped.clone())));
    }

    let scheduler_loop = tokio::spawn(run_scheduler(app.clone(), stopped.clone()));
    let polling = options.telegram_token.is_some().then(|| tokio::spawn(poll_telegram(app.clone(), stopped.clone())));

    println!("ipo-advisory devserver");
    println!("  serving   {base}  (GET /healthz, POST {WEBHOOK_PATH}, /api/v1/…, the dashboard at /)");
    println!("  api       {base}/api/v1/openapi.json describes every route (OpenAPI 3.1)");
    println!("  login     Authorization: Bearer {}", options.admin_token);
    for (role, token) in tokens.iter().skip(1) {
        println!("            {:<8}  Bearer {token}", shared::web::fmt::role_name(*role));
    }
    println!("  dashboard {base}/login  (one button per role)");
    println!("  webhook   X-Telegram-Bot-Api-Secret-Token: {secret}  ({secret_source})");
    println!(
        "            e.g. curl -H 'X-Telegram-Bot-Api-Secret-Token: {secret}' -H 'Content-Type: application/json' \\"
    );
    println!("                 --data-binary @events/telegram/staff_help.json {base}{WEBHOOK_PATH}");
    println!("  store     {} (table {TABLE_NAME})", file.display());
    match &fake {
        Some((_, _, kept)) => {
            println!("  telegram  built-in fake: open {base}/dev/telegram to read each group and answer as the client");
            println!(
                "            its chats are kept in {} ({} messages and presses; the next update id is {})",
                kept.path().display(),
                kept.message_count(),
                kept.last_update_id() + 1
            );
        }
        None => println!(
            "  telegram  bot API {}, long polling (staff group {:?})",
            options.telegram_api_base.as_deref().unwrap_or(TELEGRAM_API),
            staff_chat.map(|c| c.0)
        ),
    }
    if options.telegram_token.is_none() && options.telegram_api_base.is_some() {
        println!("            (TELEGRAM_API_BASE is for a bot: without TELEGRAM_BOT_TOKEN it is not used)");
    }
    if let Some(demo) = &demo {
        println!("  demo      {demo}");
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
    if let Some(keeping) = keeping {
        let _ = keeping.await;
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

/// Long polling: no public URL needed. Each update goes through the webhook's own handling, and one
/// it could not accept (what the webhook answers 5xx) is fetched again, as Telegram redelivers:
/// the offset moves past an update only once it was taken.
async fn poll_telegram(app: Arc<App>, mut stopped: watch::Receiver<bool>) {
    let mut offset = 0;
    loop {
        let updates = tokio::select! {
            _ = stopped.changed() => return,
            updates = app.messenger.get_updates(offset, 25) => updates,
        };
        let pause = match updates {
            Ok(updates) => take(&app, updates, &mut offset).await,
            Err(e) => {
                tracing::warn!(error = %e, "getUpdates failed; retrying in 5 s");
                Some(Duration::from_secs(5))
            }
        };
        if let Some(pause) = pause {
            tokio::select! {
                _ = stopped.changed() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// Hands a batch to the webhook's handling in order; stops at an update to fetch again, and says
/// how long to wait before that.
async fn take(app: &App, updates: Vec<serde_json::Value>, offset: &mut i64) -> Option<Duration> {
    for update in updates {
        let id = update.get("update_id").and_then(serde_json::Value::as_i64);
        if let WebhookOutcome::RetryLater(reason) = app.handle_webhook(update.to_string().as_bytes()).await {
            tracing::warn!(update_id = ?id, %reason, "update not taken; fetching it again in 1 s");
            return Some(Duration::from_secs(1));
        }
        if let Some(id) = id {
            *offset = (*offset).max(id + 1);
        }
    }
    None
}

/// 32 hex characters from the system's random source.
pub fn random_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
