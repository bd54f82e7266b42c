//! Short human-entered text (names, labels): trimmed, never empty, bounded.

use serde::{Deserialize, Serialize};
use std::fmt;

pub const MAX_LABEL_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_LABEL_CHARS} characters (got {0})")]
    TooLong(usize),
}

/// A name or label: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Label(String);

impl Label {
    pub fn new(s: impl AsRef<str>) -> Result<Self, LabelError> {
        let trimmed = s.as_ref().trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            Err(LabelError::Empty)
        } else if chars > MAX_LABEL_CHARS {
            Err(LabelError::TooLong(chars))
        } else {
            Ok(Label(trimmed.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Label {
    type Error = LabelError;
    fn try_from(s: String) -> Result<Self, LabelError> {
        Label::new(s)
    }
}

impl From<Label> for String {
    fn from(l: Label) -> String {
        l.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_and_bounded() {
        assert_eq!(Label::new("  (가상)한빛로보틱스 ").unwrap().as_str(), "(가상)한빛로보틱스");
        assert_eq!(Label::new("   "), Err(LabelError::Empty));
        assert_eq!(Label::new("가".repeat(201)), Err(LabelError::TooLong(201)));
        assert!(Label::new("가".repeat(200)).is_ok());
        assert!(serde_json::from_str::<Label>("\"\"").is_err());
    }
}
