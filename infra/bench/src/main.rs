//! Benchmarks that print figures (`cargo xtask bench …`). Each runs the functions' side (the
//! shared use cases, as the Lambda functions run them) in processes of its own, against the fake
//! Bot API with Telegram's limits on and the embedded store, both in this process; with
//! `--lambda-memory MB`, each function process gets the CPU share Lambda gives that memory.
//!
//! - `fanout --clients N`: the phase-1 kickoff to N linked clients.
//! - `burst --clients N [--stocks K]`: K kickoffs to the same N clients at once, then every client
//!   acknowledges and answers each within a minute.
//! - `pages`: every dashboard page fetched from a devserver holding 300 clients and 140 offerings.

mod burst;
mod fanout;
mod function;
mod host;
mod pages;
mod quota;
mod seed;

use std::process::ExitCode;

type Error = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: bench fanout --clients N [--lambda-memory MB]
       bench burst --clients N [--stocks K] [--window SECONDS] [--seed S] [--lambda-memory MB]
       bench pages [--runs N] [--clients N] [--stocks K] [--running R] [--devserver PATH]";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("fanout") => match Options::parse(&args[1..]) {
            Ok(options) => fanout::run(&options).await,
            Err(e) => Err(e),
        },
        Some("burst") => match Options::parse(&args[1..]) {
            Ok(options) => burst::run(&options).await,
            Err(e) => Err(e),
        },
        Some("pages") => pages::run(&args[1..]).await,
        Some(function::COMMAND) => function::serve(&args[1..]).await,
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a bench was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub clients: usize,
    pub stocks: usize,
    /// Every client acts within this many seconds of the kickoff.
    pub window_secs: u64,
    pub seed: u64,
    /// Run each function process with the CPU share of a Lambda function of this memory.
    pub lambda_memory_mb: Option<u32>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, Error> {
        let mut options = Options { clients: 0, stocks: 1, window_secs: 60, seed: 1, lambda_memory_mb: None };
        let mut rest = args.iter();
        while let Some(flag) = rest.next() {
            let value = rest.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            let number = |min: u64| -> Result<u64, Error> {
                let n: u64 = value.parse().map_err(|_| format!("{flag}: {value:?} is not a number"))?;
                if n < min { Err(format!("{flag} must be at least {min}").into()) } else { Ok(n) }
            };
            match flag.as_str() {
                "--clients" => options.clients = usize::try_from(number(1)?)?,
                "--stocks" => options.stocks = usize::try_from(number(1)?)?,
                "--window" => options.window_secs = number(1)?,
                "--seed" => options.seed = number(0)?,
                "--lambda-memory" => {
                    let mb = u32::try_from(number(128)?)?;
                    if mb > 10_240 {
                        return Err("--lambda-memory: Lambda allows at most 10240 MB".into());
                    }
                    options.lambda_memory_mb = Some(mb);
                }
                other => return Err(format!("unknown option {other}\n{USAGE}").into()),
            }
        }
        if options.clients == 0 {
            return Err(format!("--clients is required\n{USAGE}").into());
        }
        Ok(options)
    }
}
