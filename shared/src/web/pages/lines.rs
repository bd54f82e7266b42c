//! Advice and answers shown as one line per fund, read from their serialised form: every phase
//! stores `lines` of a fund and its values, so a phase added later shows without a change here.

use crate::domain::client::Client;
use crate::domain::money::group_thousands;
use crate::domain::phase::sell::SellPlanLine;
use serde::Serialize;
use serde_json::{Map, Value};

/// One fund's values, in the order the phase stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundValues {
    pub fund_id: String,
    pub fund: String,
    /// `(field, value as people read it)`.
    pub values: Vec<(String, String)>,
}

impl FundValues {
    /// `공모주: 17,000원 / 1,000주 / 미확약`; the comment is shown apart ([`FundValues::comment`]).
    pub fn sentence(&self) -> String {
        let values: Vec<String> = self
            .values
            .iter()
            .filter(|(k, v)| k != "comment" && !v.is_empty())
            .map(|(k, v)| match label(k) {
                Some(label) => format!("{label} {v}"),
                None => v.clone(),
            })
            .collect();
        if values.is_empty() { self.fund.clone() } else { format!("{}: {}", self.fund, values.join(" / ")) }
    }

    /// The firm's comment on the line, if any.
    pub fn comment(&self) -> Option<&str> {
        self.values.iter().find(|(k, _)| k == "comment").map(|(_, v)| v.as_str())
    }

    /// The value of `field` as a person would type it back (for a form): plain grouped numbers.
    pub fn raw(&self, field: &str) -> Option<String> {
        self.values.iter().find(|(k, _)| k == field).map(|(_, v)| v.trim_end_matches(['원', '주']).to_owned())
    }
}

/// The lines of an advice or an answer; a notice (no lines) gives its title.
pub fn fund_lines(client: Option<&Client>, content: &impl Serialize) -> Vec<FundValues> {
    let Ok(value) = serde_json::to_value(content) else { return Vec::new() };
    let Some(lines) = value.get("lines").and_then(Value::as_array) else {
        return match value.get("title").and_then(Value::as_str) {
            Some(title) => vec![FundValues { fund_id: String::new(), fund: title.to_owned(), values: Vec::new() }],
            None => Vec::new(),
        };
    };
    lines
        .iter()
        .filter_map(Value::as_object)
        .map(|line| {
            let fund_id = line.get("fund_id").and_then(Value::as_str).unwrap_or_default().to_owned();
            let fund = client
                .and_then(|c| fund_id.parse().ok().and_then(|id| c.fund(&id)))
                .map_or_else(|| fund_id.clone(), |f| f.name.to_string());
            let mut values = Vec::new();
            flatten(line, &mut values);
            // A sell plan's orders are a list: shown as the client reads them, in one line.
            if line.contains_key("orders")
                && let Ok(plan) = serde_json::from_value::<SellPlanLine>(Value::Object(line.clone()))
            {
                values.push(("orders".to_owned(), crate::domain::templates::sell::summary(&plan)));
            }
            // JSON objects come back in key order; people read price, quantity, lock-up.
            values.sort_by_key(|(k, _)| rank(k));
            FundValues { fund_id, fund, values }
        })
        .collect()
}

fn flatten(object: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (key, value) in object {
        match (key.as_str(), value) {
            ("fund_id", _) | (_, Value::Null) | (_, Value::Array(_)) => {}
            // 배정: `{"result": "none"}` is 미배정; shares carry their own quantity and lock-up.
            ("result", Value::String(r)) if r == "none" => out.push((key.clone(), "미배정".into())),
            ("result", _) => {}
            (_, Value::Object(inner)) => flatten(inner, out),
            (_, Value::String(s)) if s.is_empty() => {}
            (_, Value::String(s)) => out.push((key.clone(), s.clone())),
            (_, Value::Number(n)) => out.push((key.clone(), number(key, n))),
            (_, Value::Bool(b)) => out.push((key.clone(), if *b { "예" } else { "아니오" }.into())),
        }
    }
}

/// What a value is called, for the values beyond a line's price, quantity and lock-up (a sell
/// plan's, a trade statement's).
fn label(key: &str) -> Option<&'static str> {
    Some(match key {
        "sellable" => "매도가능",
        "orders" => "주문",
        "average_price" => "평균단가",
        "gross" => "매도금액",
        "commission" => "수수료",
        "tax" => "세금",
        "net" => "정산금액",
        "sale_date" | "date" => "매도일",
        "market" => "시장",
        _ => return None,
    })
}

fn rank(key: &str) -> (u8, String) {
    let first = ["result", "price", "quantity", "lockup", "sellable", "orders"].iter().position(|k| *k == key);
    (first.map_or(9, |i| u8::try_from(i).unwrap_or(9)), key.to_owned())
}

fn number(key: &str, n: &serde_json::Number) -> String {
    let Some(whole) = n.as_u64() else { return n.to_string() };
    let grouped = group_thousands(whole);
    let won = ["price", "amount", "won", "fee", "tax", "gross", "net", "commission", "cost", "proceeds"];
    if won.iter().any(|w| key.contains(w)) {
        format!("{grouped}원")
    } else if key.contains("quantity") || key == "sellable" {
        format!("{grouped}주")
    } else {
        grouped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_read_as_people_write_them() {
        let advice = json!({"lines": [{"fund_id": "main", "price": 17000, "quantity": 1000, "lockup": "미확약", "comment": "상단"}]});
        let lines = fund_lines(None, &advice);
        assert_eq!(lines[0].sentence(), "main: 17,000원 / 1,000주 / 미확약");
        assert_eq!(lines[0].comment(), Some("상단"));
        assert_eq!(lines[0].raw("price").as_deref(), Some("17,000"));
        let allotment = json!({"lines": [{"fund_id": "a", "allotted": {"result": "none"}},
            {"fund_id": "b", "allotted": {"result": "shares", "quantity": 300, "lockup": "15일"}}]});
        let lines = fund_lines(None, &allotment);
        assert_eq!(lines[0].sentence(), "a: 미배정");
        assert_eq!(lines[1].sentence(), "b: 300주 / 15일");
        assert_eq!(fund_lines(None, &json!({"title": "휴장 안내", "text": "…"}))[0].sentence(), "휴장 안내");
        let plan = json!({"sale_date": "2026-04-07", "lines": [{"fund_id": "hy", "sellable": 12000, "orders": [
            {"quantity": {"unit": "percent", "percent": 50}, "order_type": {"type": "open"}, "condition": "시가 +30% 이상이면"},
            {"quantity": {"unit": "rest"}, "order_type": {"type": "limit", "price": 34000}}]}]});
        assert_eq!(
            fund_lines(None, &plan)[0].sentence(),
            "hy: 매도가능 12,000주 / 주문 시가 +30% 이상이면: 50% 시가, 잔량 지정가 34,000원"
        );
    }
}
