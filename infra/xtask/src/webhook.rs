//! `cargo xtask set-webhook --url URL [--secret SECRET]`: points the bot at the deployed webhook with
//! a secret and an explicit list of update kinds. The token is read from `TELEGRAM_BOT_TOKEN` and
//! handed to curl on its standard input, never on a command line another user could read.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// The updates the webhook handles; anything else Telegram need not send.
const ALLOWED_UPDATES: &str = r#"["message","edited_message","callback_query","my_chat_member"]"#;

pub fn set(args: &[String]) -> Result<(), String> {
    let mut url = None;
    let mut secret = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--url" => url = it.next().cloned(),
            "--secret" => secret = it.next().cloned(),
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: cargo xtask set-webhook --url URL [--secret SECRET]"
                ));
            }
        }
    }
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
        println!(
            "secret: {secret}\n(deploy it as the stack's TelegramWebhookSecret parameter: sam deploy --parameter-overrides TelegramWebhookSecret={secret})"
        );
    }
    Ok(())
}

/// 32 hex characters from the kernel's random source.
fn random_secret() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
