//! `cargo xtask set-webhook --url URL [--secret SECRET] [--stack NAME] [--region REGION] [--no-grace]`:
//! writes the bot token and the webhook secret to the stack's SecureString parameters in SSM
//! Parameter Store (the current secret becoming the previous one, still accepted for the grace
//! period), then points the bot at the deployed webhook with the secret and an explicit list of
//! update kinds. The token is read from `TELEGRAM_BOT_TOKEN`; both go to their programs on
//! standard input (`telegram-secrets`, curl), never on a command line another user could read.

use crate::cache;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

const USAGE: &str =
    "usage: cargo xtask set-webhook --url URL [--secret SECRET] [--stack NAME] [--region REGION] [--no-grace]";

/// The updates the webhook handles; anything else Telegram need not send.
const ALLOWED_UPDATES: &str = r#"["message","edited_message","callback_query","my_chat_member"]"#;

pub fn set(args: &[String]) -> Result<(), String> {
    let mut url = None;
    let mut secret = None;
    let mut stack = None;
    let mut region = None;
    let mut keep_previous = true;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--url" => url = it.next().cloned(),
            "--secret" => secret = it.next().cloned(),
            "--stack" => stack = it.next().cloned(),
            "--region" => region = it.next().cloned(),
            "--no-grace" => keep_previous = false,
            other => return Err(format!("unknown argument {other:?}; {USAGE}")),
        }
    }
    let samconfig = std::fs::read_to_string(cache::workspace_root().join("samconfig.toml")).unwrap_or_default();
    let stack = stack.or_else(|| setting(&samconfig, "stack_name")).ok_or("--stack is required (no samconfig.toml)")?;
    let region = region.or_else(|| std::env::var("AWS_REGION").ok()).or_else(|| setting(&samconfig, "region"));
    let url = url.ok_or("--url is required: the stack's WebhookUrl output")?;
    if !url.starts_with("https://") {
        return Err("Telegram only calls https:// webhooks".into());
    }
    let token = std::env::var("TELEGRAM_BOT_TOKEN").map_err(|_| "set TELEGRAM_BOT_TOKEN to the bot's token")?;
    let generated = secret.is_none();
    let secret = match secret {
        Some(s) => s,
        None => random_secret()?,
    };
    if secret.len() < 16 || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err("the secret must be 16 or more of A-Z, a-z, 0-9, _ and -".into());
    }
    if token.trim().is_empty() || token.contains(['\n', '\r']) {
        return Err("TELEGRAM_BOT_TOKEN is empty or not one line".into());
    }
    // The parameters first: a function that starts from here on knows the new secret and still
    // accepts the old one, which Telegram uses until setWebhook below.
    store_secrets(&stack, region.as_deref(), &token, &secret, keep_previous)?;
    // curl reads its whole configuration, the token's URL included, from standard input.
    let config = format!(
        "url = \"https://api.telegram.org/bot{token}/setWebhook\"\ndata-urlencode = \"url={url}\"\ndata-urlencode = \"secret_token={secret}\"\ndata-urlencode = \"allowed_updates={ALLOWED_UPDATES}\"\nsilent\nshow-error\n"
    );
    let mut curl = Command::new("curl")
        .args(["--config", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running curl: {e}"))?;
    curl.stdin.take().ok_or("curl has no stdin")?.write_all(config.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    curl.stdout.take().ok_or("curl has no stdout")?.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    let status = curl.wait().map_err(|e| e.to_string())?;
    if !status.success() || !answer.contains("\"ok\":true") {
        return Err(format!("setWebhook failed: {answer}"));
    }
    println!("webhook set to {url}");
    if generated {
        // Nobody needs to know it: the functions read it from Parameter Store.
        println!("with a new secret, generated here and stored in /{stack}/telegram/webhook-secret");
    }
    Ok(())
}

/// A `key = "value"` setting of samconfig.toml (the first, whatever its section).
fn setting(samconfig: &str, key: &str) -> Option<String> {
    samconfig.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned()).filter(|v| !v.is_empty())
    })
}

/// Runs `telegram-secrets` (functions/lambda-support, tested against moto there) with the token and
/// the secret on its standard input, and the AWS credentials of this shell.
fn store_secrets(
    stack: &str,
    region: Option<&str>,
    token: &str,
    secret: &str,
    keep_previous: bool,
) -> Result<(), String> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(cache::workspace_root())
        .args(["run", "--quiet", "--package", "lambda-support", "--bin", "telegram-secrets", "--", "--stack", stack])
        .stdin(Stdio::piped());
    if !keep_previous {
        cmd.arg("--no-grace");
    }
    if let Some(region) = region {
        cmd.env("AWS_REGION", region);
    }
    let mut child = cmd.spawn().map_err(|e| format!("running telegram-secrets: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("telegram-secrets has no stdin")?
        .write_all(format!("{token}\n{secret}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("writing the secrets to Parameter Store failed ({status}); setWebhook was not called"))
    }
}

/// 32 hex characters from the kernel's random source.
fn random_secret() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
