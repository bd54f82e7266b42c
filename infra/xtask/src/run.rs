//! The test run.

use crate::{cache, chromium, dynamodb_local, moto, python, schemathesis};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The environment variable the store suite reads: `testkit::DYNAMODB_LOCAL_ENDPOINT_ENV` (not
/// imported, to keep the emulator crates out of this small binary).
const DYNAMODB_LOCAL_ENDPOINT_ENV: &str = "DYNAMODB_LOCAL_ENDPOINT";
/// The environment variable the moto tests read: EventBridge Scheduler
/// (`shared/tests/eventbridge_scheduler.rs`) and SSM Parameter Store (`functions/lambda-support/tests/ssm.rs`).
const MOTO_ENDPOINT_ENV: &str = "MOTO_ENDPOINT";
/// `testkit::REQUIRE_SERVERS_ENV`: set while the servers are up, so that a test that finds no
/// endpoint fails instead of skipping, and every `... ok` counted below is a test that ran.
const REQUIRE_SERVERS_ENV: &str = "IPO_REQUIRE_SERVERS";

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

    step("Chromium, ChromeDriver and Korean fonts (the browser tests)");
    let browser = chromium::install()?;
    eprintln!("xtask: {} and {}", browser.chromium.display(), browser.chromedriver.display());

    step("DynamoDB Local and moto");
    let jar_dir = dynamodb_local::install()?;
    let moto_server = moto::install()?;
    // Both are stopped by their drop guards, whatever happens from here on.
    let dynamodb = dynamodb_local::start(&jar_dir)?;
    let moto = moto::start(&moto_server)?;

    step("cargo test --workspace");
    let counts = run_tests(&dynamodb.endpoint(), &moto.endpoint(), &browser, &extra);
    drop(moto);
    drop(dynamodb);
    let counts = counts?;
    println!("{}", counts.summary());
    counts.check()?;

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

    Ok(())
}

fn step(name: &str) {
    eprintln!("\nxtask: ── {name}");
}

/// The passes of the tests that run per engine or need a server, read off libtest's `test NAME ...
/// ok` lines. With [`REQUIRE_SERVERS_ENV`] set such a test cannot pass without its server (it
/// fails), so each count is of tests that ran.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    /// `dynoxide::…` (the store suite and the suites run per engine) and `…_on_the_embedded_engine`.
    dynoxide: usize,
    /// `dynamodb_local::…` and `…_on_dynamodb_local`.
    dynamodb_local: usize,
    eventbridge: usize,
    ssm: usize,
    /// The tests in headless Chromium: a name with `browser` or `chromium` in it (and no other
    /// test has one).
    browser: usize,
}

impl Counts {
    /// Counts one line of `cargo test`'s output.
    fn read(&mut self, line: &str) {
        let Some(name) = line.strip_prefix("test ").and_then(|l| l.strip_suffix(" ... ok")) else { return };
        if name.starts_with("dynamodb_local::") || name.ends_with("_on_dynamodb_local") {
            self.dynamodb_local += 1;
        } else if name.starts_with("dynoxide::") || name.ends_with("_on_the_embedded_engine") {
            self.dynoxide += 1;
        } else if name.starts_with("eventbridge::") {
            self.eventbridge += 1;
        } else if name.starts_with("ssm::") {
            self.ssm += 1;
        } else if name.contains("browser") || name.contains("chromium") {
            self.browser += 1;
        }
    }

    fn summary(&self) -> String {
        format!(
            "per engine: dynoxide {} passed, DynamoDB Local {} passed\nEventBridge Scheduler on moto: {} passed\nSSM Parameter Store on moto: {} passed\nin headless Chromium: {} passed",
            self.dynoxide, self.dynamodb_local, self.eventbridge, self.ssm, self.browser
        )
    }

    /// Fails when a server's suite ran no test, or when the engines ran different numbers of the
    /// tests written for both (a test left out on one).
    fn check(&self) -> Result<(), String> {
        if self.dynamodb_local == 0 {
            return Err("no test ran on DynamoDB Local".into());
        }
        if self.dynoxide == 0 {
            return Err("no test ran on the embedded engine".into());
        }
        if self.dynoxide != self.dynamodb_local {
            return Err(format!(
                "the engines ran different tests: dynoxide {} passed, DynamoDB Local {} passed",
                self.dynoxide, self.dynamodb_local
            ));
        }
        if self.eventbridge == 0 {
            return Err("the EventBridge Scheduler tests ran no test on moto".into());
        }
        if self.ssm == 0 {
            return Err("the SSM Parameter Store tests ran no test on moto".into());
        }
        if self.browser == 0 {
            return Err("no test ran in headless Chromium".into());
        }
        Ok(())
    }
}

/// Runs the tests, echoing their output and counting the passes of the suites that need a server.
fn run_tests(
    dynamodb_endpoint: &str,
    moto_endpoint: &str,
    browser: &chromium::Browser,
    extra: &[&String],
) -> Result<Counts, String> {
    let mut child = cargo()
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(extra)
        .env(DYNAMODB_LOCAL_ENDPOINT_ENV, dynamodb_endpoint)
        .env(MOTO_ENDPOINT_ENV, moto_endpoint)
        .env(chromium::CHROMIUM_ENV, &browser.chromium)
        .env(chromium::CHROMEDRIVER_ENV, &browser.chromedriver)
        .env(REQUIRE_SERVERS_ENV, "1")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo test: {e}"))?;
    let mut counts = Counts::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            counts.read(&line);
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
        // The pages as `cargo run -p devserver` serves them: the dev profile, the devserver built first
        // (the bench finds it beside itself).
        // `--release` measures both in the release profile instead.
        Some("pages") => {
            let release = args.iter().any(|a| a == "--release");
            let profile: &[&str] = if release { &["--release"] } else { &[] };
            let rest = args.iter().filter(|a| *a != "--release");
            cache::run(cargo().args(["build", "--quiet"]).args(profile).args(["--package", "devserver"]))?;
            cache::run(cargo().args(["run", "--quiet"]).args(profile).args(["--package", "bench", "--"]).args(rest))
        }
        // The Lambda bench is about the deployed artifacts, so it builds them (release, cargo lambda).
        Some("lambda") => crate::lambda::bench(&args[1..]),
        _ => Err(format!(
            "usage: cargo xtask bench fanout --clients N [--lambda-memory MB]\n       cargo xtask bench burst --clients N [--stocks K] [--lambda-memory MB]\n       cargo xtask bench pages [--runs N] [--clients N] [--stocks K] [--running R] [--release]\n       {}",
            crate::lambda::USAGE
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(output: &str) -> Counts {
        let mut counts = Counts::default();
        output.lines().for_each(|l| counts.read(l));
        counts
    }

    #[test]
    fn passes_are_counted_per_engine_and_server_and_nothing_else_is() {
        let output = "\
running 6 tests
test dynoxide::crud_round_trips_every_record ... ok
test dynamodb_local::crud_round_trips_every_record ... ok
test dynamodb_local::lists_paginate_with_opaque_cursors ... FAILED
test a_poison_update_is_set_aside_on_the_embedded_engine ... ok
test a_poison_update_is_set_aside_on_dynamodb_local ... ok
test eventbridge::schedule_creates_a_one_time_schedule_in_kst ... ok
test ssm::what_set_webhook_writes_a_cold_start_reads ... ok
test ssm::a_missing_parameter_is_named_and_no_value_is_shown ... ignored
test three_hundred_acknowledgements_within_a_second_each_get_their_prompt ... ok
test staff_use_the_dashboard_in_a_real_browser ... ok
test the_client_drives_headless_chromium ... FAILED
test dynoxide::demo ... ok (this line is no pass)
test result: FAILED. 7 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s
";
        assert_eq!(counts(output), Counts { dynoxide: 2, dynamodb_local: 2, eventbridge: 1, ssm: 1, browser: 1 });
        assert_eq!(counts(output).check(), Ok(()));
    }

    #[test]
    fn a_server_suite_that_ran_nothing_or_an_engine_that_ran_less_fails_the_run() {
        let all = Counts { dynoxide: 3, dynamodb_local: 3, eventbridge: 1, ssm: 1, browser: 2 };
        assert_eq!(all.check(), Ok(()));
        for short in [
            Counts { dynamodb_local: 0, ..all },
            Counts { dynoxide: 0, ..all },
            Counts { dynamodb_local: 2, ..all },
            Counts { eventbridge: 0, ..all },
            Counts { ssm: 0, ..all },
            Counts { browser: 0, ..all },
        ] {
            assert!(short.check().is_err(), "{short:?}");
        }
    }
}
