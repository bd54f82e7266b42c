//! Short human-entered text (names, labels): trimmed, never empty, bounded.

use serde::{Deserialize, Serialize};
use std::fmt;

pub const MAX_LABEL_CHARS: usize = 200;

/// Characters that change how the text around them is displayed without being seen: bidirectional
/// embeddings, overrides, isolates and marks. A name holding U+202E can show staff one thing while
/// meaning another ("txt.exe" as "exe.txt"), so text people typed is stored without them.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// What a schema asks of text that [`clean`] and trimming must not leave empty: at least one
/// character that is neither space nor a control or bidirectional mark (the ones `clean` drops).
pub const VISIBLE_CHAR_PATTERN: &str = r"[^\s\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]";

/// Text people typed, without control characters (other than line breaks and tabs when
/// `multiline`; a single line gets a space for them) and without bidirectional controls.
pub fn clean(text: &str, multiline: bool) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' if multiline => out.push(c),
            '\n' | '\t' | '\r' => out.push(' '),
            c if c.is_control() || is_invisible_format(c) => {}
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_LABEL_CHARS} characters (got {0})")]
    TooLong(usize),
}

/// A name or label: one line, trimmed, 1 to 200 characters, without control characters or
/// bidirectional controls.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Label(String);

impl Label {
    pub fn new(s: impl AsRef<str>) -> Result<Self, LabelError> {
        let cleaned = clean(s.as_ref(), false);
        let trimmed = cleaned.trim();
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

    #[test]
    fn names_lose_what_would_hide_their_meaning() {
        // "(가상)새벽자산운용" with a right-to-left override that would show its tail reversed.
        assert_eq!(Label::new("(가상)새벽\u{202E}자산운용\u{202C}").unwrap().as_str(), "(가상)새벽자산운용");
        assert_eq!(Label::new("새벽\u{2067}운용\u{2069}\u{200F}").unwrap().as_str(), "새벽운용");
        assert_eq!(Label::new("새벽\u{0007}\u{001B}[31m운용").unwrap().as_str(), "새벽[31m운용");
        assert_eq!(Label::new("새벽\n운용\t1호").unwrap().as_str(), "새벽 운용 1호", "one line");
        assert_eq!(Label::new("\u{202E}\u{0000}"), Err(LabelError::Empty));
        // Emoji sequences and Korean stay as typed.
        assert_eq!(Label::new("👨\u{200D}💼 한결").unwrap().as_str(), "👨\u{200D}💼 한결");
    }

    #[test]
    fn free_text_keeps_its_lines() {
        assert_eq!(clean("첫 줄\r\n둘째\u{202E} 줄\t끝\u{0008}", true), "첫 줄\n둘째 줄\t끝");
    }
}
