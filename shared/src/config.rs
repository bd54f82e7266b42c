//! Configuration from the environment, read once at start-up; a missing or malformed value stops
//! the process with a message naming the variable.

use crate::domain::ids::ChatId;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing(name)),
    }
}

pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A chat id such as `-1001234567890`.
pub fn chat_id(name: &'static str) -> Result<Option<ChatId>, ConfigError> {
    optional(name)
        .map(|v| v.trim().parse::<i64>().map(ChatId).map_err(|e| ConfigError::Invalid { name, reason: e.to_string() }))
        .transpose()
}
