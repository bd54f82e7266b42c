//! What tests share: the store engines the suites run on, and a fake Telegram Bot API server
//! ([`fake_telegram`]). `cargo xtask test` starts AWS's DynamoDB Local once and exports its
//! endpoint; the embedded engine starts in-process per test.

pub mod fake_telegram;
pub mod store_faults;
pub mod store_requests;

use embedded_store::EmbeddedDynamo;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where `cargo xtask test` tells tests DynamoDB Local listens.
pub const DYNAMODB_LOCAL_ENDPOINT_ENV: &str = "DYNAMODB_LOCAL_ENDPOINT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The embedded engine, in memory, one per test.
    Dynoxide,
    /// AWS's DynamoDB Local, shared by all tests (each uses its own table).
    DynamoDbLocal,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Dynoxide => "dynoxide",
            Engine::DynamoDbLocal => "DynamoDB Local",
        })
    }
}

/// A DynamoDB endpoint ready for one test, and a table name no other test uses.
pub struct EngineHandle {
    pub engine: Engine,
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
    _embedded: Option<EmbeddedDynamo>,
}

/// Starts (or connects to) `engine`. `None` when DynamoDB Local was asked for and is not running,
/// which happens under a plain `cargo test`; `cargo xtask test` always provides it and fails when
/// its suite ran no test.
pub async fn engine(engine: Engine) -> Option<EngineHandle> {
    let table = unique_name("ipo-advisory-test");
    match engine {
        Engine::Dynoxide => {
            let embedded = match EmbeddedDynamo::in_memory().await {
                Ok(e) => e,
                Err(e) => panic!("starting the embedded engine: {e}"),
            };
            Some(EngineHandle { engine, client: embedded.client(), table, _embedded: Some(embedded) })
        }
        Engine::DynamoDbLocal => {
            let endpoint = std::env::var(DYNAMODB_LOCAL_ENDPOINT_ENV).ok()?;
            Some(EngineHandle { engine, client: embedded_store::local_client(&endpoint), table, _embedded: None })
        }
    }
}

/// A name unique within this machine's test run: prefix, process id, a counter.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}
