//! The test run.

use crate::{cache, dynamodb_local, moto, python, schemathesis};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The environment variable the store suite reads: `testkit::DYNAMODB_LOCAL_ENDPOINT_ENV` (not
/// imported, to keep the emulator crates out of this small binary).
const DYNAMODB_LOCAL_ENDPOINT_ENV: &str = "DYNAMODB_LOCAL_ENDPOINT";
/// The environment variable the moto tests read: EventBridge Scheduler
/// (`shared/tests/eventbridge_scheduler.rs`) and SSM Parameter Store (`functions/lambda-support/tests/ssm.rs`).
const MOTO_ENDPOINT_ENV: &str = "MOTO_ENDPOINT";

/// cfn-lint, pinned; it lints the SAM template offline.
const CFN_LINT: &str = "cfn-lint==1.58.0";

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(cache::workspace_root());
    cmd
}

pub fn test(extra: &[String]) -> Result<(), String> {
    let extra: Vec<&String> = extra.iter().skip_while(|a| *a == "--").collect();

    step("cargo fmt --check");
    cache::run(cargo().args(["fmt", "--all", "--check"]))?;
    step("cargo clippy --all-targets -- -D warnings");
    cache::run(cargo().args(["clippy", "--workspace", "--all-targets", "--quiet", "--", "-D", "warnings"]))?;

    step("cfn-lint template.yaml");
    let cfn_lint = python::tool(CFN_LINT, "cfn-lint")?;
    cache::run(Command::new(cfn_lint).arg("template.yaml").current_dir(cache::workspace_root()))?;

    step("DynamoDB Local and moto");
    let jar_dir = dynamodb_local::install()?;
    let moto_server = moto::install()?;
    // Both are stopped by their drop guards, whatever happens from here on.
    let dynamodb = dynamodb_local::start(&jar_dir)?;
    let moto = moto::start(&moto_server)?;

    step("cargo test --workspace");
    let counts = run_tests(&dynamodb.endpoint(), &moto.endpoint(), &extra);
    drop(moto);
    drop(dynamodb);
    let counts = counts?;

    step("schemathesis against the devserver's /api/v1/openapi.json");
    schemathesis::run()?;

    // The benchmark runs here too, small, so that it cannot rot: nothing lost, no limit broken.
    step("cargo xtask bench fanout --clients 30");
    let output = cargo()
        .args(["run", "--quiet", "--package", "bench", "--", "fanout", "--clients", "30"])
        .output()
        .map_err(|e| format!("running the fanout bench: {e}"))?;
    let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    println!("{line}");
    if !output.status.success() || !line.contains("violations=0 lost=0") {
        return Err(format!("the fanout bench lost messages or broke a limit: {line}"));
    }

    println!("store suite: dynoxide {} passed, DynamoDB Local {} passed", counts.dynoxide, counts.dynamodb_local);
    println!("EventBridge Scheduler on moto: {} passed", counts.eventbridge);
    println!("SSM Parameter Store on moto: {} passed", counts.ssm);
    if counts.dynamodb_local == 0 {
        return Err("the store suite ran no test on DynamoDB Local".into());
    }
    if counts.dynoxide == 0 {
        return Err("the store suite ran no test on the embedded engine".into());
    }
    if counts.eventbridge == 0 {
        return Err("the EventBridge Scheduler tests ran no test on moto".into());
    }
    if counts.ssm == 0 {
        return Err("the SSM Parameter Store tests ran no test on moto".into());
    }
    Ok(())
}

fn step(name: &str) {
    eprintln!("\nxtask: ── {name}");
}

#[derive(Default)]
struct Counts {
    dynoxide: usize,
    dynamodb_local: usize,
    eventbridge: usize,
    ssm: usize,
}

/// Runs the tests, echoing their output and counting the passes of the suites that need a server.
fn run_tests(dynamodb_endpoint: &str, moto_endpoint: &str, extra: &[&String]) -> Result<Counts, String> {
    let mut child = cargo()
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(extra)
        .env(DYNAMODB_LOCAL_ENDPOINT_ENV, dynamodb_endpoint)
        .env(MOTO_ENDPOINT_ENV, moto_endpoint)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo test: {e}"))?;
    let mut counts = Counts::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(name) = line.strip_prefix("test ").and_then(|l| l.strip_suffix(" ... ok")) {
                if name.starts_with("dynamodb_local::") {
                    counts.dynamodb_local += 1;
                } else if name.starts_with("dynoxide::") {
                    counts.dynoxide += 1;
                } else if name.starts_with("eventbridge::") {
                    counts.eventbridge += 1;
                } else if name.starts_with("ssm::") {
                    counts.ssm += 1;
                }
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    if status.success() { Ok(counts) } else { Err(format!("tests failed ({status})")) }
}

/// The fan-out, bound by Telegram's limits, runs in the dev profile the tests have already built;
/// the burst, and anything with `--lambda-memory`, measures CPU, so it runs a release build, as
/// the functions deploy (on 2 cores a debug build's own slowness broke Telegram's limits).
pub fn bench(args: &[String]) -> Result<(), String> {
    let cpu_bound = args.first().is_some_and(|a| a == "burst") || args.iter().any(|a| a == "--lambda-memory");
    let profile: &[&str] = if cpu_bound { &["--release"] } else { &[] };
    match args.first().map(String::as_str) {
        Some("fanout" | "burst") => {
            cache::run(cargo().args(["run", "--quiet"]).args(profile).args(["--package", "bench", "--"]).args(args))
        }
        // The Lambda bench is about the deployed artifacts, so it builds them (release, cargo lambda).
        Some("lambda") => crate::lambda::bench(&args[1..]),
        _ => Err(format!(
            "usage: cargo xtask bench fanout --clients N [--lambda-memory MB]\n       cargo xtask bench burst --clients N [--stocks K] [--lambda-memory MB]\n       {}",
            crate::lambda::USAGE
        )),
    }
}
