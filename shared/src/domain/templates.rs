//! Every message the bot writes, in one place: Korean, HTML-escaped, prices as `17,000원` and times
//! in KST.

use crate::domain::time::{Timestamp, format_kst};
use crate::domain::tracker::TrackerState;
use crate::telegram::html::escape;

pub fn link_confirmed(client_name: &str) -> String {
    format!(
        "✅ 이 그룹이 <b>{}</b>와(과) 연결되었습니다.\n앞으로 공모주 자문 안내를 이 그룹으로 보내드립니다.",
        escape(client_name)
    )
}

pub fn link_refused() -> String {
    "연결 코드가 올바르지 않거나 만료되었습니다.\n담당자에게 새 코드를 요청해 주세요.".to_owned()
}

pub fn link_usage() -> String {
    "그룹을 연결하려면 담당자에게 받은 코드로 <code>/link 코드</code> 를 보내 주세요.".to_owned()
}

pub fn chat_taken() -> String {
    "이 그룹은 이미 다른 고객사와 연결되어 있습니다. 담당자에게 문의해 주세요.".to_owned()
}

pub fn unknown_group() -> String {
    "안녕하세요. 아직 연결되지 않은 그룹입니다.\n담당자에게 받은 코드로 <code>/link 코드</code> 를 보내 주시면 연결됩니다."
        .to_owned()
}

pub fn private_chat() -> String {
    "안녕하세요. 이 봇은 고객사 그룹에서만 사용합니다. 담당자에게 문의해 주세요.".to_owned()
}

pub fn link_code_issued(client_name: &str, code: &str, expires_at: Timestamp) -> String {
    format!(
        "🔗 <b>{}</b> 연결 코드: <code>{}</code>\n고객사 그룹에서 <code>/link {}</code> 를 보내도록 안내해 주세요. ({} 까지 유효, 1회용)",
        escape(client_name),
        escape(code),
        escape(code),
        format_kst(expires_at)
    )
}

pub fn link_code_usage() -> String {
    "사용법: <code>/code 고객사</code> (고객사 ID 또는 이름)".to_owned()
}

pub fn no_such_client(query: &str) -> String {
    format!("고객사를 찾을 수 없습니다: {}", escape(query))
}

// ---- to the staff group ------------------------------------------------------------------------

pub fn staff_group_linked(client_name: &str, chat_title: &str, chat_id: i64) -> String {
    format!("🔗 {} 그룹 연결: {} ({chat_id})", escape(client_name), escape(chat_title))
}

pub fn staff_chat_taken(chat_title: &str, chat_id: i64, owner: &str) -> String {
    format!("⚠️ 연결 거부: 그룹 {} ({chat_id}) 은(는) 이미 {} 에 연결되어 있습니다.", escape(chat_title), escape(owner))
}

pub fn staff_bot_added_unknown(chat_title: &str, chat_id: i64) -> String {
    format!(
        "ℹ️ 봇이 연결되지 않은 그룹에 추가됨: {} ({chat_id})\n<code>/code 고객사</code> 로 코드를 발급해 연결하세요.",
        escape(chat_title)
    )
}

pub fn staff_bot_returned(client_name: &str) -> String {
    format!("✅ {} 그룹에 봇이 다시 추가되어 발송을 재개합니다.", escape(client_name))
}

pub fn staff_bot_removed(client_name: &str, chat_id: i64) -> String {
    format!(
        "🚨 {} 그룹({chat_id})에서 봇이 제외되었습니다. 이 고객사로의 발송과 리마인드를 중단합니다.",
        escape(client_name)
    )
}

pub fn staff_chat_migrated(client_name: &str, old: i64, new: i64) -> String {
    format!("ℹ️ {} 그룹이 슈퍼그룹으로 전환되어 연결을 옮겼습니다: {old} → {new}", escape(client_name))
}

pub fn staff_send_failed(target: &str, reason: &str) -> String {
    format!("🚨 발송 실패: {} — {}", escape(target), escape(reason))
}

pub fn help() -> String {
    [
        "<b>운영팀 명령어</b>",
        "<code>/status 종목명</code> — 종목의 진행 중인 프로세스와 고객사별 응답 현황",
        "<code>/code 고객사</code> — 고객사 그룹 연결 코드 발급 (24시간, 1회용)",
        "<code>/help</code> — 이 도움말",
    ]
    .join("\n")
}

pub fn no_such_stock(query: &str) -> String {
    format!("종목을 찾을 수 없습니다: {}", escape(query))
}

pub fn status_usage() -> String {
    "사용법: <code>/status 종목명</code>".to_owned()
}

/// One process's line in `/status`.
pub struct ProcessStatus {
    pub name: String,
    pub kickoff: Timestamp,
    /// How many clients are in each state.
    pub counts: Vec<(TrackerState, usize)>,
}

/// One line per process: its name, kickoff and how many clients are in each state.
pub fn status(stock_name: &str, processes: &[ProcessStatus]) -> String {
    let mut out = format!("📊 <b>{}</b>", escape(stock_name));
    if processes.is_empty() {
        out.push_str("\n등록된 프로세스가 없습니다.");
    }
    for ProcessStatus { name, kickoff, counts } in processes {
        let counts: Vec<String> =
            counts.iter().filter(|(_, n)| *n > 0).map(|(state, n)| format!("{} {n}", state_korean(*state))).collect();
        let counts = if counts.is_empty() { "대상 없음".to_owned() } else { counts.join(" · ") };
        out.push_str(&format!("\n• {} ({}) — {}", escape(name), format_kst(*kickoff), counts));
    }
    out
}

pub fn state_korean(state: TrackerState) -> &'static str {
    match state {
        TrackerState::Pending => "대기",
        TrackerState::Sent => "발송",
        TrackerState::Acknowledged => "확인",
        TrackerState::Submitted => "제출",
        TrackerState::Confirmed => "확정",
        TrackerState::Failed => "실패",
        TrackerState::Skipped => "제외",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::html::{MESSAGE_LIMIT, visible_len};

    fn t() -> Timestamp {
        "2026-03-16T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn names_are_escaped_everywhere() {
        let hostile = "<b>A&B</b>";
        for text in [
            link_confirmed(hostile),
            link_code_issued(hostile, "ABCDEFGH", t()),
            staff_group_linked(hostile, hostile, -1),
            staff_chat_taken(hostile, -1, hostile),
            staff_bot_added_unknown(hostile, -1),
            staff_bot_returned(hostile),
            staff_bot_removed(hostile, -1),
            staff_chat_migrated(hostile, -1, -2),
            staff_send_failed(hostile, hostile),
            no_such_client(hostile),
            no_such_stock(hostile),
            status(hostile, &[ProcessStatus { name: hostile.to_owned(), kickoff: t(), counts: vec![] }]),
        ] {
            assert!(!text.contains("<b>A&"), "{text}");
            assert!(text.contains("&lt;b&gt;A&amp;B"), "{text}");
        }
    }

    #[test]
    fn texts_are_korean_with_kst_times() {
        assert_eq!(
            link_confirmed("(가상)새벽자산운용"),
            "✅ 이 그룹이 <b>(가상)새벽자산운용</b>와(과) 연결되었습니다.\n앞으로 공모주 자문 안내를 이 그룹으로 보내드립니다."
        );
        assert!(link_code_issued("새벽", "ABCDEFGH", t()).contains("2026-03-16 09:00 KST 까지 유효"));
        let s = status(
            "(가상)한빛로보틱스",
            &[ProcessStatus {
                name: "수요예측 참여 (첫날)".into(),
                kickoff: t(),
                counts: vec![(TrackerState::Sent, 2), (TrackerState::Confirmed, 3), (TrackerState::Failed, 0)],
            }],
        );
        assert_eq!(s, "📊 <b>(가상)한빛로보틱스</b>\n• 수요예측 참여 (첫날) (2026-03-16 09:00 KST) — 발송 2 · 확정 3");
        assert!(status("x", &[]).contains("등록된 프로세스가 없습니다"));
    }

    #[test]
    fn fixed_texts_fit_one_message() {
        for text in [
            link_refused(),
            link_usage(),
            chat_taken(),
            unknown_group(),
            private_chat(),
            help(),
            status_usage(),
            link_code_usage(),
        ] {
            assert!(visible_len(&text) < MESSAGE_LIMIT);
            assert!(!text.is_empty());
        }
    }
}
