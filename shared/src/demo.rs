//! The fictitious demo data of the domain brief: three offerings and five clients, as the
//! devserver's `--demo` loads them and as tests use them. Built from literals that a test checks,
//! so the `expect`s below cannot fire.

use crate::domain::client::{Client, FundAccount, FundKind};
use crate::domain::ids::ClientId;
use crate::domain::lockup::LockUp;
use crate::domain::money::{Price, Quantity, Won};
use crate::domain::phase::bid::{AdviceLine, BidAdvice};
use crate::domain::phase::{Advice, FundLines};
use crate::domain::stock::{Market, NewStock, PriceBand, Schedule, ScheduleDates, Stock};
use crate::domain::text::Label;

fn label(s: &str) -> Label {
    Label::new(s).expect("demo labels are valid")
}

fn price(won: u64) -> Price {
    Price::new(won).expect("demo prices are positive")
}

fn stock(id: &str, name: &str, market: Market, band: (u64, u64), dates: [&str; 8], spac: bool) -> Stock {
    let d = |s: &str| s.parse().expect("demo dates are valid");
    let [filing, bb_start, bb_end, fixing, sub_start, sub_end, payment, listing] = dates;
    Stock::new(NewStock {
        id: id.parse().expect("demo ids are valid"),
        name: label(name),
        code: None,
        market,
        lead_manager: label("(가상)미래증권"),
        band: PriceBand::new(price(band.0), price(band.1)).expect("demo bands are ordered"),
        schedule: Schedule::new(ScheduleDates {
            filing: d(filing),
            bookbuilding_start: d(bb_start),
            bookbuilding_end: d(bb_end),
            price_fixing: d(fixing),
            subscription_start: d(sub_start),
            subscription_end: d(sub_end),
            payment: d(payment),
            listing: d(listing),
        })
        .expect("demo schedules are in order"),
        spac,
    })
}

/// (가상)한빛로보틱스, KOSDAQ, 14,000–16,000원, book-building 2026-03-16 – 03-20, listing 04-07.
pub fn hanbit() -> Stock {
    let dates = [
        "2026-02-20",
        "2026-03-16",
        "2026-03-20",
        "2026-03-24",
        "2026-03-26",
        "2026-03-27",
        "2026-03-31",
        "2026-04-07",
    ];
    stock("hanbit", "(가상)한빛로보틱스", Market::Kosdaq, (14_000, 16_000), dates, false)
}

/// (가상)누리에너지솔루션, KOSPI, 42,000–48,000원.
pub fn nuri_energy() -> Stock {
    let dates = [
        "2026-02-25",
        "2026-03-19",
        "2026-03-25",
        "2026-03-27",
        "2026-03-31",
        "2026-04-01",
        "2026-04-03",
        "2026-04-10",
    ];
    stock("nuri-energy", "(가상)누리에너지솔루션", Market::Kospi, (42_000, 48_000), dates, false)
}

/// (가상)한결스팩7호, a SPAC at a fixed 2,000원.
pub fn hangyeol_spac() -> Stock {
    let dates = [
        "2026-03-05",
        "2026-03-23",
        "2026-03-24",
        "2026-03-26",
        "2026-03-30",
        "2026-03-31",
        "2026-04-02",
        "2026-04-09",
    ];
    stock("hangyeol-spac7", "(가상)한결스팩7호", Market::Kosdaq, (2_000, 2_000), dates, true)
}

/// The five demo clients with their funds (sizes in 억원); no chats linked.
pub fn clients() -> Vec<Client> {
    use FundKind::*;
    let client = |id: &str, name: &str, funds: &[(&str, &str, FundKind, u64)]| {
        let funds = funds
            .iter()
            .map(|(id, name, kind, eok)| FundAccount {
                id: id.parse().expect("demo ids are valid"),
                name: label(name),
                kind: *kind,
                aum: Won::new(eok * 100_000_000),
            })
            .collect();
        Client::new(id.parse().expect("demo ids are valid"), label(name), "rep-kim".parse().expect("valid"), funds)
            .expect("demo funds are distinct")
    };
    vec![
        client(
            "saebyeok",
            "(가상)새벽자산운용",
            &[("hy", "하이일드", HighYield, 850), ("pv-kv", "사모 코벤", KosdaqVenture, 420)],
        ),
        client("nuri", "(가상)누리자산운용", &[("kv", "공모 코벤", KosdaqVenture, 1_200)]),
        client(
            "gaon",
            "(가상)가온자산운용",
            &[("ipo", "공모주 채권혼합", IpoFund, 2_300), ("pv", "사모", Private, 300)],
        ),
        client("dasom", "(가상)다솜자산운용", &[("hedge", "사모 헤지", Private, 150)]),
        client("bareun", "(가상)바른투자일임", &[("ilim", "일임", Discretionary, 80)]),
    ]
}

/// The firm's first-day advice for (가상)한빛로보틱스, per demo client: above the band, as the
/// workbook's comment says.
pub fn hanbit_first_day_advice() -> Vec<(ClientId, Advice)> {
    let line = |fund: &str, price: u64, qty: u64, lockup: LockUp| AdviceLine {
        fund_id: fund.parse().expect("demo ids are valid"),
        price: self::price(price),
        quantity: Quantity::new(qty).expect("demo quantities are positive"),
        lockup,
        comment: "밴드 상단 초과 제출".into(),
    };
    let advice = |lines: Vec<AdviceLine>| {
        Advice::Bid(BidAdvice { lines: FundLines::new(lines).expect("demo advice names each fund once") })
    };
    [
        ("saebyeok", vec![line("hy", 17_500, 300_000, LockUp::Months1), line("pv-kv", 17_000, 100_000, LockUp::None)]),
        ("nuri", vec![line("kv", 17_500, 500_000, LockUp::Months3)]),
        ("gaon", vec![line("ipo", 17_500, 300_000, LockUp::Months1)]),
        ("dasom", vec![line("hedge", 17_500, 500_000, LockUp::None)]),
        ("bareun", vec![line("ilim", 17_000, 30_000, LockUp::None)]),
    ]
    .into_iter()
    .map(|(client, lines)| (client.parse().expect("demo ids are valid"), advice(lines)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::KrxCalendar;

    #[test]
    fn demo_data_builds_and_its_schedules_are_clean() {
        let cal = KrxCalendar::builtin();
        for stock in [hanbit(), nuri_energy(), hangyeol_spac()] {
            assert_eq!(stock.schedule().warnings(cal, stock.spac), vec![], "{}", stock.name);
        }
        let clients = clients();
        assert_eq!(clients.len(), 5);
        assert_eq!(clients[3].funds()[0].aum, Won::new(15_000_000_000), "다솜 150억");
        let advice = hanbit_first_day_advice();
        for (client, advice) in &advice {
            let client = clients.iter().find(|c| &c.id == client).unwrap();
            assert!(advice.funds().iter().all(|f| client.fund(f).is_some()), "{} advised its own funds", client.name);
        }
    }
}
