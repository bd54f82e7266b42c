//! What the staff group reads as an IPO's sales settle: the statements asked for after a sale
//! date's execution reports are confirmed, and the result when the last statement of the stock is
//! confirmed (the totals, each fund in a line, and how following the advice turned out). The full
//! tables are at `GET /api/v1/stocks/{id}/result` (CSV and xlsx too).

use crate::domain::money::group_thousands;
use crate::domain::result::{Group, StockResult};
use crate::export::percent_text;
use crate::telegram::html::escape;
use chrono::NaiveDate;

/// `+1,234원`, `−1,234원`.
fn signed_won(n: i64) -> String {
    let sign = if n < 0 { "−" } else { "+" };
    format!("{sign}{}원", group_thousands(n.unsigned_abs()))
}

fn signed_percent(bp: Option<i64>) -> String {
    match bp {
        Some(bp) if bp >= 0 => format!("+{}", percent_text(bp)),
        Some(bp) => format!("−{}", percent_text(-bp)),
        None => "-".to_owned(),
    }
}

fn group(name: &str, g: &Group) -> String {
    format!(
        "{name} {}건 · {}주 · {} ({})",
        g.sales,
        group_thousands(g.sold),
        signed_won(g.realised_profit),
        signed_percent(g.return_bp)
    )
}

/// Every execution report of a sale date is confirmed: the funds that sold are asked for their
/// statements at T+2.
pub fn statements_planned(stock: &str, sale_date: NaiveDate, kickoff: &str, clients: usize, scheduled: bool) -> String {
    let when = if scheduled {
        format!("{kickoff} 예약")
    } else {
        format!("{kickoff} 예정이나 예약하지 못했습니다: 시작 시각을 정해 예약해 주세요")
    };
    format!(
        "🧾 <b>{}</b> {} 매도 체결 확정: 매매명세서 확인 {clients}곳, {when}",
        escape(stock),
        sale_date.format("%m-%d")
    )
}

/// Every execution report of a sale date is confirmed and nobody sold: no statement to ask for.
pub fn nothing_sold(stock: &str, sale_date: NaiveDate) -> String {
    format!(
        "🧾 <b>{}</b> {} 매도 체결 확정: 매도한 곳이 없어 명세서 확인은 없습니다",
        escape(stock),
        sale_date.format("%m-%d")
    )
}

/// The summary; Telegram HTML. Shares still unsold (a lock-up not yet released) make it an
/// interim result.
pub fn summary(result: &StockResult) -> String {
    let t = &result.totals;
    let title =
        if result.complete { "결과 (명세 확정 완료)" } else { "중간 결과 (확정된 명세까지)" };
    let mut out = format!(
        "🏁 <b>{}</b> {title}\n공모가 {}원 · 배정 {}주 · 매도 {}주{}\n매도금액 {}원 · 수수료 {}원 · 거래세 {}원\n실현손익 {} ({})",
        escape(&result.stock_name),
        group_thousands(result.offer_price),
        group_thousands(t.allotted),
        group_thousands(t.sold),
        t.average_price.map(|p| format!(" (평균 {}원)", group_thousands(p))).unwrap_or_default(),
        group_thousands(t.gross),
        group_thousands(t.commission),
        group_thousands(t.tax),
        signed_won(t.realised_profit),
        signed_percent(t.return_bp),
    );
    if t.unsold > 0 {
        out.push_str(&format!("\n잔여 {}주 (미매도)", group_thousands(t.unsold)));
    }
    for f in &result.funds {
        out.push_str(&format!(
            "\n• {} {}: {}주 중 {}주 매도{} · {} ({})",
            escape(&f.client_name),
            escape(&f.fund_name),
            group_thousands(f.allotted),
            group_thousands(f.sold),
            f.average_price.map(|p| format!(" 평균 {}원", group_thousands(p))).unwrap_or_default(),
            signed_won(f.realised_profit),
            signed_percent(f.return_bp),
        ));
    }
    let s = &result.advice_summary;
    out.push_str(&format!("\n자문 이행: {}\n자문 이탈: {}", group("따름", &s.followed), group("벗어남", &s.deviated)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_read_the_korean_way() {
        assert_eq!(signed_won(-1_234), "−1,234원");
        assert_eq!(signed_won(0), "+0원");
        assert_eq!(signed_percent(Some(-1_050)), "−10.50%");
        assert_eq!(signed_percent(Some(8_785)), "+87.85%");
        assert_eq!(signed_percent(None), "-");
    }
}
