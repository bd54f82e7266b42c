//! 일반 공지: free text from staff to a chosen set of clients. Optionally each client is asked to
//! press ✅, and is then reminded and escalated like any phase; without it, nobody is chased.

use crate::domain::text::Label;
use serde::{Deserialize, Serialize};

/// The longest notice accepted, in characters: about three Telegram messages, which the bot sends
/// in order as parts of one notice.
pub const MAX_NOTICE_CHARS: usize = 12_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticeAdvice {
    /// What staff and the clients see it as (`추석 연휴 운영 안내`).
    pub title: Label,
    pub text: NoticeText,
    /// Whether each client is asked to press ✅ (and chased until it does).
    pub acknowledge: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeTextError {
    #[error("a notice needs some text")]
    Empty,
    #[error("a notice may have at most {MAX_NOTICE_CHARS} characters (got {0})")]
    TooLong(usize),
}

/// A notice's body as staff wrote it: plain text (escaped when sent), trimmed, never empty, without
/// control characters other than line breaks and tabs, or bidirectional controls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NoticeText(String);

impl NoticeText {
    pub fn new(text: &str) -> Result<Self, NoticeTextError> {
        let cleaned = crate::domain::text::clean(text, true);
        let trimmed = cleaned.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            Err(NoticeTextError::Empty)
        } else if chars > MAX_NOTICE_CHARS {
            Err(NoticeTextError::TooLong(chars))
        } else {
            Ok(NoticeText(trimmed.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for NoticeText {
    type Error = NoticeTextError;
    fn try_from(s: String) -> Result<Self, NoticeTextError> {
        NoticeText::new(&s)
    }
}

impl From<NoticeText> for String {
    fn from(t: NoticeText) -> String {
        t.0
    }
}

impl utoipa::PartialSchema for NoticeText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(crate::domain::text::VISIBLE_CHAR_PATTERN))
            .max_length(Some(MAX_NOTICE_CHARS))
            .description(Some("Plain text (not HTML), trimmed; long notices are sent in several messages."))
            .into()
    }
}

impl utoipa::ToSchema for NoticeText {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_text_is_trimmed_bounded_and_never_empty() {
        assert_eq!(NoticeText::new("  \n "), Err(NoticeTextError::Empty));
        assert_eq!(NoticeText::new(" 안내\r\n드립니다 ").map(|t| t.as_str().to_owned()), Ok("안내\n드립니다".into()));
        assert_eq!(
            NoticeText::new("안내\u{202E}드립니다\u{0007}").map(|t| t.as_str().to_owned()),
            Ok("안내드립니다".into()),
            "no bidirectional or control characters"
        );
        let long = "가".repeat(MAX_NOTICE_CHARS + 1);
        assert_eq!(NoticeText::new(&long), Err(NoticeTextError::TooLong(MAX_NOTICE_CHARS + 1)));
        assert!(serde_json::from_value::<NoticeText>(serde_json::json!("")).is_err());
    }
}
