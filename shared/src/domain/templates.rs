//! Every message the bot writes, in one place: Korean, HTML-escaped, prices as `17,000원` and times
//! in KST.

use crate::domain::client::Client;
use crate::domain::reply::ReplyError;
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
pub fn reply_error(error: &ReplyError, client: &Client) -> String {
    use crate::domain::check::BidError;
    let fund = |id: &str| client.fund_named(id).map_or_else(|| id.to_owned(), |f| f.name.to_string());
    match error {
        ReplyError::Empty => "내용이 없습니다".to_owned(),
        ReplyError::WhichFund { line } => format!("{line}번째 줄: 펀드명을 함께 적어 주세요"),
        ReplyError::Unreadable { line, .. } => format!("{line}번째 줄: 가격 / 수량 / 확약을 찾지 못했습니다"),
        ReplyError::Bid { line, error } => match error {
            BidError::MissingPrice { fund: f } => format!("{line}번째 줄 ({}): 참여가격이 없습니다", fund(f)),
            BidError::MissingQuantity { fund: f } => format!("{line}번째 줄 ({}): 참여수량이 없습니다", fund(f)),
            BidError::MissingLockUp { fund: f } => {
                format!("{line}번째 줄 ({}): 확약 여부(미확약, 15일, 1개월, 3개월, 6개월)가 없습니다", fund(f))
            }
            BidError::Invalid { fund: f, .. } => {
                format!("{line}번째 줄 ({}): 숫자나 확약 기간을 읽지 못했습니다", fund(f))
            }
            BidError::UnknownFund { fund: f } => format!("{line}번째 줄: {f} 은(는) 등록된 펀드가 아닙니다"),
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

// ---- phase 1: book-building participation ------------------------------------------------------

pub mod phase1 {
    //! The messages of 수요예측 참여: advice, the bid prompt, receipts, reminders, and what staff see.

    use crate::domain::check::Finding;
    use crate::domain::client::Client;
    use crate::domain::ids::FundId;
    use crate::domain::money::group_thousands;
    use crate::domain::process::ProcessKind;
    use crate::domain::stock::Stock;
    use crate::domain::tracker::{ActualLine, AdviceLine};
    use crate::telegram::html::escape;

    pub const ACK_BUTTON: &str = "✅ 확인";
    pub const EDIT_BUTTON: &str = "✏️ 수정";

    fn fund_name(client: &Client, fund: &FundId) -> String {
        client.fund(fund).map_or_else(|| fund.to_string(), |f| f.name.to_string())
    }

    fn heading(stock: &Stock, kind: ProcessKind) -> String {
        format!("📌 <b>{}</b> {}", escape(stock.name.as_str()), escape(kind.korean()))
    }

    /// The advice for one client: only its own funds' lines.
    pub fn advice(stock: &Stock, kind: ProcessKind, client: &Client, lines: &[AdviceLine]) -> String {
        let d = stock.schedule().dates();
        let band = stock.band();
        let mut out = format!(
            "{}\n수요예측 {} ~ {} · 밴드 {} ~ {}",
            heading(stock, kind),
            d.bookbuilding_start.format("%m-%d"),
            d.bookbuilding_end.format("%m-%d"),
            band.low(),
            band.high()
        );
        for line in lines {
            out.push_str(&format!(
                "\n\n<b>{}</b>\n• 참여가격: {}\n• 참여수량: {}\n• 확약: {}",
                escape(&fund_name(client, &line.fund_id)),
                line.price,
                line.quantity,
                line.lockup
            ));
            if !line.comment.trim().is_empty() {
                out.push_str(&format!("\n• 코멘트: {}", escape(line.comment.trim())));
            }
        }
        out.push_str(&format!("\n\n확인하셨으면 [{ACK_BUTTON}] 버튼을 눌러 주세요."));
        out
    }

    /// How to answer, with an example in the client's own fund names when it has several.
    pub fn example(client: &Client, lines: &[AdviceLine]) -> String {
        if lines.len() <= 1 {
            return "17,500 / 300,000 / 1개월".to_owned();
        }
        lines
            .iter()
            .map(|l| {
                format!(
                    "{} {} / {} / {}",
                    escape(&fund_name(client, &l.fund_id)),
                    group_thousands(l.price.get()),
                    group_thousands(l.quantity.get()),
                    l.lockup
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn bid_prompt(stock: &Stock, client: &Client, lines: &[AdviceLine]) -> String {
        format!(
            "<b>{}</b> 실제 참여 내역(가격 / 수량 / 확약)을 이 메시지에 <b>답장</b>으로 보내 주세요.{}\n예)\n{}\n참여 화면 캡처나 파일을 답장으로 보내셔도 됩니다.",
            escape(stock.name.as_str()),
            if lines.len() > 1 { " 펀드마다 한 줄씩 적어 주세요." } else { "" },
            example(client, lines)
        )
    }

    pub fn bid_unreadable(reason: &str, client: &Client, lines: &[AdviceLine]) -> String {
        format!(
            "입력하신 내용을 이해하지 못했습니다: {}\n다시 이 메시지에 답장으로 보내 주세요.\n예)\n{}",
            escape(reason),
            example(client, lines)
        )
    }

    pub fn bid_received(stock: &Stock, client: &Client, bids: &[ActualLine]) -> String {
        let mut out = format!("📝 <b>{}</b> 참여 내역을 접수했습니다.", escape(stock.name.as_str()));
        for b in bids {
            out.push_str(&format!(
                "\n• {}: {} / {} / {}",
                escape(&fund_name(client, &b.fund_id)),
                b.price,
                b.quantity,
                b.lockup
            ));
        }
        out.push_str(&format!("\n틀린 곳이 있으면 [{EDIT_BUTTON}] 을 눌러 다시 보내 주세요."));
        out
    }

    pub fn evidence_received() -> String {
        "📎 자료를 받았습니다. 담당자가 확인 후 반영하겠습니다.".to_owned()
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

    pub fn which_ipo() -> String {
        "어느 종목에 대한 답변인지 알 수 없습니다. 해당 종목 안내 메시지에 답장으로 보내 주세요.".to_owned()
    }

    pub fn reminder_unacknowledged(stock: &Stock, kind: ProcessKind) -> String {
        format!(
            "⏰ {} 안내를 확인해 주세요. 위 메시지의 [{ACK_BUTTON}] 버튼을 눌러 주시면 됩니다.",
            heading(stock, kind)
        )
    }

    pub fn reminder_unsubmitted(stock: &Stock, kind: ProcessKind) -> String {
        format!(
            "⏰ {} 실제 참여 내역을 아직 받지 못했습니다. 안내 메시지에 답장으로 보내 주세요.",
            heading(stock, kind)
        )
    }

    // ---- to staff ----

    pub fn staff_kickoff(stock: &Stock, kind: ProcessKind, sent: &[String], failed: &[(String, String)]) -> String {
        let mut out = format!(
            "📤 <b>{}</b> {} 발송 {}건, 실패 {}건",
            escape(stock.name.as_str()),
            escape(kind.korean()),
            sent.len(),
            failed.len()
        );
        if !sent.is_empty() {
            out.push_str(&format!("\n발송: {}", sent.iter().map(|s| escape(s)).collect::<Vec<_>>().join(", ")));
        }
        for (name, reason) in failed {
            out.push_str(&format!("\n❌ {}: {}", escape(name), escape(reason)));
        }
        out
    }

    pub fn staff_acknowledged(client: &Client, by: &str) -> String {
        format!("👀 {} 확인 ({})", escape(client.name.as_str()), escape(by))
    }

    /// A submitted bid: every finding, or that it matches the advice.
    pub fn staff_bid(stock: &Stock, client: &Client, findings: &[Finding]) -> String {
        let head = format!("📥 {} — {} 참여 내역 제출", escape(client.name.as_str()), escape(stock.name.as_str()));
        if findings.is_empty() {
            return format!("{head}\n✅ 자문과 일치");
        }
        let mut out = head;
        for f in findings {
            out.push_str(&format!("\n{}", finding(client, f)));
        }
        out
    }

    pub fn finding(client: &Client, f: &Finding) -> String {
        let fund = |id: &FundId| escape(&fund_name(client, id));
        match f {
            Finding::PriceDiffers { fund_id, advised, actual, diff } => {
                format!("⚠️ {} 가격 {advised} → {actual} ({}원)", fund(fund_id), signed(*diff))
            }
            Finding::QuantityDiffers { fund_id, advised, actual, percent_tenths, .. } => format!(
                "⚠️ {} 수량 {advised} → {actual} ({}{}.{}%)",
                fund(fund_id),
                if *percent_tenths < 0 { "−" } else { "+" },
                percent_tenths.unsigned_abs() / 10,
                percent_tenths.unsigned_abs() % 10
            ),
            Finding::LockUpDiffers { fund_id, advised, actual } => {
                format!("⚠️ {} 확약 {advised} → {actual}", fund(fund_id))
            }
            Finding::MissingBid { fund_id } => format!("⚠️ {} 참여 내역 없음", fund(fund_id)),
            Finding::UnadvisedBid { fund_id } => format!("⚠️ {} 자문하지 않은 펀드의 참여", fund(fund_id)),
            Finding::OffGrid { fund_id, price, tick } => {
                format!("⚠️ {} 가격 {price} 이(가) 호가단위({tick}원)에 맞지 않음", fund(fund_id))
            }
            Finding::ExceedsAbilityToPay { fund_id, amount, aum } => format!(
                "🚫 {} 참여금액 {} 이(가) 펀드 규모 {} 초과 (납입능력 초과)",
                fund(fund_id),
                amount.display_eok(),
                aum.display_eok()
            ),
            Finding::UnknownFund { fund_id } => format!("🚫 {} 은(는) 이 고객사의 펀드가 아님", fund(fund_id)),
        }
    }

    fn signed(n: i64) -> String {
        let magnitude = group_thousands(n.unsigned_abs());
        if n < 0 { format!("−{magnitude}") } else { format!("+{magnitude}") }
    }

    pub fn staff_evidence(stock: &Stock, client: &Client) -> String {
        format!(
            "📎 {} — {} 자료 제출 (캡처/파일): 값을 확인해 확정해 주세요.",
            escape(client.name.as_str()),
            escape(stock.name.as_str())
        )
    }

    pub fn staff_escalation(
        stock: &Stock,
        kind: ProcessKind,
        client: &Client,
        minutes: i64,
        acknowledged: bool,
    ) -> String {
        format!(
            "🚨 긴급: {} — <b>{}</b> {} {}분째 {}",
            escape(client.name.as_str()),
            escape(stock.name.as_str()),
            escape(kind.korean()),
            minutes,
            if acknowledged { "참여 내역 미제출" } else { "확인 없음" }
        )
    }

    pub fn staff_confirmed(client: &Client, by: &str, findings: &[Finding]) -> String {
        let mut out = format!("✔️ {} 참여 내역 확정 ({})", escape(client.name.as_str()), escape(by));
        for f in findings {
            out.push_str(&format!("\n{}", finding(client, f)));
        }
        out
    }

    pub fn staff_send_unclear(client: &Client) -> String {
        format!(
            "❓ {} 발송 도중 중단되어 전달 여부가 불확실합니다. 그룹을 확인한 뒤 필요하면 다시 보내 주세요.",
            escape(client.name.as_str())
        )
    }
}
