//! Identifiers. Our own ids are short opaque strings that are safe inside storage keys; Telegram's
//! ids are 64-bit integers (they exceed 32 bits).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} id {value:?}: use 1 to 56 letters, digits, '-' or '_'")]
pub struct IdError {
    pub kind: &'static str,
    pub value: String,
}

/// 56, so that ids fit where Telegram and EventBridge count bytes: `edit:<id>` in a button's
/// 64-byte `callback_data`, `kickoff-<id>` in a 64-character schedule name.
const MAX_ID_LEN: usize = 56;

fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A new id, ordered by creation time.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().simple().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                if valid_id(&value) {
                    Ok(Self(value))
                } else {
                    Err(IdError { kind: $kind, value })
                }
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::try_from(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A member of the advisory firm's staff.
    StaffId,
    "staff"
);
string_id!(
    /// A client firm (an asset manager).
    ClientId,
    "client"
);
string_id!(
    /// One fund account of a client firm.
    FundId,
    "fund"
);
string_id!(
    /// An IPO (a stock being offered).
    StockId,
    "stock"
);
string_id!(
    /// One advisory process: a phase of one IPO sent to a set of clients.
    ProcessId,
    "process"
);

/// A Telegram chat id. Groups and supergroups are negative; all exceed 32 bits in general.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChatId(pub i64);

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A Telegram user id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TelegramUserId(pub i64);

impl fmt::Display for TelegramUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_safe_strings_only() {
        assert!("client-01_a".parse::<ClientId>().is_ok());
        for bad in ["", "a#b", "한빛", "a b", &"x".repeat(57)] {
            let err = bad.parse::<ClientId>().unwrap_err();
            assert_eq!(err.kind, "client");
        }
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = ProcessId::generate();
        let b = ProcessId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().parse::<ProcessId>(), Ok(a.clone()));
    }

    #[test]
    fn ids_deserialize_through_validation() {
        assert!(serde_json::from_str::<StockId>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<StockId>("\"not ok\"").is_err());
        let chat: ChatId = serde_json::from_str("-1001234567890").unwrap();
        assert_eq!(chat, ChatId(-1_001_234_567_890));
    }
}
