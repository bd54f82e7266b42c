//! The subset of the Bot API's types the bot uses. Deserialisation is tolerant: unknown fields are
//! ignored and every field Telegram documents as optional is optional.

use serde::{Deserialize, Serialize};

/// One incoming update. Exactly one of the kind fields is set; kinds this bot does not know leave
/// them all empty and are acknowledged without effect.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_message: Option<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_query: Option<CallbackQuery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub my_chat_member: Option<ChatMemberUpdated>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    Message,
    EditedMessage,
    CallbackQuery,
    MyChatMember,
    Other,
}

impl Update {
    pub fn kind(&self) -> UpdateKind {
        if self.message.is_some() {
            UpdateKind::Message
        } else if self.edited_message.is_some() {
            UpdateKind::EditedMessage
        } else if self.callback_query.is_some() {
            UpdateKind::CallbackQuery
        } else if self.my_chat_member.is_some() {
            UpdateKind::MyChatMember
        } else {
            UpdateKind::Other
        }
    }

    /// The chat the update happened in, when it has one.
    pub fn chat(&self) -> Option<&Chat> {
        self.message
            .as_ref()
            .or(self.edited_message.as_ref())
            .map(|m| &m.chat)
            .or_else(|| self.callback_query.as_ref().and_then(|c| c.message.as_ref()).map(|m| &m.chat))
            .or_else(|| self.my_chat_member.as_ref().map(|m| &m.chat))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl User {
    /// The id Telegram shows for anonymous group admins; their messages carry `sender_chat`.
    pub const GROUP_ANONYMOUS_BOT: i64 = 1_087_968_824;

    /// The name as people see it, without the controls a name can carry to look like another.
    pub fn display_name(&self) -> String {
        let name = match &self.last_name {
            Some(last) if !last.is_empty() => format!("{} {last}", self.first_name),
            _ => self.first_name.clone(),
        };
        crate::domain::text::clean(&name, false)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Chat {
    pub id: i64,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl Chat {
    pub fn is_group(&self) -> bool {
        matches!(self.kind.as_str(), "group" | "supergroup")
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Message {
    pub message_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_chat: Option<Chat>,
    pub chat: Chat,
    #[serde(default)]
    pub date: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_message: Option<Box<Message>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<Vec<PhotoSize>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_to_chat_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_from_chat_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_date: Option<i64>,
}

impl Message {
    /// The message's text or, for a file, its caption.
    pub fn text_or_caption(&self) -> Option<&str> {
        self.text.as_deref().or(self.caption.as_deref())
    }

    /// `("/link", "AB12CD")` for `/link@our_bot AB12CD`; `None` when the text is not a command.
    pub fn command(&self) -> Option<(String, &str)> {
        let text = self.text.as_deref()?.trim_start();
        let rest = text.strip_prefix('/')?;
        let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let name = word.split('@').next().unwrap_or(word);
        if name.is_empty() {
            return None;
        }
        Some((format!("/{}", name.to_lowercase()), args.trim()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Document {
    pub file_id: String,
    #[serde(default)]
    pub file_unique_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct PhotoSize {
    pub file_id: String,
    #[serde(default)]
    pub file_unique_id: String,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    /// Absent when the message is too old; may be an "inaccessible message" (date 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ChatMember {
    pub user: User,
    pub status: String,
}

impl ChatMember {
    /// Whether the member can read the chat: member, administrator, creator, or a restricted member.
    pub fn is_present(&self) -> bool {
        matches!(self.status.as_str(), "member" | "administrator" | "creator" | "restricted")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ChatMemberUpdated {
    pub chat: Chat,
    pub from: User,
    #[serde(default)]
    pub date: i64,
    pub old_chat_member: ChatMember,
    pub new_chat_member: ChatMember,
}

// ---- outgoing ---------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineKeyboardButton {
    pub text: String,
    pub callback_data: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReplyMarkup {
    InlineKeyboard {
        inline_keyboard: Vec<Vec<InlineKeyboardButton>>,
    },
    ForceReply {
        force_reply: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        input_field_placeholder: Option<String>,
        selective: bool,
    },
}

impl ReplyMarkup {
    /// One row of buttons.
    pub fn buttons(buttons: impl IntoIterator<Item = (String, String)>) -> ReplyMarkup {
        let row =
            buttons.into_iter().map(|(text, callback_data)| InlineKeyboardButton { text, callback_data }).collect();
        ReplyMarkup::InlineKeyboard { inline_keyboard: vec![row] }
    }

    /// Asks the client to reply to this message (needed in groups, where privacy mode hides other
    /// messages from the bot).
    pub fn force_reply(placeholder: Option<String>) -> ReplyMarkup {
        ReplyMarkup::ForceReply { force_reply: true, input_field_placeholder: placeholder, selective: false }
    }
}

/// What `sendMessage` returns that we keep.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SentMessage {
    pub message_id: i64,
    pub chat: Chat,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_split_from_their_arguments() {
        let msg = |text: &str| Message {
            message_id: 1,
            from: None,
            sender_chat: None,
            chat: Chat { id: -1, kind: "group".into(), title: None },
            date: 0,
            text: Some(text.into()),
            caption: None,
            reply_to_message: None,
            document: None,
            photo: None,
            migrate_to_chat_id: None,
            migrate_from_chat_id: None,
            edit_date: None,
        };
        assert_eq!(msg("/link AB12CD").command(), Some(("/link".into(), "AB12CD")));
        assert_eq!(msg("/LINK@ipo_bot  ab12cd ").command(), Some(("/link".into(), "ab12cd")));
        assert_eq!(msg("/help").command(), Some(("/help".into(), "")));
        assert_eq!(msg("17,500 / 300,000").command(), None);
        assert_eq!(msg("/").command(), None);
    }

    #[test]
    fn unknown_fields_and_kinds_are_tolerated() {
        let u: Update = serde_json::from_str(
            r#"{"update_id":5,"message_reaction":{"chat":{"id":-1,"type":"group"}},"brand_new":1}"#,
        )
        .unwrap();
        assert_eq!((u.update_id, u.kind()), (5, UpdateKind::Other));
        assert_eq!(u.chat(), None);
    }

    #[test]
    fn markup_serialises_as_telegram_expects() {
        let json = serde_json::to_value(ReplyMarkup::buttons([("✅ 확인".to_owned(), "ack:p1".to_owned())])).unwrap();
        assert_eq!(json, serde_json::json!({"inline_keyboard": [[{"text": "✅ 확인", "callback_data": "ack:p1"}]]}));
        let json = serde_json::to_value(ReplyMarkup::force_reply(None)).unwrap();
        assert_eq!(json, serde_json::json!({"force_reply": true, "selective": false}));
    }
}
