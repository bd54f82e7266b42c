//! Telegram's error replies, typed so callers can act on each: wait, follow a migrated group, stop
//! sending to a chat that dropped the bot, or report a message Telegram refused.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadRequestKind {
    CantParseEntities,
    MessageTooLong,
    NotModified,
    ChatNotFound,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelegramError {
    #[error("Telegram asks to retry after {seconds} s")]
    RetryAfter { seconds: u64 },
    #[error("the group became a supergroup with id {new_chat_id}")]
    ChatMigrated { new_chat_id: i64 },
    /// Kicked, not a member, or blocked by the user.
    #[error("Telegram refused: {description}")]
    Forbidden { description: String },
    #[error("Telegram rejected the request: {description}")]
    BadRequest { kind: BadRequestKind, description: String },
    #[error("the bot token was refused")]
    Unauthorized,
    #[error("Telegram failed ({status}): {description}")]
    Server { status: u16, description: String },
    #[error("Telegram could not be reached: {0}")]
    Network(String),
    #[error("Telegram's answer could not be read: {0}")]
    InvalidResponse(String),
    /// This deployment gives the running function no bot token: its routes never send.
    #[error("this function has no access to Telegram")]
    Withheld,
}

impl TelegramError {
    /// A passing failure worth retrying after a backoff. `RetryAfter` is not one: it says exactly
    /// how long to wait, and is handled on its own.
    pub fn is_transient(&self) -> bool {
        matches!(self, TelegramError::Server { .. } | TelegramError::Network(_))
    }
}

/// The error envelope: `{"ok":false,"error_code":…,"description":…,"parameters":{…}}`.
#[derive(Debug, Deserialize)]
pub struct ErrorEnvelope {
    #[serde(default)]
    pub error_code: Option<u16>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<ResponseParameters>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResponseParameters {
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub migrate_to_chat_id: Option<i64>,
}

/// Classifies an error reply by its parameters, code and description, in that order of trust.
pub fn classify(http_status: u16, envelope: ErrorEnvelope) -> TelegramError {
    let description = envelope.description.unwrap_or_default();
    let params = envelope.parameters.unwrap_or_default();
    if let Some(seconds) = params.retry_after {
        return TelegramError::RetryAfter { seconds };
    }
    if let Some(new_chat_id) = params.migrate_to_chat_id {
        return TelegramError::ChatMigrated { new_chat_id };
    }
    let code = envelope.error_code.unwrap_or(http_status);
    let lower = description.to_lowercase();
    match code {
        400 => {
            let kind = if lower.contains("can't parse entities") {
                BadRequestKind::CantParseEntities
            } else if lower.contains("too long") {
                BadRequestKind::MessageTooLong
            } else if lower.contains("not modified") {
                BadRequestKind::NotModified
            } else if lower.contains("chat not found") {
                BadRequestKind::ChatNotFound
            } else {
                BadRequestKind::Other
            };
            TelegramError::BadRequest { kind, description }
        }
        401 => TelegramError::Unauthorized,
        403 => TelegramError::Forbidden { description },
        429 => TelegramError::RetryAfter { seconds: 1 },
        status if status >= 500 => TelegramError::Server { status, description },
        status => {
            TelegramError::BadRequest { kind: BadRequestKind::Other, description: format!("{status}: {description}") }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> TelegramError {
        classify(status, serde_json::from_str(body).unwrap())
    }

    #[test]
    fn telegram_errors_are_typed() {
        assert_eq!(
            parse(
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#
            ),
            TelegramError::RetryAfter { seconds: 7 }
        );
        assert_eq!(
            parse(
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890}}"#
            ),
            TelegramError::ChatMigrated { new_chat_id: -1_001_234_567_890 }
        );
        assert!(matches!(
            parse(
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the group chat"}"#
            ),
            TelegramError::Forbidden { .. }
        ));
        let kinds = [
            ("Bad Request: can't parse entities: Unsupported start tag \"x\"", BadRequestKind::CantParseEntities),
            ("Bad Request: message is too long", BadRequestKind::MessageTooLong),
            ("Bad Request: message is not modified: specified new message content", BadRequestKind::NotModified),
            ("Bad Request: chat not found", BadRequestKind::ChatNotFound),
            ("Bad Request: BUTTON_DATA_INVALID", BadRequestKind::Other),
        ];
        for (description, kind) in kinds {
            let body = serde_json::json!({"ok": false, "error_code": 400, "description": description}).to_string();
            assert_eq!(parse(400, &body), TelegramError::BadRequest { kind, description: description.into() });
        }
        assert_eq!(
            parse(401, r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#),
            TelegramError::Unauthorized
        );
        let server = parse(502, r#"{"ok":false,"error_code":502,"description":"Bad Gateway"}"#);
        assert!(server.is_transient());
        assert!(!TelegramError::Unauthorized.is_transient());
        assert!(!TelegramError::RetryAfter { seconds: 1 }.is_transient(), "waits as told, not on a backoff");
    }
}
