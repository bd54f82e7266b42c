//! The staff group's summary of an IPO's result, sent when the last statement of the stock is
//! confirmed: the totals, each fund in a line, and how following the advice turned out. The full
//! tables are at `GET /api/v1/stocks/{id}/result` (CSV and xlsx too).

use crate::domain::money::group_thousands;
use crate::domain::result::{Group, StockResult};
use crate::export::percent_text;
use crate::telegram::html::escape;

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

/// The summary; Telegram HTML.
pub fn summary(result: &StockResult) -> String {
    let t = &result.totals;
    let mut out = format!(
        "🏁 <b>{}</b> 결과 (명세 확정 완료)\n공모가 {}원 · 배정 {}주 · 매도 {}주{}\n매도금액 {}원 · 수수료 {}원 · 거래세 {}원\n실현손익 {} ({})",
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
