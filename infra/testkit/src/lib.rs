//! What tests share: the store engines the suites run on, a fake Telegram Bot API server
//! ([`fake_telegram`]), and a WebDriver client for the browser tests ([`webdriver`]). `cargo xtask test` starts AWS's DynamoDB Local once and exports its
//! endpoint; the embedded engine starts in-process per test.

pub mod fake_telegram;
pub mod store_faults;
pub mod store_requests;
pub mod webdriver;

use embedded_store::EmbeddedDynamo;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where `cargo xtask test` tells tests DynamoDB Local listens.
pub const DYNAMODB_LOCAL_ENDPOINT_ENV: &str = "DYNAMODB_LOCAL_ENDPOINT";
/// Where `cargo xtask test` tells tests moto's server (EventBridge Scheduler, SSM) listens.
pub const MOTO_ENDPOINT_ENV: &str = "MOTO_ENDPOINT";
/// Set (to anything but empty) by `cargo xtask test`, which starts every server: a test that finds
/// no endpoint then fails instead of skipping, so that a pass always means the test ran.
pub const REQUIRE_SERVERS_ENV: &str = "IPO_REQUIRE_SERVERS";

/// The endpoint of a server `cargo xtask test` starts, from the environment variable `var`: every
/// test that needs a server asks here. Without it, under a plain `cargo test`, `None`, after saying
/// on stderr that the test is skipped; with [`REQUIRE_SERVERS_ENV`] set, a panic: the test fails.
pub fn server_endpoint(var: &str, server: &str) -> Option<String> {
    let require = std::env::var_os(REQUIRE_SERVERS_ENV).is_some_and(|v| !v.is_empty());
    match decide(var, server, std::env::var(var).ok(), require) {
        Found::Endpoint(endpoint) => Some(endpoint),
        Found::Skip(line) => {
            // Straight to the process's stderr: libtest captures `eprintln!` of a passing test,
            // and a skip must be seen under a plain `cargo test`.
            let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
            None
        }
        Found::Fail(why) => panic!("{why}"),
    }
}

/// What [`server_endpoint`] makes of the environment.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    Endpoint(String),
    /// Skip the test, saying this.
    Skip(String),
    /// Fail the test, saying this.
    Fail(String),
}

fn decide(var: &str, server: &str, endpoint: Option<String>, require: bool) -> Found {
    match endpoint.filter(|e| !e.is_empty()) {
        Some(endpoint) => Found::Endpoint(endpoint),
        None if require => Found::Fail(format!(
            "{server} is needed and {var} is not set, while {REQUIRE_SERVERS_ENV} says the servers are up"
        )),
        None => Found::Skip(format!("skipped: {server} is not running, {var} is not set (cargo xtask test starts it)")),
    }
}

/// Whether `engine` can be had: always for the embedded engine; for DynamoDB Local as
/// [`server_endpoint`] says (so a skip is said on stderr, and is a failure under the test command).
pub fn available(engine: Engine) -> bool {
    match engine {
        Engine::Dynoxide => true,
        Engine::DynamoDbLocal => server_endpoint(DYNAMODB_LOCAL_ENDPOINT_ENV, "DynamoDB Local").is_some(),
    }
}

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
/// which happens under a plain `cargo test` (said on stderr); under `cargo xtask test`, which
/// starts it, its absence is a panic (see [`server_endpoint`]).
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
            let endpoint = server_endpoint(DYNAMODB_LOCAL_ENDPOINT_ENV, "DynamoDB Local")?;
            Some(EngineHandle { engine, client: embedded_store::local_client(&endpoint), table, _embedded: None })
        }
    }
}

/// A name unique within this machine's test run: prefix, process id, a counter.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// What a test on DynamoDB Local does when it finds none; run in a child process by the test
    /// below, never on its own.
    #[test]
    #[ignore = "run by a_test_needing_dynamodb_local_skips_under_cargo_test_and_fails_under_the_test_command"]
    fn needs_dynamodb_local() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        assert!(runtime.block_on(engine(Engine::DynamoDbLocal)).is_none(), "no endpoint was given");
    }

    /// The whole path, in a child process of this test binary without DynamoDB Local: a pass that
    /// says it skipped under a plain `cargo test`, a failure under `cargo xtask test`.
    #[test]
    fn a_test_needing_dynamodb_local_skips_under_cargo_test_and_fails_under_the_test_command() {
        let run = |require: bool| {
            let mut child = Command::new(std::env::current_exe().expect("this test binary"));
            child.args(["--ignored", "--exact", "tests::needs_dynamodb_local"]).env_remove(DYNAMODB_LOCAL_ENDPOINT_ENV);
            match require {
                true => child.env(REQUIRE_SERVERS_ENV, "1"),
                false => child.env_remove(REQUIRE_SERVERS_ENV),
            };
            let output = child.output().expect("running this test binary");
            let said =
                format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
            (output.status.success(), said)
        };
        let (passed, said) = run(false);
        assert!(passed, "{said}");
        assert!(said.contains("skipped: DynamoDB Local is not running, DYNAMODB_LOCAL_ENDPOINT is not set"), "{said}");
        let (passed, said) = run(true);
        assert!(!passed, "{said}");
        assert!(said.contains("while IPO_REQUIRE_SERVERS says the servers are up"), "{said}");
        assert!(said.contains("test tests::needs_dynamodb_local ... FAILED"), "{said}");
    }

    #[test]
    fn a_missing_server_is_a_skip_under_cargo_test_and_a_failure_under_the_test_command() {
        let endpoint = || Some("http://127.0.0.1:8000".to_owned());
        let given = Found::Endpoint("http://127.0.0.1:8000".into());
        assert_eq!(decide("X_ENDPOINT", "X", endpoint(), false), given);
        assert_eq!(decide("X_ENDPOINT", "X", endpoint(), true), given);
        let skip = Found::Skip("skipped: X is not running, X_ENDPOINT is not set (cargo xtask test starts it)".into());
        assert_eq!(decide("X_ENDPOINT", "X", None, false), skip);
        assert_eq!(decide("X_ENDPOINT", "X", Some(String::new()), false), skip, "empty is unset");
        let fail = "X is needed and X_ENDPOINT is not set, while IPO_REQUIRE_SERVERS says the servers are up";
        assert_eq!(decide("X_ENDPOINT", "X", None, true), Found::Fail(fail.into()));
    }
}
