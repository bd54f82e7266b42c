//! The text of 일반 공지: staff's words, escaped, under the notice's title.

use super::{ACK_BUTTON, Subject};
use crate::domain::phase::notice::NoticeAdvice;
use crate::telegram::html::escape;

/// The notice as the client reads it; long ones are split by delivery, the button on the last part.
pub fn message(subject: &Subject<'_>, notice: &NoticeAdvice) -> String {
    let mut out = format!("{}\n\n{}", subject.heading(), escape(notice.text.as_str()));
    if notice.acknowledge {
        out.push_str(&format!("\n\n확인하셨으면 [{ACK_BUTTON}] 버튼을 눌러 주세요."));
    }
    out
}
