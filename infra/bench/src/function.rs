//! One function's side, in a process of its own (so that a CPU quota holds it alone): the shared
//! use cases with the production adapters, pointed at the bench's store and fake Telegram. It
//! serves the webhook as the webhook function does, starts processes when asked (as the
//! scheduler function's kickoff job does), runs due jobs when told to (the local scheduler), and
//! reports what it asked of the store. It stops when its parent closes its standard input.

use crate::Error;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::{Value, json};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::local_scheduler::LocalScheduler;
use shared::adapters::telegram::TelegramBot;
use shared::app::{App, AppConfig};
use shared::domain::ids::{ChatId, ProcessId};
use shared::http::{WebhookConfig, router};
use shared::ports::clock::SystemClock;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use testkit::store_requests::StoreRequests;
use tokio::io::AsyncReadExt;

pub const COMMAND: &str = "function";

/// How the parent starts one.
#[derive(Debug, Clone)]
pub struct FunctionArgs {
    pub store: String,
    pub table: String,
    pub telegram: String,
    pub token: String,
    pub secret: String,
    pub staff_chat: i64,
    /// Runs due jobs (staff feed, chases) every 200 ms, as the devserver does.
    pub run_jobs: bool,
}

impl FunctionArgs {
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            COMMAND.to_owned(),
            self.store.clone(),
            self.table.clone(),
            self.telegram.clone(),
            self.token.clone(),
            self.secret.clone(),
            self.staff_chat.to_string(),
        ];
        if self.run_jobs {
            args.push("--run-jobs".into());
        }
        args
    }

    fn parse(args: &[String]) -> Result<FunctionArgs, Error> {
        match args {
            [store, table, telegram, token, secret, staff_chat, rest @ ..] => Ok(FunctionArgs {
                store: store.clone(),
                table: table.clone(),
                telegram: telegram.clone(),
                token: token.clone(),
                secret: secret.clone(),
                staff_chat: staff_chat.parse()?,
                run_jobs: rest.iter().any(|a| a == "--run-jobs"),
            }),
            _ => Err("function: started with the wrong arguments (only the bench itself starts it)".into()),
        }
    }
}

#[derive(Clone)]
struct Served {
    app: Arc<App>,
    /// The store requests of the use cases.
    store: StoreRequests,
    /// The local scheduler's (in AWS: EventBridge Scheduler calls, not table requests).
    scheduler: StoreRequests,
}

pub async fn serve(args: &[String]) -> Result<(), Error> {
    let args = FunctionArgs::parse(args)?;
    // Off unless asked for (RUST_LOG): writing logs takes CPU the figures should not include.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    let base = embedded_store::local_client(&args.store);
    let (store, scheduler) = (StoreRequests::new(), StoreRequests::new());
    let table = Arc::new(DynamoStore::new(store.attach(&base), &args.table));
    let jobs = Arc::new(DynamoStore::new(scheduler.attach(&base), &args.table));
    let app = Arc::new(App {
        store: table,
        messenger: Arc::new(TelegramBot::new(&args.telegram, &args.token)?),
        scheduler: Arc::new(LocalScheduler::new(jobs)),
        clock: Arc::new(SystemClock),
        pacing_clock: Arc::new(SystemClock),
        send_gate: Default::default(),
        memo: Default::default(),
        config: AppConfig { staff_chat: Some(ChatId(args.staff_chat)), ..AppConfig::default() },
    });
    let served = Served { app: app.clone(), store, scheduler };
    let control = axum::Router::new()
        .route("/bench/start/{process}", post(start))
        .route("/bench/stats", get(stats))
        .with_state(served);
    let routes = router(app.clone(), WebhookConfig { secret: args.secret.clone() }).merge(control);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, routes).await {
            eprintln!("function: serving stopped: {e}");
        }
    });
    if args.run_jobs {
        let app = app.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = app.run_due_jobs(shared::ports::clock::Clock::now(&SystemClock)).await {
                    eprintln!("function: due jobs: {e}");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
    }
    let mut out = std::io::stdout();
    writeln!(out, "ready http://{addr}")?;
    out.flush()?;
    // The parent holds our standard input: when it closes (the bench ended, or died), stop.
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    Ok(())
}

async fn start(State(served): State<Served>, Path(process): Path<String>) -> Json<Value> {
    let Ok(process) = process.parse::<ProcessId>() else {
        return Json(json!({ "error": format!("not a process id: {process}") }));
    };
    match served.app.start_now(&process).await {
        Ok(report) => Json(json!({
            "sent": report.sent.len(),
            "failed": report.failed.iter().map(|(c, why)| format!("{c}: {why}")).collect::<Vec<_>>(),
        })),
        Err(e) => Json(json!({ "error": e.to_string() })),
    }
}

async fn stats(State(served): State<Served>) -> Json<Value> {
    Json(json!({
        "store": served.store.by_operation(),
        "store_writes": served.store.writes(),
        "store_refused": served.store.refused(),
        "scheduler": served.scheduler.total(),
    }))
}
