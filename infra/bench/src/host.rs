//! The bench's own process: the store and the fake Telegram, and the function processes it starts
//! and talks to.

use crate::Error;
use crate::function::FunctionArgs;
use crate::quota::CpuQuota;
use embedded_store::EmbeddedDynamo;
use serde::Deserialize;
use shared::adapters::dynamodb::{DynamoStore, TABLE};
use shared::adapters::telegram::TelegramBot;
use shared::domain::ids::ProcessId;
use shared::ports::messenger::Messenger;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use testkit::fake_telegram::{FakeConfig, FakeTelegram};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const TABLE_NAME: &str = "bench";
const SECRET: &str = "bench-webhook-secret";
pub const STAFF_CHAT: i64 = -1_001_876_543_210;

/// The store and the fake Bot API, with Telegram's limits on.
pub struct World {
    pub store: Arc<DynamoStore>,
    pub fake: FakeTelegram,
    engine: EmbeddedDynamo,
}

impl World {
    pub async fn start() -> Result<World, Error> {
        let engine = EmbeddedDynamo::in_memory().await?;
        let client = engine.client();
        TABLE.create(&client, TABLE_NAME).await?;
        let store = Arc::new(DynamoStore::new(client, TABLE_NAME));
        let fake = FakeTelegram::start(FakeConfig::default()).await;
        Ok(World { store, fake, engine })
    }

    fn function_args(&self, run_jobs: bool) -> FunctionArgs {
        FunctionArgs {
            store: self.engine.endpoint(),
            table: TABLE_NAME.into(),
            telegram: self.fake.api_base().to_owned(),
            token: self.fake.token().to_owned(),
            secret: SECRET.into(),
            staff_chat: STAFF_CHAT,
            run_jobs,
        }
    }

    /// Starts a function process; with `memory_mb`, held to that Lambda memory's CPU share.
    pub async fn function(&self, name: &str, run_jobs: bool, memory_mb: Option<u32>) -> Result<Function, Error> {
        let quota = match memory_mb {
            Some(mb) => Some(CpuQuota::new(&format!("ipo-bench-{}-{name}", std::process::id()), mb)?),
            None => None,
        };
        let mut child = Command::new(std::env::current_exe()?)
            .args(self.function_args(run_jobs).to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        if let (Some(quota), Some(pid)) = (&quota, child.id()) {
            quota.admit(pid)?;
        }
        let stdout = child.stdout.take().ok_or("function: no standard output")?;
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            match lines.next_line().await? {
                Some(line) => {
                    if let Some(base) = line.strip_prefix("ready ") {
                        break base.to_owned();
                    }
                }
                None => return Err(format!("the {name} function exited before it was ready").into()),
            }
        };
        let http = reqwest::Client::builder().no_proxy().build()?;
        Ok(Function { name: name.to_owned(), base, http, child, quota })
    }

    /// Points the fake's webhook at a function.
    pub async fn route_updates_to(&self, function: &Function) -> Result<(), Error> {
        let bot = TelegramBot::new(self.fake.api_base(), self.fake.token())?;
        let url = format!("{}/telegram/webhook", function.base);
        bot.set_webhook(&url, SECRET, &["message", "edited_message", "callback_query", "my_chat_member"]).await?;
        Ok(())
    }
}

/// A running function process.
pub struct Function {
    pub name: String,
    base: String,
    http: reqwest::Client,
    child: Child,
    quota: Option<CpuQuota>,
}

/// What a function asked of the store so far.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Stats {
    pub store: BTreeMap<String, u64>,
    pub store_writes: u64,
    pub store_refused: u64,
    pub scheduler: u64,
}

impl Stats {
    pub fn store_total(&self) -> u64 {
        self.store.values().sum()
    }
}

#[derive(Debug, Deserialize)]
pub struct StartReport {
    #[serde(default)]
    pub sent: usize,
    #[serde(default)]
    pub failed: Vec<String>,
    pub error: Option<String>,
}

impl Function {
    /// Starts a process now, as its kickoff job would; returns when every send is done.
    pub async fn start(&self, process: &ProcessId) -> Result<StartReport, Error> {
        let url = format!("{}/bench/start/{process}", self.base);
        Ok(self.http.post(url).send().await?.error_for_status()?.json().await?)
    }

    pub async fn stats(&self) -> Result<Stats, Error> {
        let url = format!("{}/bench/stats", self.base);
        Ok(self.http.get(url).send().await?.error_for_status()?.json().await?)
    }

    /// Throttling the CPU quota imposed: periods held back, seconds lost.
    pub fn throttled(&self) -> Option<(u64, f64)> {
        self.quota.as_ref().and_then(CpuQuota::throttled)
    }

    /// Stops the process (closing its input) and waits for it, so its control group can go.
    pub async fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.child.wait()).await;
        let _ = self.child.kill().await;
        drop(self.quota.take());
    }
}
