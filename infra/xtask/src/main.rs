//! `cargo xtask test`: installs what the tests need (into a cache outside the repository), starts
//! the servers, runs format, lint and every test, and stops the servers by process id whatever
//! happened.

mod cache;
mod chromium;
mod dynamodb_local;
mod lambda;
mod moto;
mod python;
mod run;
mod schemathesis;
mod server;
mod webhook;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask test [-- <cargo test args>]
       cargo xtask bench fanout --clients N [--lambda-memory MB]
       cargo xtask bench burst --clients N [--stocks K] [--window S] [--seed S] [--lambda-memory MB]
       cargo xtask bench lambda [--arch arm64|x86_64] [--runs N]
       cargo xtask bench pages [--runs N] [--clients N] [--stocks K] [--running R] [--release]
       cargo xtask set-webhook --url URL [--secret SECRET] [--stack NAME] [--region R] [--no-grace]

  test    check formatting, run clippy, lint template.yaml (cfn-lint), run every test of
          the workspace with DynamoDB Local and moto's server (EventBridge Scheduler, SSM)
          started and Chromium named for the browser tests (a test that finds no server or
          browser fails: IPO_REQUIRE_SERVERS=1), run
          schemathesis against a devserver's OpenAPI document, and a small fanout bench
          (tools installed into the cache on first use; Debian's chromium, chromium-driver,
          fonts-nanum and fonts-noto-color-emoji with apt-get, as root or through sudo -n)
  bench   run a benchmark (infra/bench) and print its figures:
          fanout --clients N   the phase-1 kickoff to N clients against the fake Bot API
                               with Telegram's limits on
          burst --clients N    the book-building morning: K kickoffs (--stocks, default 1)
                               to the same N clients at once, then each client presses ✅
                               and answers within --window seconds (default 60); prints
                               prompt latency and store requests per update and per send
                               (a release build: it measures CPU)
          --lambda-memory MB   (fanout, burst) run each function process in a release build
                               with the CPU share Lambda gives that memory (a cgroup quota;
                               MB/1769 of a vCPU)
          pages                every dashboard page fetched --runs times (default 20) with the
                               operator's token: its shell, and what loads with it (the page's
                               fragment, and what that loads in turn), from a devserver (dev
                               profile unless --release; embedded store) holding --clients (300)
                               clients and --stocks (140) offerings with a first-day process
                               each, the --running (5) latest started and a notice to all;
                               prints min/median/max ms per URL (the goal: under 100 ms)
          lambda               cargo lambda build --release of every function (this machine's
                               arch unless --arch; arm64 falls back to x86_64 when its Rust
                               target cannot be installed), then each bootstrap under cargo
                               lambda's emulator: size, ms to ready and to the first answer,
                               peak RSS (median of --runs, default 5)
  set-webhook   write the bot token (TELEGRAM_BOT_TOKEN) and a webhook secret (generated when
                not given) to the stack's SecureString parameters in SSM Parameter Store
                (/STACK/telegram/…; the stack and region from samconfig.toml unless given; the
                current secret becomes the previous one, accepted for the stack's grace period,
                or is deleted with --no-grace), then point the bot at the deployed webhook with
                that secret and the update kinds the bot handles

environment:
  IPO_ADVISORY_CACHE   where tools are installed (default: $XDG_CACHE_HOME/ipo-advisory
                       or ~/.cache/ipo-advisory)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => run::test(&args[1..]),
        Some("bench") => run::bench(&args[1..]),
        Some("set-webhook") => webhook::set(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
