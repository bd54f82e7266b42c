//! The Telegram Bot API over HTTPS (reqwest with rustls). The token is part of every URL, so it is
//! kept out of `Debug` and stripped from every error before it can reach a log.

use crate::domain::ids::ChatId;
use crate::ports::messenger::{DownloadedFile, Messenger, OutgoingMessage};
use crate::telegram::error::{ErrorEnvelope, TelegramError, classify};
use crate::telegram::types::SentMessage;
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::fmt;
use std::time::Duration;

pub const TELEGRAM_API: &str = "https://api.telegram.org";

#[derive(Clone)]
pub struct TelegramBot {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl fmt::Debug for TelegramBot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramBot").field("base", &self.base).field("token", &"<redacted>").finish()
    }
}

impl TelegramBot {
    /// A client for `base` (Telegram's API, or a fake one in tests). Build it once per process.
    pub fn new(base: impl Into<String>, token: impl Into<String>) -> Result<Self, TelegramError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| TelegramError::Network(e.without_url().to_string()))?;
        Ok(TelegramBot { http, base: base.into().trim_end_matches('/').to_owned(), token: token.into() })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<T, TelegramError> {
        let url = format!("{}/bot{}/{method}", self.base, self.token);
        let response = self
            .http
            .post(url)
            .json(body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| TelegramError::Network(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| TelegramError::Network(e.without_url().to_string()))?;
        if (200..300).contains(&status) {
            #[derive(serde::Deserialize)]
            struct Ok<T> {
                result: T,
            }
            return serde_json::from_slice::<Ok<T>>(&bytes)
                .map(|ok| ok.result)
                .map_err(|e| TelegramError::InvalidResponse(format!("{method}: {e}")));
        }
        match serde_json::from_slice::<ErrorEnvelope>(&bytes) {
            Ok(envelope) => Err(classify(status, envelope)),
            Err(_) if status >= 500 => {
                Err(TelegramError::Server { status, description: format!("{method} answered {status}") })
            }
            Err(e) => Err(TelegramError::InvalidResponse(format!("{method} answered {status}: {e}"))),
        }
    }
}

const SEND_TIMEOUT: Duration = Duration::from_secs(15);

#[async_trait]
impl Messenger for TelegramBot {
    async fn send_message(&self, message: &OutgoingMessage) -> Result<SentMessage, TelegramError> {
        let mut body = json!({
            "chat_id": message.chat_id.0,
            "text": message.html,
            "parse_mode": "HTML",
            "link_preview_options": { "is_disabled": true },
        });
        if let Some(markup) = &message.markup {
            body["reply_markup"] = json!(markup);
        }
        if let Some(reply_to) = message.reply_to {
            body["reply_parameters"] = json!({ "message_id": reply_to, "allow_sending_without_reply": true });
        }
        self.call("sendMessage", &body, SEND_TIMEOUT).await
    }

    async fn answer_callback(&self, callback_id: &str, text: Option<&str>) -> Result<(), TelegramError> {
        let mut body = json!({ "callback_query_id": callback_id });
        if let Some(text) = text {
            body["text"] = json!(text);
        }
        // Telegram answers `true`; a compatible server may answer `null`. Either way it is done.
        self.call::<Value>("answerCallbackQuery", &body, SEND_TIMEOUT).await.map(|_| ())
    }

    async fn edit_text(&self, chat: ChatId, message_id: i64, html: &str) -> Result<(), TelegramError> {
        let body = json!({
            "chat_id": chat.0,
            "message_id": message_id,
            "text": html,
            "parse_mode": "HTML",
            "link_preview_options": { "is_disabled": true },
        });
        self.call::<Value>("editMessageText", &body, SEND_TIMEOUT).await.map(|_| ())
    }

    async fn remove_buttons(&self, chat: ChatId, message_id: i64) -> Result<(), TelegramError> {
        let body = json!({ "chat_id": chat.0, "message_id": message_id, "reply_markup": { "inline_keyboard": [] } });
        self.call::<Value>("editMessageReplyMarkup", &body, SEND_TIMEOUT).await.map(|_| ())
    }

    async fn get_updates(&self, offset: i64, timeout_secs: u32) -> Result<Vec<Value>, TelegramError> {
        let body = json!({ "offset": offset, "timeout": timeout_secs });
        self.call("getUpdates", &body, Duration::from_secs(u64::from(timeout_secs) + 10)).await
    }

    async fn set_webhook(&self, url: &str, secret: &str, allowed_updates: &[&str]) -> Result<(), TelegramError> {
        let body = json!({ "url": url, "secret_token": secret, "allowed_updates": allowed_updates });
        self.call::<bool>("setWebhook", &body, SEND_TIMEOUT).await.map(|_| ())
    }

    async fn download_file(&self, file_id: &str) -> Result<DownloadedFile, TelegramError> {
        #[derive(serde::Deserialize)]
        struct File {
            file_path: Option<String>,
        }
        let file: File = self.call("getFile", &json!({ "file_id": file_id }), SEND_TIMEOUT).await?;
        let Some(path) = file.file_path else {
            return Err(TelegramError::InvalidResponse("getFile gave no file_path".into()));
        };
        let url = format!("{}/file/bot{}/{path}", self.base, self.token);
        let response = self
            .http
            .get(url)
            .timeout(DOWNLOAD_TIMEOUT)
            .send()
            .await
            .map_err(|e| TelegramError::Network(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(TelegramError::Server { status, description: format!("the file download answered {status}") });
        }
        let bytes = response.bytes().await.map_err(|e| TelegramError::Network(e.without_url().to_string()))?;
        Ok(DownloadedFile { path, bytes: bytes.to_vec() })
    }
}

/// Up to 20 MB over a slow link.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let bot = TelegramBot::new("http://127.0.0.1:1", "123456:SECRET-TOKEN").unwrap();
        assert!(!format!("{bot:?}").contains("SECRET"));
    }

    #[tokio::test]
    async fn network_errors_do_not_carry_the_token() {
        // Nothing listens on port 1.
        let bot = TelegramBot::new("http://127.0.0.1:1", "123456:SECRET-TOKEN").unwrap();
        let message = OutgoingMessage { chat_id: ChatId(-1), html: "x".into(), markup: None, reply_to: None };
        let err = bot.send_message(&message).await.unwrap_err();
        assert!(matches!(err, TelegramError::Network(_)), "{err:?}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
}
