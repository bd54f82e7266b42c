//! Command line and environment.

use shared::domain::ids::ChatId;
use std::path::PathBuf;

pub const USAGE: &str = "usage: devserver [--port PORT] [--data-dir DIR] [--demo] [--admin-token TOKEN]

  --port PORT          where to listen on 127.0.0.1 (default 3000)
  --data-dir DIR       where the embedded store keeps its file (default ./data; survives restarts)
  --demo               load the demo data (clients, IPOs) and send (가상)한빛로보틱스's first-day advice
  --admin-token TOKEN  the staff API's admin bearer token (or DEVSERVER_ADMIN_TOKEN; generated if unset)

environment:
  TELEGRAM_BOT_TOKEN      use the real bot (long polling) instead of the built-in fake
  TELEGRAM_STAFF_CHAT_ID  the staff group's chat id";

pub struct Options {
    pub port: u16,
    pub data_dir: PathBuf,
    pub demo: bool,
    pub admin_token: String,
    pub telegram_token: Option<String>,
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
        options.admin_token = match admin_token {
            Some(token) => token,
            None => crate::random_token()?,
        };
        Ok(options)
    }
}
