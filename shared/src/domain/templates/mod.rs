//! Every message the bot writes, in one place: Korean, HTML-escaped, prices as `17,000원` and times
//! in KST. This module holds what every phase shares and dispatches to each phase's own texts
//! ([`bid`], [`allotment`], [`notice`], [`sell`], [`statement`]); [`staff`] holds what the staff
//! group reads.

pub mod allotment;
pub mod bid;
pub mod notice;
pub mod result;
pub mod sell;
pub mod staff;
pub mod statement;

use crate::domain::client::Client;
use crate::domain::ids::FundId;
use crate::domain::phase::{Advice, Answer, Finding, LineError, Phase, ReplyError};
use crate::domain::process::ProcessKind;
use crate::domain::stock::Stock;
use crate::domain::time::{Timestamp, format_kst};
use crate::domain::tracker::TrackerState;
use crate::telegram::html::escape;

pub const ACK_BUTTON: &str = "✅ 확인";
pub const EDIT_BUTTON: &str = "✏️ 수정";

/// What a process's messages are about: its stock (or a notice's title) and its kind.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub stock: Option<&'a Stock>,
    pub kind: ProcessKind,
    /// A notice's title; names the subject when there is no stock.
    pub title: Option<&'a str>,
}

impl<'a> Subject<'a> {
    pub fn new(stock: Option<&'a Stock>, kind: ProcessKind, advice: Option<&'a Advice>) -> Self {
        let title = match advice {
            Some(Advice::Notice(n)) => Some(n.title.as_str()),
            Some(Advice::Bid(_) | Advice::Allotment(_) | Advice::Sell(_) | Advice::Statement(_)) | None => None,
        };
        Subject { stock, kind, title }
    }

    /// The stock's name, else the notice's title, else the kind.
    pub fn name(&self) -> &str {
        self.stock.map(|s| s.name.as_str()).or(self.title).unwrap_or(self.kind.korean())
    }

    /// `📌 <b>(가상)한빛로보틱스</b> 수요예측 참여 (첫날)`; a notice: `📢 <b>제목</b>` (with its stock);
    /// a sale date's processes name it: `상장 후 매도의견 (04-07)`, `매매명세서 확인 (04-07 매도분)`.
    pub fn heading(&self) -> String {
        match (self.kind, self.title) {
            (ProcessKind::Notice, Some(title)) => match self.stock {
                Some(stock) => format!("📢 <b>{}</b> · {}", escape(title), escape(stock.name.as_str())),
                None => format!("📢 <b>{}</b>", escape(title)),
            },
            (kind, _) => format!("📌 <b>{}</b> {}", escape(self.name()), escape(&kind_title(kind))),
        }
    }
}

/// A process's kind as its title: a stock has a sell process and a statement check per sale date,
/// so theirs carry the date (`상장 후 매도의견 (04-07)`, `매매명세서 확인 (04-07 매도분)`).
pub fn kind_title(kind: ProcessKind) -> String {
    match kind {
        ProcessKind::Sell { sale_date } => format!("{} ({})", kind.korean(), sale_date.format("%m-%d")),
        ProcessKind::Statement { sale_date } => format!("{} ({} 매도분)", kind.korean(), sale_date.format("%m-%d")),
        ProcessKind::Participation { .. } | ProcessKind::Allotment | ProcessKind::Notice => kind.korean().to_owned(),
    }
}

/// An advice's closing line: what the client is to send, and that ✅ brings the instructions.
fn answer_request(what: &str) -> String {
    format!("\n\n{what} [{ACK_BUTTON}] 을 누르시면 입력 안내를 드립니다.")
}

/// A fund's name as its client calls it.
pub fn fund_name(client: &Client, fund: &FundId) -> String {
    client.fund(fund).map_or_else(|| fund.to_string(), |f| f.name.to_string())
}

/// The message that opens a process for one client: only its own lines.
pub fn advice(subject: &Subject<'_>, client: &Client, advice: &Advice) -> String {
    match advice {
        Advice::Bid(a) => bid::advice(subject, client, a),
        Advice::Allotment(a) => allotment::advice(subject, client, a),
        Advice::Notice(a) => notice::message(subject, a),
        Advice::Sell(a) => sell::advice(subject, client, a),
        Advice::Statement(a) => statement::advice(subject, client, a),
    }
}

/// After ✅: the ForceReply prompt asking for the answer, and the input field's placeholder; none
/// when the phase asks for no answer.
pub fn prompt(subject: &Subject<'_>, client: &Client, advice: &Advice) -> Option<(String, &'static str)> {
    match advice {
        Advice::Bid(a) => Some((bid::prompt(subject, client, a), bid::PLACEHOLDER)),
        Advice::Allotment(a) => Some((allotment::prompt(subject, client, a), allotment::PLACEHOLDER)),
        Advice::Sell(a) => Some((sell::prompt(subject, client, a), sell::PLACEHOLDER)),
        Advice::Statement(a) => Some((statement::prompt(subject, client, a), statement::PLACEHOLDER)),
        Advice::Notice(_) => None,
    }
}

/// An example answer in the client's own fund names.
pub fn example(client: &Client, advice: &Advice) -> String {
    match advice {
        Advice::Bid(a) => bid::example(client, a),
        Advice::Allotment(a) => allotment::example(client, a),
        Advice::Sell(a) => sell::example(client, a),
        Advice::Statement(a) => statement::example(client, a),
        Advice::Notice(_) => String::new(),
    }
}

/// The receipt of a read answer, with the values as understood.
pub fn received(subject: &Subject<'_>, client: &Client, answer: &Answer) -> String {
    let (what, lines) = match answer {
        Answer::Bid(a) => ("참여 내역", bid::answer_lines(client, a)),
        Answer::Allotment(a) => ("배정 내역", allotment::answer_lines(client, a)),
        Answer::Sell(a) => ("매도 내역", sell::answer_lines(client, a)),
        Answer::Statement(a) => ("매매명세서 내역", statement::answer_lines(client, a)),
    };
    let mut out = format!("📝 <b>{}</b> {what}을 접수했습니다.", escape(subject.name()));
    for line in lines {
        out.push_str(&format!("\n• {line}"));
    }
    out.push_str(&format!("\n틀린 곳이 있으면 [{EDIT_BUTTON}] 을 눌러 다시 보내 주세요."));
    out
}

/// What the phase's answer is called in a sentence.
pub fn answer_noun(phase: Phase) -> &'static str {
    match phase {
        Phase::Bid => "참여 내역",
        Phase::Allotment => "배정 내역",
        Phase::Notice => "확인",
        Phase::Sell => "매도 내역",
        Phase::Statement => "매매명세서 내역",
    }
}

pub fn unreadable(reason: &str, client: &Client, advice: &Advice) -> String {
    format!(
        "입력하신 내용을 이해하지 못했습니다: {}\n다시 이 메시지에 답장으로 보내 주세요.\n예)\n{}",
        escape(reason),
        example(client, advice)
    )
}

/// An answer arrived while one is already in: it is not taken over the first.
pub fn already_submitted(phase: Phase) -> String {
    format!(
        "이미 {}을 받았습니다. 바꾸시려면 접수 메시지의 [{EDIT_BUTTON}] 을 누른 뒤 다시 보내 주세요.",
        answer_noun(phase)
    )
}

pub fn evidence_received() -> String {
    "📎 자료를 받았습니다. 담당자가 확인 후 반영하겠습니다.".to_owned()
}

/// A client edited a message and so changed an answer already taken: edits are not applied.
pub fn edit_not_applied() -> String {
    "✏️ 메시지를 수정하셔도 접수된 내용은 바뀌지 않습니다. 바꾸시려면 접수 안내 메시지의 [✏️ 수정] 버튼을 누른 뒤 다시 보내 주세요."
        .to_owned()
}

/// A file past what one answer keeps: it is not taken, and the client is told so.
pub fn evidence_full(max: usize) -> String {
    format!(
        "📎 이 건에는 파일을 {max}개까지만 받을 수 있어 이번 파일은 반영되지 않았습니다. \
         더 보내실 자료는 담당자에게 직접 전달해 주세요."
    )
}

/// A staff command from someone not on an active staff record with the role it needs.
pub fn staff_only(needed: crate::domain::staff::Role) -> String {
    use crate::domain::staff::Role;
    let role = match needed {
        Role::Viewer => "조회",
        Role::Operator => "운영",
        Role::Advisor => "자문",
        Role::Admin => "관리",
    };
    format!(
        "이 명령은 {role} 권한 이상의 직원으로 등록된 텔레그램 계정만 쓸 수 있습니다. 관리자에게 계정 등록을 요청해 주세요."
    )
}

pub fn already_acknowledged() -> String {
    "이미 확인되었습니다.".to_owned()
}

pub fn acknowledged_toast() -> String {
    "확인되었습니다 ✅".to_owned()
}

pub fn staff_cannot_answer() -> String {
    "운영팀은 고객사 대신 확인할 수 없습니다.".to_owned()
}

/// An answer to a request that is settled (confirmed) or no longer running.
pub fn closed() -> String {
    "이 요청은 이미 확정되었거나 마감되었습니다. 바꾸실 내용이 있으면 담당자에게 알려 주세요.".to_owned()
}

pub fn which_ipo() -> String {
    "어느 종목에 대한 답변인지 알 수 없습니다. 해당 종목 안내 메시지에 답장으로 보내 주세요.".to_owned()
}

pub fn reminder_unacknowledged(subject: &Subject<'_>) -> String {
    format!("⏰ {} 안내를 확인해 주세요. 위 메시지의 [{ACK_BUTTON}] 버튼을 눌러 주시면 됩니다.", subject.heading())
}

pub fn reminder_unanswered(subject: &Subject<'_>, phase: Phase) -> String {
    let noun = match phase {
        Phase::Bid => "실제 참여 내역",
        Phase::Allotment | Phase::Notice | Phase::Sell | Phase::Statement => answer_noun(phase),
    };
    format!("⏰ {} {noun}을 아직 받지 못했습니다. 안내 메시지에 답장으로 보내 주세요.", subject.heading())
}

/// One finding, as a line staff read.
pub fn finding(client: &Client, f: &Finding) -> String {
    match f {
        Finding::Bid(f) => bid::finding(client, f),
        Finding::Allotment(f) => allotment::finding(client, f),
        Finding::Sell(f) => sell::finding(client, f),
        Finding::Statement(f) => statement::finding(client, f),
    }
}

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

/// A client linked a new group while another was linked: the old one gets nothing more.
pub fn staff_group_moved(client_name: &str, old_title: &str, old_id: i64) -> String {
    format!(
        "↪️ {}: 이전 그룹 {} ({old_id}) 은(는) 더 이상 알림을 받지 않습니다.",
        escape(client_name),
        escape(old_title)
    )
}

/// Told to staff when one of a chat's updates failed every attempt: it is set aside so the chat's
/// next messages are not held behind it, and a person has to read it.
pub fn staff_update_set_aside(who: &str, chat_id: i64, text: &str, attempts: u32, error: &str) -> String {
    let text: String = text.chars().take(300).collect();
    format!(
        "🚫 처리하지 못한 메시지 ({attempts}회 시도 실패) — {} ({chat_id})\n\
         «{}»\n\
         오류: {}\n\
         직접 확인하고 필요하면 대신 입력해 주세요.",
        escape(who),
        escape(&text),
        escape(error)
    )
}

/// Sent to a client's former group when another group was linked in its place.
pub fn group_moved(client_name: &str) -> String {
    format!(
        "ℹ️ <b>{}</b>의 공모주 자문 안내는 이제 다른 그룹으로 보내드립니다. 이 그룹에는 더 이상 보내지 않습니다.\n\
         직접 옮기지 않으셨다면 담당자에게 바로 알려 주세요.",
        escape(client_name)
    )
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

pub fn withdrawn(stock_name: &str) -> String {
    format!("📢 <b>{}</b> 공모가 철회되었습니다. 이 종목에 대한 안내와 요청은 모두 취소합니다.", escape(stock_name))
}

pub fn staff_withdrawn(stock_name: &str, told: usize) -> String {
    format!("📢 {} 철회: 진행 중인 프로세스를 모두 취소하고 고객사 {told}곳에 알렸습니다.", escape(stock_name))
}

pub fn staff_schedule_amended(stock_name: &str, moved: usize) -> String {
    format!("🗓️ {} 정정: 일정이 바뀌어 시작 전 프로세스 {moved}건의 발송 시각을 옮겼습니다.", escape(stock_name))
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

/// Why a reply could not be read, in the client's words.
pub fn reply_error(error: &ReplyError, client: &Client, phase: Phase) -> String {
    let fund = |id: &str| client.fund_named(id).map_or_else(|| id.to_owned(), |f| f.name.to_string());
    let parts = match phase {
        Phase::Bid => "가격 / 수량 / 확약",
        Phase::Allotment => "배정 수량 / 확약",
        Phase::Notice => "내용",
        Phase::Sell => "매도수량 / 평균단가",
        Phase::Statement => "수량 / 단가 / 매매금액 / 수수료 / 거래세 / 정산금액",
    };
    let (quantity, price) = match phase {
        Phase::Bid | Phase::Notice => ("참여수량", "참여가격이"),
        Phase::Allotment => ("배정수량", "가격이"),
        Phase::Sell => ("매도수량", "평균단가가"),
        Phase::Statement => ("수량", "단가가"),
    };
    match error {
        ReplyError::Empty | ReplyError::NotAnswerable => "내용이 없습니다".to_owned(),
        ReplyError::WhichFund { line } => format!("{line}번째 줄: 펀드명을 함께 적어 주세요"),
        ReplyError::Unreadable { line, .. } => format!("{line}번째 줄: {parts}을 찾지 못했습니다"),
        ReplyError::Lines(crate::domain::phase::LinesError::DuplicateFund(f)) => {
            format!("{} 이(가) 두 번 적혀 있습니다", fund(f.as_str()))
        }
        ReplyError::Lines(crate::domain::phase::LinesError::Empty) => "내용이 없습니다".to_owned(),
        ReplyError::Line { line, error } => match error {
            LineError::MissingPrice { fund: f } => format!("{line}번째 줄 ({}): {price} 없습니다", fund(f)),
            LineError::MissingValue { fund: f, what } => format!("{line}번째 줄 ({}): {what} 값이 없습니다", fund(f)),
            LineError::MissingQuantity { fund: f } => format!("{line}번째 줄 ({}): {quantity}이 없습니다", fund(f)),
            LineError::MissingLockUp { fund: f } => {
                format!("{line}번째 줄 ({}): 확약 여부(미확약, 15일, 1개월, 3개월, 6개월)가 없습니다", fund(f))
            }
            LineError::Invalid { fund: f, .. } => match phase {
                Phase::Bid | Phase::Allotment | Phase::Notice => {
                    format!("{line}번째 줄 ({}): 숫자나 확약 기간을 읽지 못했습니다", fund(f))
                }
                Phase::Sell | Phase::Statement => format!("{line}번째 줄 ({}): 숫자를 읽지 못했습니다", fund(f)),
            },
            LineError::UnknownFund { fund: f } => format!("{line}번째 줄: {f} 은(는) 등록된 펀드가 아닙니다"),
        },
    }
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
            staff_group_moved(hostile, hostile, -1),
            staff_update_set_aside(hostile, -1, hostile, 3, hostile),
            group_moved(hostile),
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
        assert_eq!(
            staff_only(crate::domain::staff::Role::Operator),
            "이 명령은 운영 권한 이상의 직원으로 등록된 텔레그램 계정만 쓸 수 있습니다. 관리자에게 계정 등록을 요청해 주세요."
        );
        assert_eq!(
            evidence_full(20),
            "📎 이 건에는 파일을 20개까지만 받을 수 있어 이번 파일은 반영되지 않았습니다. 더 보내실 자료는 담당자에게 직접 전달해 주세요."
        );
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
    fn reply_errors_name_what_each_phase_misses() {
        let c = crate::demo::clients().into_iter().find(|c| c.id.as_str() == "saebyeok").unwrap();
        let line = |error| ReplyError::Line { line: 1, error };
        assert_eq!(
            reply_error(&line(LineError::MissingPrice { fund: "hy".into() }), &c, Phase::Sell),
            "1번째 줄 (하이일드): 평균단가가 없습니다"
        );
        assert_eq!(
            reply_error(&line(LineError::MissingPrice { fund: "hy".into() }), &c, Phase::Bid),
            "1번째 줄 (하이일드): 참여가격이 없습니다"
        );
        assert_eq!(
            reply_error(&line(LineError::MissingQuantity { fund: "hy".into() }), &c, Phase::Sell),
            "1번째 줄 (하이일드): 매도수량이 없습니다"
        );
        assert_eq!(
            reply_error(&line(LineError::MissingValue { fund: "hy".into(), what: "거래세" }), &c, Phase::Statement),
            "1번째 줄 (하이일드): 거래세 값이 없습니다"
        );
        assert_eq!(
            reply_error(&ReplyError::Unreadable { line: 2, text: "?".into() }, &c, Phase::Statement),
            "2번째 줄: 수량 / 단가 / 매매금액 / 수수료 / 거래세 / 정산금액을 찾지 못했습니다"
        );
        assert_eq!(
            already_submitted(Phase::Statement),
            format!(
                "이미 매매명세서 내역을 받았습니다. 바꾸시려면 접수 메시지의 [{EDIT_BUTTON}] 을 누른 뒤 다시 보내 주세요."
            )
        );
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
            evidence_full(20),
            edit_not_applied(),
            staff_only(crate::domain::staff::Role::Operator),
        ] {
            assert!(visible_len(&text) < MESSAGE_LIMIT);
            assert!(!text.is_empty());
        }
    }
}
