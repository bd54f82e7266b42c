//! Command line and environment.

use shared::domain::ids::ChatId;
use std::path::PathBuf;

pub const USAGE: &str = "usage: devserver [--port PORT] [--data-dir DIR] [--demo] [--admin-token TOKEN]

  --port PORT          where to listen on 127.0.0.1 (default 3000)
  --data-dir DIR       where the embedded store and the fake Telegram's chats are kept (default ./data;
                       survives restarts)
  --demo               load the demo data (clients, IPOs) and send (가상)한빛로보틱스's first-day advice;
                       a data directory that has them already is kept as it is
  --admin-token TOKEN  the staff API's admin bearer token (or DEVSERVER_ADMIN_TOKEN; generated if unset)

environment:
  TELEGRAM_WEBHOOK_SECRET  the secret POST /telegram/webhook checks in X-Telegram-Bot-Api-Secret-Token
                           (1-256 of A-Z a-z 0-9 _ -; generated and printed if unset)
  TELEGRAM_BOT_TOKEN       use a bot (long polling) instead of the built-in fake
  TELEGRAM_API_BASE        with a bot token: the Bot API to use (default https://api.telegram.org; e.g.
                           Telegram's own telegram-bot-api server, or a compatible test server)
  TELEGRAM_STAFF_CHAT_ID   the staff group's chat id";

pub struct Options {
    pub port: u16,
    pub data_dir: PathBuf,
    pub demo: bool,
    pub admin_token: String,
    pub telegram_token: Option<String>,
    /// Where the bot's API is, with a token; `None` for Telegram's own.
    pub telegram_api_base: Option<String>,
    /// `TELEGRAM_WEBHOOK_SECRET`; `None` when unset (one is generated).
    pub webhook_secret: Option<String>,
    pub staff_chat: Option<ChatId>,
}

impl Options {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut options = Options {
            port: 3000,
            data_dir: PathBuf::from("data"),
            demo: false,
            admin_token: String::new(),
            telegram_token: env("TELEGRAM_BOT_TOKEN"),
            telegram_api_base: env("TELEGRAM_API_BASE").map(|base| base.trim().to_owned()),
            webhook_secret: env("TELEGRAM_WEBHOOK_SECRET"),
            staff_chat: None,
        };
        let mut admin_token = env("DEVSERVER_ADMIN_TOKEN");
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"));
            match arg.as_str() {
                "--port" => {
                    let v = value("--port")?;
                    options.port = v.parse().map_err(|_| format!("--port: {v:?} is not a port"))?;
                }
                "--data-dir" => options.data_dir = PathBuf::from(value("--data-dir")?),
                "--demo" => options.demo = true,
                "--admin-token" => admin_token = Some(value("--admin-token")?),
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
            }
        }
        if let Some(chat) = env("TELEGRAM_STAFF_CHAT_ID") {
            let id =
                chat.trim().parse::<i64>().map_err(|_| format!("TELEGRAM_STAFF_CHAT_ID: {chat:?} is not a chat id"))?;
            options.staff_chat = Some(ChatId(id));
        }
        if let Some(secret) = &options.webhook_secret
            && !valid_secret(secret)
        {
            // The value itself is not repeated: it is a secret.
            return Err(format!(
                "TELEGRAM_WEBHOOK_SECRET: Telegram takes 1-256 characters of A-Z a-z 0-9 _ - (got {} characters)",
                secret.chars().count()
            ));
        }
        if let Some(base) = &options.telegram_api_base
            && !(base.starts_with("http://") || base.starts_with("https://"))
        {
            return Err(format!("TELEGRAM_API_BASE: {base:?} is not an http:// or https:// URL"));
        }
        options.admin_token = match admin_token {
            Some(token) => token,
            None => crate::random_token()?,
        };
        Ok(options)
    }
}

/// What Telegram accepts as a webhook's `secret_token`.
fn valid_secret(secret: &str) -> bool {
    (1..=256).contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
