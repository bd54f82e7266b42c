//! Judges imported rows against the client list and the phase-1 rules: what would become advice,
//! what is refused and why, and what was marked not to be sent. Pure: rows and clients in, a report
//! out, so the staff API can answer a dry run with it and apply exactly what it showed.

use super::{RawRow, RowSource};
use crate::domain::client::{Client, FundAccount};
use crate::domain::ids::{ClientId, FundId};
use crate::domain::lockup::LockUp;
use crate::domain::money::{Price, Quantity};
use crate::domain::phase::bid::{AdviceLine, Finding, check_line};
use crate::domain::regulation::Regulation;
use crate::domain::stock::PriceBand;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 500;

/// What an import would do, row by row, in the order of the rows given. `A` is what an accepted
/// row becomes and `W` what it may be warned of: a bid's line by default, a sell order for a
/// sell plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport<A = AdviceLine, W = Finding> {
    pub rows: Vec<RowReport<A, W>>,
    pub accepted: usize,
    pub rejected: usize,
    pub skipped: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowReport<A = AdviceLine, W = Finding> {
    pub source: RowSource,
    /// The 기관명 cell as written.
    pub client_input: String,
    /// The client the row was matched to, when it was.
    pub client_id: Option<ClientId>,
    /// The fund the row was matched to, when it was.
    pub fund_id: Option<FundId>,
    pub outcome: RowOutcome<A, W>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RowOutcome<A = AdviceLine, W = Finding> {
    /// Becomes advice. The warnings (an off-grid price, a bid beyond the fund's ability to pay) do
    /// not stop it, but staff should look before sending.
    Accepted { advice: A, warnings: Vec<W> },
    /// Refused; each reason names the row.
    Rejected { reasons: Vec<String> },
    /// Marked 발송 = X: not sent, and not an error.
    Skipped,
}

impl<A, W> ImportReport<A, W> {
    /// True when no row was rejected (skipped rows and warnings are fine).
    pub fn is_clean(&self) -> bool {
        self.rejected == 0
    }
}

impl ImportReport {
    /// The accepted advice, per client, in row order.
    pub fn advice_by_client(&self) -> BTreeMap<ClientId, Vec<AdviceLine>> {
        let mut out: BTreeMap<ClientId, Vec<AdviceLine>> = BTreeMap::new();
        for row in &self.rows {
            if let (Some(client), RowOutcome::Accepted { advice, .. }) = (&row.client_id, &row.outcome) {
                out.entry(client.clone()).or_default().push(advice.clone());
            }
        }
        out
    }

    /// Warns of accepted prices further outside the stock's band than the firm's tolerance, and
    /// of those that fit another offering's band instead (a sheet for the wrong stock).
    pub fn check_bands(mut self, bands: &Bands) -> Self {
        for row in &mut self.rows {
            let RowOutcome::Accepted { advice, warnings } = &mut row.outcome else { continue };
            if bands.tolerates(bands.stock, advice.price) {
                continue;
            }
            warnings.push(Finding::OutsideBand {
                fund_id: advice.fund_id.clone(),
                price: advice.price,
                low: bands.stock.low(),
                high: bands.stock.high(),
            });
            if let Some((stock, _)) = bands.others.iter().find(|(_, band)| band.contains(advice.price)) {
                warnings.push(Finding::FitsOtherStock {
                    fund_id: advice.fund_id.clone(),
                    price: advice.price,
                    stock: stock.clone(),
                });
            }
        }
        self
    }
}

/// The price band of the stock the advice is for, how far outside it advice may go, and the
/// bands of the other offerings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bands {
    pub stock: PriceBand,
    pub tolerance_percent: u32,
    pub others: Vec<(String, PriceBand)>,
}

impl Bands {
    fn tolerates(&self, band: PriceBand, price: Price) -> bool {
        let t = u128::from(self.tolerance_percent);
        let p = u128::from(price.get()) * 100;
        p >= u128::from(band.low().get()) * (100u128.saturating_sub(t))
            && p <= u128::from(band.high().get()) * (100 + t)
    }
}

/// Reviews `rows` for the given clients. `date` picks the tick table the prices are checked against
/// (the book-building date); `reg` holds it. The client list is the caller's choice (typically the
/// active clients): a row naming anyone else is rejected as an unknown client.
pub fn review(rows: &[RawRow], clients: &[Client], date: NaiveDate, reg: &Regulation) -> ImportReport {
    let directory = Directory::new(clients);
    let mut first_seen: HashMap<(ClientId, FundId), &RowSource> = HashMap::new();
    let mut report = ImportReport { rows: Vec::with_capacity(rows.len()), accepted: 0, rejected: 0, skipped: 0 };
    for row in rows {
        let mut reasons: Vec<String> = Vec::new();

        let (client, fund) = directory.row(row, &mut reasons);
        let client_id = client.map(|c| c.id.clone());
        let fund_id = fund.map(|f| f.id.clone());
        let report_row = |outcome| RowReport {
            source: row.source.clone(),
            client_input: row.client.clone(),
            client_id: client_id.clone(),
            fund_id: fund_id.clone(),
            outcome,
        };

        match send_flag(row.send.as_deref()) {
            Ok(true) => {}
            Ok(false) => {
                report.skipped += 1;
                report.rows.push(report_row(RowOutcome::Skipped));
                continue;
            }
            Err(reason) => reasons.push(reason),
        }

        let price = match row.price.as_deref() {
            None => {
                reasons.push("no price (a bid needs a price)".to_owned());
                None
            }
            Some(text) => text.parse::<Price>().map_err(|e| reasons.push(format!("price: {e}"))).ok(),
        };
        let quantity = match row.quantity.as_deref() {
            None => {
                reasons.push("no quantity".to_owned());
                None
            }
            Some(text) => text.parse::<Quantity>().map_err(|e| reasons.push(format!("quantity: {e}"))).ok(),
        };
        let lockup = match row.lockup.as_deref() {
            None => {
                reasons.push("no lock-up (확약여부): write 미확약, 15일, 1개월, 3개월 or 6개월".to_owned());
                None
            }
            Some(text) => text.parse::<LockUp>().map_err(|e| reasons.push(format!("lock-up: {e}"))).ok(),
        };
        let comment = crate::domain::text::clean(&row.comment, true);
        let comment = comment.trim();
        let comment_chars = comment.chars().count();
        if comment_chars > MAX_COMMENT_CHARS {
            reasons.push(format!("comment too long ({comment_chars} characters; at most {MAX_COMMENT_CHARS})"));
        }

        if let (Some(client), Some(fund)) = (client, fund) {
            let key = (client.id.clone(), fund.id.clone());
            match first_seen.get(&key) {
                Some(first) => {
                    reasons.push(format!("duplicate: {first} already gives advice for {} {}", client.name, fund.name))
                }
                None => {
                    first_seen.insert(key, &row.source);
                }
            }
        }

        let outcome = match (client, fund, price, quantity, lockup) {
            (Some(client), Some(fund), Some(price), Some(quantity), Some(lockup)) if reasons.is_empty() => {
                match check_line(client, &fund.id, price, quantity, date, reg) {
                    Ok(warnings) => RowOutcome::Accepted {
                        advice: AdviceLine {
                            fund_id: fund.id.clone(),
                            price,
                            quantity,
                            lockup,
                            comment: comment.to_owned(),
                        },
                        warnings,
                    },
                    Err(e) => {
                        RowOutcome::Rejected { reasons: vec![format!("{}: price cannot be checked: {e}", row.source)] }
                    }
                }
            }
            _ => RowOutcome::Rejected { reasons: reasons.iter().map(|r| format!("{}: {r}", row.source)).collect() },
        };
        match outcome {
            RowOutcome::Accepted { .. } => report.accepted += 1,
            RowOutcome::Rejected { .. } => report.rejected += 1,
            RowOutcome::Skipped => report.skipped += 1,
        }
        report.rows.push(report_row(outcome));
    }
    report
}

/// How names are compared: without spaces, without the `(가상)` prefix of the demo data, ignoring
/// case.
fn name_key(name: &str) -> String {
    let squashed: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    let bare = squashed.strip_prefix("(가상)").or_else(|| squashed.strip_prefix("（가상）")).unwrap_or(&squashed);
    bare.to_lowercase()
}

pub(super) struct Directory<'a> {
    clients: &'a [Client],
    by_key: HashMap<String, Vec<&'a Client>>,
}

impl<'a> Directory<'a> {
    pub(super) fn new(clients: &'a [Client]) -> Self {
        let mut by_key: HashMap<String, Vec<&Client>> = HashMap::new();
        for c in clients {
            by_key.entry(name_key(c.name.as_str())).or_default().push(c);
        }
        Directory { clients, by_key }
    }

    /// A row's client and fund, as far as they resolve (its 기관명 and 펀드 cells); why not is
    /// pushed to `reasons`.
    pub(super) fn row(&self, row: &RawRow, reasons: &mut Vec<String>) -> (Option<&'a Client>, Option<&'a FundAccount>) {
        match self.resolve(&row.client) {
            Ok((client, named_fund)) => match resolve_fund(client, named_fund, row.fund.as_deref()) {
                Ok(fund) => (Some(client), Some(fund)),
                Err(reason) => {
                    reasons.push(reason);
                    (Some(client), None)
                }
            },
            Err(reason) => {
                reasons.push(reason);
                (None, None)
            }
        }
    }

    /// The client a 기관명 cell names, and the fund when the cell is "<client> <fund>".
    fn resolve(&self, input: &str) -> Result<(&'a Client, Option<&'a FundAccount>), String> {
        let input = input.trim();
        if input.is_empty() {
            return Err("no client (기관명 is blank)".to_owned());
        }
        let exact: Vec<&Client> = self.clients.iter().filter(|c| c.name.as_str() == input).collect();
        if let [only] = exact[..] {
            return Ok((only, None));
        }
        if let Some(c) = self.clients.iter().find(|c| c.id.as_str() == input) {
            return Ok((c, None));
        }
        match self.by_key.get(&name_key(input)).map(Vec::as_slice) {
            Some([only]) => return Ok((only, None)),
            Some(several @ [_, _, ..]) => return Err(ambiguous(input, several)),
            _ => {}
        }
        // "<client> <fund>": split at each space, the client's part first.
        let mut found: Vec<(&Client, &FundAccount)> = Vec::new();
        let mut fundless: Vec<(&Client, &str)> = Vec::new();
        for (at, _) in input.char_indices().filter(|(_, c)| c.is_whitespace()) {
            let (head, rest) = (input[..at].trim(), input[at..].trim());
            for client in self.by_key.get(&name_key(head)).into_iter().flatten() {
                match client.fund_named(rest) {
                    Some(fund) => found.push((client, fund)),
                    None => fundless.push((client, rest)),
                }
            }
        }
        let mut seen = Vec::new();
        found.retain(|(c, f)| {
            let new = !seen.contains(&(&c.id, &f.id));
            seen.push((&c.id, &f.id));
            new
        });
        match (found.as_slice(), fundless.as_slice()) {
            ([(client, fund)], _) => Ok((client, Some(fund))),
            ([], [(client, rest), ..]) => Err(format!("{} has no fund {rest:?} ({})", client.name, fund_list(client))),
            ([], []) => Err(format!("unknown client {input:?}")),
            (several, _) => {
                let clients: Vec<&Client> = several.iter().map(|(c, _)| *c).collect();
                Err(ambiguous(input, &clients))
            }
        }
    }
}

fn ambiguous(input: &str, clients: &[&Client]) -> String {
    let names: Vec<String> = clients.iter().map(|c| format!("{} ({})", c.name, c.id)).collect();
    format!("client {input:?} is ambiguous: it matches {}", names.join(", "))
}

fn fund_list(client: &Client) -> String {
    let names: Vec<&str> = client.funds().iter().map(|f| f.name.as_str()).collect();
    format!("the client has {} fund{}: {}", names.len(), if names.len() == 1 { "" } else { "s" }, names.join(", "))
}

/// The fund a row is for: the 펀드 column, else the fund named in 기관명, else the client's only fund.
fn resolve_fund<'a>(
    client: &'a Client,
    named_in_client: Option<&'a FundAccount>,
    column: Option<&str>,
) -> Result<&'a FundAccount, String> {
    match (column.map(str::trim).filter(|s| !s.is_empty()), named_in_client) {
        (Some(text), named) => {
            let fund =
                client.fund_named(text).ok_or_else(|| format!("unknown fund {text:?} ({})", fund_list(client)))?;
            match named {
                Some(other) if other.id != fund.id => {
                    Err(format!("기관명 names the fund {} but 펀드 says {}", other.name, fund.name))
                }
                _ => Ok(fund),
            }
        }
        (None, Some(fund)) => Ok(fund),
        (None, None) => match client.funds() {
            [only] => Ok(only),
            _ => Err(format!("which fund? ({}): fill in 펀드", fund_list(client))),
        },
    }
}

/// The 발송 flag: blank or yes sends, no skips the row.
pub(super) fn send_flag(flag: Option<&str>) -> Result<bool, String> {
    let Some(flag) = flag.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(true) };
    match flag.to_lowercase().as_str() {
        "o" | "○" | "◯" | "y" | "yes" | "예" | "네" | "1" | "true" | "발송" => Ok(true),
        "x" | "×" | "n" | "no" | "아니오" | "아니요" | "0" | "false" | "미발송" => Ok(false),
        _ => Err(format!("unclear 발송 flag {flag:?}: write O to send or X to skip")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::FundKind;
    use crate::domain::money::Won;
    use crate::domain::text::Label;

    fn date() -> NaiveDate {
        "2026-03-16".parse().unwrap()
    }

    fn client(id: &str, name: &str, funds: &[(&str, &str, FundKind, u64)]) -> Client {
        let funds = funds
            .iter()
            .map(|(id, name, kind, eok)| FundAccount {
                id: id.parse().unwrap(),
                name: Label::new(name).unwrap(),
                kind: *kind,
                aum: Won::new(eok * 100_000_000),
            })
            .collect();
        Client::new(id.parse().unwrap(), Label::new(name).unwrap(), "rep".parse().unwrap(), funds).unwrap()
    }

    /// The five demo clients of the domain brief.
    fn clients() -> Vec<Client> {
        crate::demo::clients()
    }

    fn row(n: u32, client: &str, fund: Option<&str>, price: Option<&str>, qty: &str, lockup: &str) -> RawRow {
        RawRow {
            source: RowSource::new("firstDay", n),
            client: client.into(),
            fund: fund.map(Into::into),
            price: price.map(Into::into),
            quantity: Some(qty.into()).filter(|s: &String| !s.is_empty()),
            lockup: Some(lockup.into()).filter(|s: &String| !s.is_empty()),
            comment: String::new(),
            send: None,
            order: None,
            condition: None,
        }
    }

    fn run(rows: &[RawRow]) -> ImportReport {
        review(rows, &clients(), date(), Regulation::builtin())
    }

    fn advice(fund: &str, price: u64, qty: u64, lockup: LockUp) -> AdviceLine {
        AdviceLine {
            fund_id: fund.parse().unwrap(),
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            lockup,
            comment: String::new(),
        }
    }

    fn reasons(report: &ImportReport, i: usize) -> Vec<String> {
        match &report.rows[i].outcome {
            RowOutcome::Rejected { reasons } => reasons.clone(),
            other => panic!("row {i} not rejected: {other:?}"),
        }
    }

    fn warnings(report: &ImportReport, i: usize) -> Vec<Finding> {
        match &report.rows[i].outcome {
            RowOutcome::Accepted { warnings, .. } => warnings.clone(),
            other => panic!("row {i} not accepted: {other:?}"),
        }
    }

    #[test]
    fn a_clean_row_becomes_advice() {
        let mut r = row(2, "(가상)누리자산운용", None, Some("17,500"), "300,000", "1개월");
        r.comment = "  밴드 상단\u{202E} 초과 제시 ".into();
        let report = run(&[r]);
        assert_eq!(
            report.rows,
            vec![RowReport {
                source: RowSource::new("firstDay", 2),
                client_input: "(가상)누리자산운용".into(),
                client_id: Some("nuri".parse().unwrap()),
                fund_id: Some("kv".parse().unwrap()),
                outcome: RowOutcome::Accepted {
                    advice: AdviceLine {
                        comment: "밴드 상단 초과 제시".into(),
                        ..advice("kv", 17_500, 300_000, LockUp::Months1)
                    },
                    warnings: vec![],
                },
            }]
        );
        assert_eq!((report.accepted, report.rejected, report.skipped), (1, 0, 0));
        assert!(report.is_clean());
        let by_client = report.advice_by_client();
        assert_eq!(by_client.len(), 1);
        assert_eq!(by_client[&"nuri".parse::<ClientId>().unwrap()][0].price, Price::new(17_500).unwrap());
    }

    #[test]
    fn clients_match_ignoring_spaces_the_demo_prefix_case_and_by_id() {
        for name in ["(가상)누리자산운용", " 누리 자산운용 ", "(가상) 누리자산운용", "nuri", "（가상）누리자산운용"]
        {
            let report = run(&[row(2, name, None, Some("17000"), "1", "미확약")]);
            assert_eq!(report.rows[0].client_id, Some("nuri".parse().unwrap()), "{name:?}");
            assert!(report.is_clean(), "{name:?}: {report:?}");
        }
        let mut clients = clients();
        clients.push(client("latin", "(가상)ABC Asset", &[("f", "펀드", FundKind::Private, 10)]));
        let report =
            review(&[row(2, "abc asset", None, Some("17000"), "1", "X")], &clients, date(), Regulation::builtin());
        assert_eq!(report.rows[0].client_id, Some("latin".parse().unwrap()));
    }

    #[test]
    fn unknown_and_blank_clients_are_rejected() {
        let report = run(&[
            row(2, "(가상)없는자산운용", None, Some("17,000"), "1000", "1개월"),
            row(3, "", None, Some("17,000"), "1000", "1개월"),
        ]);
        assert_eq!(reasons(&report, 0), vec!["firstDay row 2: unknown client \"(가상)없는자산운용\""]);
        assert_eq!(reasons(&report, 1), vec!["firstDay row 3: no client (기관명 is blank)"]);
        assert_eq!(report.rows[0].client_id, None);
        assert_eq!((report.accepted, report.rejected), (0, 2));
        assert!(!report.is_clean());
    }

    #[test]
    fn two_clients_with_the_same_name_key_are_ambiguous() {
        let mut clients = clients();
        clients.push(client("nuri2", "누리자산운용", &[("a", "일반", FundKind::Private, 10)]));
        let report =
            review(&[row(2, "누리 자산운용", None, Some("17000"), "1", "X")], &clients, date(), Regulation::builtin());
        assert_eq!(
            reasons(&report, 0),
            vec![
                "firstDay row 2: client \"누리 자산운용\" is ambiguous: it matches (가상)누리자산운용 (nuri), 누리자산운용 (nuri2)"
            ]
        );
        // The exact name still picks one.
        let report =
            review(&[row(2, "누리자산운용", None, Some("17000"), "1", "X")], &clients, date(), Regulation::builtin());
        assert_eq!(report.rows[0].client_id, Some("nuri2".parse().unwrap()));
    }

    #[test]
    fn funds_come_from_the_fund_column_the_client_cell_or_the_only_fund() {
        let report = run(&[
            row(2, "(가상)새벽자산운용", Some("사모코벤"), Some("17,000"), "1000", "3개월"),
            row(3, "(가상)새벽자산운용 하이일드", None, Some("17,000"), "1000", "3개월"),
            row(4, "새벽자산운용 hy", None, Some("17,000"), "1000", "3개월"),
            row(5, "(가상)다솜자산운용", None, Some("17,000"), "1000", "3개월"),
            row(6, "(가상)가온자산운용 사모", Some("사모"), Some("17,000"), "1000", "3개월"),
        ]);
        let funds: Vec<Option<&str>> = report.rows.iter().map(|r| r.fund_id.as_ref().map(FundId::as_str)).collect();
        assert_eq!(funds[..2], [Some("pv-kv"), Some("hy")]);
        assert_eq!(funds[3..], [Some("hedge"), Some("pv")]);
        // Row 4 names the same fund as row 3.
        assert_eq!(
            reasons(&report, 2),
            vec!["firstDay row 4: duplicate: firstDay row 3 already gives advice for (가상)새벽자산운용 하이일드"]
        );
        assert_eq!((report.accepted, report.rejected), (4, 1));
    }

    #[test]
    fn a_multi_fund_client_without_a_fund_is_rejected() {
        let report = run(&[row(2, "(가상)새벽자산운용", None, Some("17,000"), "1000", "1개월")]);
        assert_eq!(
            reasons(&report, 0),
            vec!["firstDay row 2: which fund? (the client has 2 funds: 하이일드, 사모 코벤): fill in 펀드"]
        );
        assert_eq!(report.rows[0].client_id, Some("saebyeok".parse().unwrap()));
        assert_eq!(report.rows[0].fund_id, None);
    }

    #[test]
    fn unknown_or_conflicting_funds_are_rejected() {
        let report = run(&[
            row(2, "(가상)새벽자산운용", Some("공모주"), Some("17,000"), "1000", "1개월"),
            row(3, "(가상)새벽자산운용 공모주", None, Some("17,000"), "1000", "1개월"),
            row(4, "(가상)새벽자산운용 하이일드", Some("사모 코벤"), Some("17,000"), "1000", "1개월"),
        ]);
        assert_eq!(
            reasons(&report, 0),
            vec!["firstDay row 2: unknown fund \"공모주\" (the client has 2 funds: 하이일드, 사모 코벤)"]
        );
        assert_eq!(
            reasons(&report, 1),
            vec![
                "firstDay row 3: (가상)새벽자산운용 has no fund \"공모주\" (the client has 2 funds: 하이일드, 사모 코벤)"
            ]
        );
        assert_eq!(reasons(&report, 2), vec!["firstDay row 4: 기관명 names the fund 하이일드 but 펀드 says 사모 코벤"]);
    }

    #[test]
    fn a_bid_with_no_price_is_rejected() {
        let report = run(&[row(2, "(가상)바른투자일임", None, None, "10,000", "미확약")]);
        assert_eq!(reasons(&report, 0), vec!["firstDay row 2: no price (a bid needs a price)"]);
        assert_eq!(report.rows[0].fund_id, Some("ilim".parse().unwrap()));
    }

    #[test]
    fn bad_prices_quantities_and_lockups_are_rejected_together() {
        let report = run(&[
            row(2, "(가상)바른투자일임", None, Some("17.5"), "", "2개월"),
            row(3, "(가상)다솜자산운용", None, Some("0"), "-5", ""),
        ]);
        assert_eq!(
            reasons(&report, 0),
            vec![
                "firstDay row 2: price: \"17.5\" is not a number: write digits, optionally with commas, 만, 억 or 조",
                "firstDay row 2: no quantity",
                "firstDay row 2: lock-up: \"2개월\" is not a lock-up: write 미확약, 15일, 1개월, 3개월 or 6개월",
            ]
        );
        assert_eq!(
            reasons(&report, 1),
            vec![
                "firstDay row 3: price: \"0\" must be greater than zero",
                "firstDay row 3: quantity: \"-5\" is not a number: write digits, optionally with commas, 만, 억 or 조",
                "firstDay row 3: no lock-up (확약여부): write 미확약, 15일, 1개월, 3개월 or 6개월",
            ]
        );
    }

    #[test]
    fn prices_and_quantities_may_be_written_the_korean_way() {
        let report = run(&[row(2, "(가상)바른투자일임", None, Some("1만7,500원"), "30만주", "확약 15일")]);
        assert_eq!(
            report.advice_by_client()[&"bareun".parse::<ClientId>().unwrap()],
            vec![advice("ilim", 17_500, 300_000, LockUp::Days15)]
        );
    }

    #[test]
    fn long_comments_are_rejected() {
        let mut r = row(2, "(가상)바른투자일임", None, Some("17,500"), "1", "미확약");
        r.comment = "가".repeat(MAX_COMMENT_CHARS);
        assert!(run(std::slice::from_ref(&r)).is_clean());
        r.comment.push('나');
        assert_eq!(reasons(&run(&[r]), 0), vec!["firstDay row 2: comment too long (501 characters; at most 500)"]);
    }

    #[test]
    fn send_flags_skip_or_send_and_unclear_ones_are_rejected() {
        for (flag, send) in [
            ("O", true),
            ("y", true),
            ("예", true),
            ("1", true),
            ("TRUE", true),
            ("발송", true),
            ("X", false),
            ("n", false),
            ("아니오", false),
            ("0", false),
            ("false", false),
            ("미발송", false),
        ] {
            assert_eq!(send_flag(Some(flag)), Ok(send), "{flag:?}");
        }
        assert_eq!(send_flag(None), Ok(true));
        assert_eq!(send_flag(Some(" ")), Ok(true));
        let mut skipped = row(2, "(가상)다솜자산운용", None, None, "", "");
        skipped.send = Some("X".into());
        let mut unclear = row(3, "(가상)바른투자일임", None, Some("17,500"), "1", "미확약");
        unclear.send = Some("보류".into());
        let report = run(&[skipped, unclear]);
        // A skipped row is not checked: its missing price is no error.
        assert_eq!(report.rows[0].outcome, RowOutcome::Skipped);
        assert_eq!(report.rows[0].client_id, Some("dasom".parse().unwrap()));
        assert_eq!(
            reasons(&report, 1),
            vec!["firstDay row 3: unclear 발송 flag \"보류\": write O to send or X to skip"]
        );
        assert_eq!((report.accepted, report.rejected, report.skipped), (0, 1, 1));
        assert!(report.advice_by_client().is_empty());
    }

    #[test]
    fn a_skipped_row_does_not_make_the_next_a_duplicate() {
        let mut skipped = row(2, "(가상)다솜자산운용", None, Some("17,000"), "1", "미확약");
        skipped.send = Some("X".into());
        let report = run(&[skipped, row(3, "(가상)다솜자산운용", None, Some("17,000"), "1", "미확약")]);
        assert_eq!((report.accepted, report.skipped), (1, 1));
    }

    #[test]
    fn a_second_row_for_the_same_fund_is_a_duplicate_even_after_a_rejected_first() {
        let report = run(&[
            row(2, "(가상)다솜자산운용", None, None, "1", "미확약"),
            row(3, "(가상)다솜자산운용", Some("사모 헤지"), Some("17,000"), "1", "미확약"),
        ]);
        assert_eq!(reasons(&report, 0), vec!["firstDay row 2: no price (a bid needs a price)"]);
        assert_eq!(
            reasons(&report, 1),
            vec!["firstDay row 3: duplicate: firstDay row 2 already gives advice for (가상)다솜자산운용 사모 헤지"]
        );
    }

    #[test]
    fn a_bid_of_16995_is_accepted_with_an_off_grid_warning() {
        let report = run(&[row(2, "(가상)가온자산운용", Some("공모주 채권혼합"), Some("16,995"), "300,000", "1개월")]);
        assert_eq!(
            warnings(&report, 0),
            vec![Finding::OffGrid { fund_id: "ipo".parse().unwrap(), price: Price::new(16_995).unwrap(), tick: 10 }]
        );
        assert_eq!(report.accepted, 1);
        assert!(report.is_clean(), "a warning is not a rejection");
    }

    #[test]
    fn one_million_shares_at_17500_against_150_eok_warns_of_ability_to_pay() {
        let report = run(&[row(2, "(가상)다솜자산운용", None, Some("17,500"), "1,000,000", "6개월")]);
        assert_eq!(
            warnings(&report, 0),
            vec![Finding::ExceedsAbilityToPay {
                fund_id: "hedge".parse().unwrap(),
                amount: Won::new(17_500_000_000),
                aum: Won::new(15_000_000_000),
            }]
        );
        assert_eq!(report.advice_by_client()[&"dasom".parse::<ClientId>().unwrap()].len(), 1);
    }

    #[test]
    fn a_date_without_a_tick_table_rejects_rather_than_passing_unchecked() {
        let old: NaiveDate = "1990-01-01".parse().unwrap();
        let report = review(
            &[row(2, "(가상)다솜자산운용", None, Some("17,500"), "1", "미확약")],
            &clients(),
            old,
            Regulation::builtin(),
        );
        let reasons = reasons(&report, 0);
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].starts_with("firstDay row 2: price cannot be checked: no tick table"), "{reasons:?}");
    }

    #[test]
    fn the_report_serializes_for_the_api() {
        let mut skipped = row(3, "(가상)다솜자산운용", None, None, "", "");
        skipped.send = Some("X".into());
        let report = run(&[row(2, "(가상)바른투자일임", None, Some("16,995"), "10", "미확약"), skipped]);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "rows": [
                    {
                        "source": {"sheet": "firstDay", "row": 2},
                        "client_input": "(가상)바른투자일임",
                        "client_id": "bareun",
                        "fund_id": "ilim",
                        "outcome": {
                            "status": "accepted",
                            "advice": {"fund_id": "ilim", "price": 16995, "quantity": 10, "lockup": "미확약", "comment": ""},
                            "warnings": [{"kind": "off_grid", "fund_id": "ilim", "price": 16995, "tick": 10}]
                        }
                    },
                    {
                        "source": {"sheet": "firstDay", "row": 3},
                        "client_input": "(가상)다솜자산운용",
                        "client_id": "dasom",
                        "fund_id": "hedge",
                        "outcome": {"status": "skipped"}
                    }
                ],
                "accepted": 1,
                "rejected": 0,
                "skipped": 1
            })
        );
    }
}
