//! What the staff group reads about a process: one live progress card per process, and messages
//! only for what needs a person now (a deviation, a file to read, an escalation, a failure), each
//! naming the client and the stock.

use super::{Subject, answer_noun, finding, state_korean};
use crate::domain::client::Client;
use crate::domain::phase::{Finding, Phase};
use crate::domain::process::{ProcessKind, ProcessState};
use crate::domain::time::{Timestamp, format_kst};
use crate::domain::tracker::TrackerState;
use crate::telegram::html::{MESSAGE_LIMIT, escape, visible_len};
use chrono::TimeDelta;

/// A submitted answer that differs from the advice or breaks a rule.
pub fn answer(subject: &Subject<'_>, client: &Client, phase: Phase, findings: &[Finding]) -> String {
    let mut out =
        format!("📥 {} — {} {} 제출", escape(client.name.as_str()), escape(subject.name()), answer_noun(phase));
    for f in findings {
        out.push_str(&format!("\n{}", finding(client, f)));
    }
    out
}

pub fn evidence(subject: &Subject<'_>, client: &Client) -> String {
    format!(
        "📎 {} — {} 자료 제출 (캡처/파일): 값을 확인해 확정해 주세요.",
        escape(client.name.as_str()),
        escape(subject.name())
    )
}

pub fn escalation(subject: &Subject<'_>, client: &Client, minutes: i64, state: TrackerState, phase: Phase) -> String {
    let waiting = match state {
        TrackerState::Acknowledged => format!("{} 미제출", answer_noun(phase)),
        _ => "확인 없음".to_owned(),
    };
    format!(
        "🚨 긴급: {} — {} {minutes}분째 {waiting}",
        escape(client.name.as_str()),
        subject.heading().trim_start_matches("📌 ").trim_start_matches("📢 ")
    )
}

pub fn confirmed(subject: &Subject<'_>, client: &Client, by: &str, phase: Phase, findings: &[Finding]) -> String {
    let mut out = format!(
        "✔️ {} — {} {} 확정 ({})",
        escape(client.name.as_str()),
        escape(subject.name()),
        answer_noun(phase),
        escape(by)
    );
    for f in findings {
        out.push_str(&format!("\n{}", finding(client, f)));
    }
    out
}

pub fn send_failed(subject: &Subject<'_>, client: &Client, reason: &str) -> String {
    format!("🚨 발송 실패: {} — {}: {}", escape(client.name.as_str()), escape(subject.name()), escape(reason))
}

pub fn send_unclear(subject: &Subject<'_>, client: &Client) -> String {
    format!(
        "❓ {} — {} 발송 도중 중단되어 전달 여부가 불확실합니다. 그룹을 확인한 뒤 필요하면 다시 보내 주세요.",
        escape(client.name.as_str()),
        escape(subject.name())
    )
}

/// The kickoff could not reach some clients.
pub fn kickoff_failures(subject: &Subject<'_>, sent: usize, failures: &[(String, String)]) -> String {
    let mut out = format!(
        "🚨 {} 발송 {sent}건, 실패 {}건",
        subject.heading().trim_start_matches("📌 ").trim_start_matches("📢 "),
        failures.len()
    );
    for (name, reason) in failures {
        out.push_str(&format!("\n❌ {}: {}", escape(name), escape(reason)));
    }
    out
}

/// A scheduled kickoff found the process could no longer start.
pub fn kickoff_refused(name: &str, kind: ProcessKind, why: &str) -> String {
    format!("🚨 {} {} 시작 취소: {}", escape(name), escape(kind.korean()), escape(why))
}

/// What a progress card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFacts {
    /// Whether the process still runs: a finished one shows its state and nobody as waited for.
    pub state: ProcessState,
    pub total: usize,
    pub counts: Vec<(TrackerState, usize)>,
    /// Clients whose answer deviates from the advice or breaks a rule.
    pub deviations: usize,
    /// Clients the bot could not reach, with why.
    pub failures: Vec<(String, String)>,
    /// Clients the bot is waiting for, longest first, with how long.
    pub silent: Vec<(String, TimeDelta)>,
    pub updated_at: Timestamp,
}

/// Names shown per list on a card; the rest are counted.
const CARD_NAMES: usize = 10;

/// The live card, edited in place as the process moves.
pub fn progress_card(subject: &Subject<'_>, facts: &CardFacts) -> String {
    let mut out = format!("📊 {}", subject.heading().trim_start_matches("📌 ").trim_start_matches("📢 "));
    match facts.state {
        ProcessState::Running => {}
        ProcessState::Draft | ProcessState::Scheduled => out.push_str(" (시작 전)"),
        ProcessState::Paused => out.push_str(" (일시정지)"),
        ProcessState::Completed => out.push_str(" (완료)"),
        ProcessState::Cancelled => out.push_str(" (취소)"),
    }
    let counts: Vec<String> =
        facts.counts.iter().filter(|(_, n)| *n > 0).map(|(state, n)| format!("{} {n}", state_korean(*state))).collect();
    out.push_str(&format!(
        "\n대상 {}곳: {}",
        facts.total,
        if counts.is_empty() { "-".into() } else { counts.join(" · ") }
    ));
    if facts.deviations > 0 {
        out.push_str(&format!("\n⚠️ 자문과 다름/확인 필요 {}곳", facts.deviations));
    }
    if !facts.failures.is_empty() {
        out.push_str(&format!(
            "\n🚨 발송 실패 {}곳: {}",
            facts.failures.len(),
            names(&facts.failures, |(n, r)| format!("{n} ({r})"))
        ));
    }
    if !facts.silent.is_empty() && facts.state == ProcessState::Running {
        let shown = names(&facts.silent, |(n, waited)| format!("{n} {}", waited_for(*waited)));
        out.push_str(&format!("\n⏳ 응답 대기 {}곳: {shown}", facts.silent.len()));
    }
    out.push_str(&format!("\n갱신 {}", format_kst(facts.updated_at)));
    out
}

/// `방금`, `7분`, `2시간 5분`, `3일`.
fn waited_for(d: TimeDelta) -> String {
    let minutes = d.num_minutes().max(0);
    match minutes {
        0 => "방금".to_owned(),
        1..60 => format!("{minutes}분"),
        60..1440 if minutes % 60 == 0 => format!("{}시간", minutes / 60),
        60..1440 => format!("{}시간 {}분", minutes / 60, minutes % 60),
        _ => format!("{}일", minutes / 1440),
    }
}

fn names<T>(items: &[T], show: impl Fn(&T) -> String) -> String {
    let mut shown: Vec<String> = items.iter().take(CARD_NAMES).map(|i| escape(&show(i))).collect();
    if items.len() > CARD_NAMES {
        shown.push(format!("외 {}곳", items.len() - CARD_NAMES));
    }
    shown.join(", ")
}

/// Several notices that arrived together, as few messages as Telegram's length allows, in order.
pub fn coalesce(notices: &[String]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for notice in notices {
        match out.last_mut() {
            Some((text, count)) if visible_len(text) + 2 + visible_len(notice) <= MESSAGE_LIMIT => {
                text.push_str("\n\n");
                text.push_str(notice);
                *count += 1;
            }
            _ => out.push((notice.clone(), 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::process::Round;

    fn t() -> Timestamp {
        "2026-03-16T00:15:00Z".parse().unwrap()
    }

    #[test]
    fn the_card_counts_states_and_names_who_is_silent() {
        let stock = crate::demo::hanbit();
        let subject = Subject::new(Some(&stock), ProcessKind::Participation { round: Round::FirstDay }, None);
        let silent: Vec<(String, TimeDelta)> =
            (0..12).map(|i| (format!("고객{i:02}"), TimeDelta::minutes(15 - i))).collect();
        let facts = CardFacts {
            state: ProcessState::Running,
            total: 300,
            counts: vec![(TrackerState::Sent, 12), (TrackerState::Acknowledged, 288), (TrackerState::Failed, 0)],
            deviations: 2,
            failures: vec![],
            silent,
            updated_at: t(),
        };
        assert_eq!(
            progress_card(&subject, &facts),
            "📊 <b>(가상)한빛로보틱스</b> 수요예측 참여 (첫날)\n대상 300곳: 발송 12 · 확인 288\n⚠️ 자문과 다름/확인 필요 2곳\n\
             ⏳ 응답 대기 12곳: 고객00 15분, 고객01 14분, 고객02 13분, 고객03 12분, 고객04 11분, 고객05 10분, 고객06 9분, \
             고객07 8분, 고객08 7분, 고객09 6분, 외 2곳\n갱신 2026-03-16 09:15 KST"
        );
        let done = CardFacts { state: ProcessState::Completed, ..facts };
        assert!(
            progress_card(&subject, &done).starts_with("📊 <b>(가상)한빛로보틱스</b> 수요예측 참여 (첫날) (완료)\n")
        );
        assert!(!progress_card(&subject, &done).contains("응답 대기"), "nobody is waited for once it is over");
    }

    #[test]
    fn waits_read_in_the_largest_unit() {
        let m = TimeDelta::minutes;
        assert_eq!(
            [TimeDelta::seconds(30), m(7), m(60), m(125), m(14_400)].map(waited_for),
            ["방금".to_owned(), "7분".into(), "1시간".into(), "2시간 5분".into(), "10일".into()]
        );
    }

    #[test]
    fn notices_coalesce_within_one_message() {
        let short: Vec<String> = (0..5).map(|i| format!("notice {i}")).collect();
        assert_eq!(coalesce(&short), vec![(short.join("\n\n"), 5)]);
        let long = "가".repeat(3_000);
        let parts = coalesce(&[long.clone(), long.clone(), "x".into()]);
        assert_eq!(parts.iter().map(|(_, n)| *n).collect::<Vec<_>>(), vec![1, 2]);
        assert!(parts.iter().all(|(t, _)| visible_len(t) <= MESSAGE_LIMIT));
    }
}
