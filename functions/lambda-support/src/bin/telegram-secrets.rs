//! `telegram-secrets --stack NAME [--no-grace]`: writes the bot token and the webhook secret, read
//! from standard input (two lines, never a command line another user could read), to the stack's
//! SecureString parameters, the current webhook secret becoming the previous one. `cargo xtask
//! set-webhook` runs it before it calls `setWebhook`. AWS credentials and region come from the
//! usual places (`AWS_PROFILE`, `AWS_REGION`, …); nothing secret is printed.

use lambda_support::secrets::{Change, ParameterStore, TelegramParameters, key_alias_of_stack, store_telegram_secrets};
use std::io::BufRead;
use std::process::ExitCode;

const USAGE: &str = "usage: telegram-secrets --stack NAME [--no-grace]  (token and secret on stdin, one a line)";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("telegram-secrets: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let mut stack = None;
    let mut keep_previous = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stack" => stack = args.next(),
            "--no-grace" => keep_previous = false,
            _ => return Err(USAGE.into()),
        }
    }
    let stack = stack.filter(|s| !s.is_empty()).ok_or(USAGE)?;
    let mut lines = std::io::stdin().lock().lines();
    let mut line = |what: &str| -> Result<String, String> {
        match lines.next() {
            Some(Ok(l)) if !l.trim().is_empty() => Ok(l.trim().to_owned()),
            _ => Err(format!("no {what} on standard input; {USAGE}")),
        }
    };
    let token = line("bot token")?;
    let secret = line("webhook secret")?;

    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = ParameterStore::new(aws_sdk_ssm::Client::new(&aws));
    let names = TelegramParameters::of_stack(&stack);
    let key = key_alias_of_stack(&stack);
    let stored = store_telegram_secrets(&store, &names, Some(&key), &token, &secret, keep_previous)
        .await
        .map_err(|e| e.to_string())?;
    for (name, change) in [
        (&names.bot_token, &stored.bot_token),
        (&names.webhook_secret, &stored.webhook_secret),
        (&names.webhook_secret_previous, &stored.webhook_secret_previous),
    ] {
        let what = match change {
            Change::Unchanged => "unchanged".to_owned(),
            Change::Written { version } => format!("written (version {version}, SecureString, {key})"),
            Change::Deleted => "deleted".to_owned(),
            Change::Absent => "absent".to_owned(),
        };
        println!("{name}: {what}");
    }
    Ok(())
}
