//! Client firms (asset managers), their fund accounts and their Telegram group.

use crate::domain::ids::{ChatId, ClientId, FundId, StaffId};
use crate::domain::money::Won;
use crate::domain::text::Label;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FundKind {
    /// 공모주 펀드 (including 공모주 채권혼합).
    IpoFund,
    /// 코스닥벤처(코벤) 펀드, public or private.
    KosdaqVenture,
    /// 하이일드 펀드.
    HighYield,
    /// 사모 펀드 (including hedge funds).
    Private,
    /// 일임 account.
    Discretionary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FundAccount {
    pub id: FundId,
    /// How the client names it, e.g. `사모 코벤`.
    pub name: Label,
    pub kind: FundKind,
    /// Assets under management: the most it can pay for an allotment.
    pub aum: Won,
}

/// The client's Telegram group, once linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatBinding {
    pub chat_id: ChatId,
    pub title: Option<String>,
    /// False once the bot was removed or blocked (Telegram answers 403); nothing is sent then.
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("a client needs at least one fund account")]
    NoFunds,
    #[error("two fund accounts share the id {0}")]
    DuplicateFund(FundId),
    #[error("two fund accounts share the name {0}")]
    DuplicateFundName(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ClientFields")]
pub struct Client {
    pub id: ClientId,
    pub name: Label,
    /// The 담당 대표 who looks after this client.
    pub representative: StaffId,
    pub chat: Option<ChatBinding>,
    funds: Vec<FundAccount>,
    /// When off, the client gets messages but no reminders or escalations.
    pub response_tracking: bool,
    pub active: bool,
    /// Staff notes; free text.
    #[serde(default)]
    pub memo: String,
}

#[derive(Deserialize)]
struct ClientFields {
    id: ClientId,
    name: Label,
    representative: StaffId,
    chat: Option<ChatBinding>,
    funds: Vec<FundAccount>,
    response_tracking: bool,
    active: bool,
    #[serde(default)]
    memo: String,
}

impl TryFrom<ClientFields> for Client {
    type Error = ClientError;
    fn try_from(f: ClientFields) -> Result<Self, ClientError> {
        let mut client = Client::new(f.id, f.name, f.representative, f.funds)?;
        client.chat = f.chat;
        client.response_tracking = f.response_tracking;
        client.active = f.active;
        client.memo = f.memo;
        Ok(client)
    }
}

impl Client {
    /// A new, active client with response tracking on and no chat linked yet.
    pub fn new(
        id: ClientId,
        name: Label,
        representative: StaffId,
        funds: Vec<FundAccount>,
    ) -> Result<Self, ClientError> {
        check_funds(&funds)?;
        Ok(Client {
            id,
            name,
            representative,
            chat: None,
            funds,
            response_tracking: true,
            active: true,
            memo: String::new(),
        })
    }

    pub fn funds(&self) -> &[FundAccount] {
        &self.funds
    }

    pub fn fund(&self, id: &FundId) -> Option<&FundAccount> {
        self.funds.iter().find(|f| &f.id == id)
    }

    /// Finds a fund by what a spreadsheet or a client calls it: its id or its name, ignoring spaces.
    pub fn fund_named(&self, name: &str) -> Option<&FundAccount> {
        let wanted = squash(name);
        self.funds.iter().find(|f| f.id.as_str() == name || squash(f.name.as_str()) == wanted)
    }

    pub fn set_funds(&mut self, funds: Vec<FundAccount>) -> Result<(), ClientError> {
        check_funds(&funds)?;
        self.funds = funds;
        Ok(())
    }

    /// The chat to send to: linked, and the bot still a member.
    pub fn reachable_chat(&self) -> Option<ChatId> {
        self.chat.as_ref().filter(|c| c.active && self.active).map(|c| c.chat_id)
    }
}

/// Fund names are matched ignoring spaces (`사모 코벤` = `사모코벤`), so uniqueness is judged the
/// same way, across names and ids alike: a name or id may point at one fund only.
fn check_funds(funds: &[FundAccount]) -> Result<(), ClientError> {
    if funds.is_empty() {
        return Err(ClientError::NoFunds);
    }
    for (i, f) in funds.iter().enumerate() {
        let name = squash(f.name.as_str());
        for g in &funds[..i] {
            if g.id == f.id {
                return Err(ClientError::DuplicateFund(f.id.clone()));
            }
            if squash(g.name.as_str()) == name
                || g.id.as_str() == name
                || squash(f.id.as_str()) == squash(g.name.as_str())
            {
                return Err(ClientError::DuplicateFundName(f.name.to_string()));
            }
        }
    }
    Ok(())
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fund(id: &str, name: &str, kind: FundKind, eok: u64) -> FundAccount {
        FundAccount { id: id.parse().unwrap(), name: Label::new(name).unwrap(), kind, aum: Won::new(eok * 100_000_000) }
    }

    fn saebyeok() -> Client {
        Client::new(
            "saebyeok".parse().unwrap(),
            Label::new("(가상)새벽자산운용").unwrap(),
            "rep-kim".parse().unwrap(),
            vec![
                fund("hy", "하이일드", FundKind::HighYield, 850),
                fund("pv-kv", "사모 코벤", FundKind::KosdaqVenture, 420),
            ],
        )
        .unwrap()
    }

    #[test]
    fn funds_are_found_by_id_or_name() {
        let c = saebyeok();
        assert_eq!(c.fund_named("사모코벤").map(|f| f.id.as_str()), Some("pv-kv"));
        assert_eq!(c.fund_named("hy").map(|f| f.aum), Some(Won::new(85_000_000_000)));
        assert!(c.fund_named("공모주").is_none());
    }

    #[test]
    fn fund_lists_must_be_non_empty_and_unique() {
        let mut c = saebyeok();
        assert_eq!(c.set_funds(vec![]), Err(ClientError::NoFunds));
        let dup = vec![fund("a", "x", FundKind::Private, 1), fund("a", "y", FundKind::Private, 1)];
        assert!(matches!(c.set_funds(dup), Err(ClientError::DuplicateFund(_))));
        let dup_name = vec![fund("a", "x", FundKind::Private, 1), fund("b", "x", FundKind::Private, 1)];
        assert!(matches!(c.set_funds(dup_name), Err(ClientError::DuplicateFundName(_))));
        let spaced = vec![fund("a", "사모 코벤", FundKind::Private, 1), fund("b", "사모코벤", FundKind::Private, 1)];
        assert!(matches!(c.set_funds(spaced), Err(ClientError::DuplicateFundName(_))), "names match ignoring spaces");
        let id_as_name = vec![fund("hy", "하이일드", FundKind::HighYield, 1), fund("b", "hy", FundKind::Private, 1)];
        assert!(
            matches!(c.set_funds(id_as_name), Err(ClientError::DuplicateFundName(_))),
            "a name may not be another fund's id"
        );
        let json = serde_json::to_value(saebyeok()).unwrap();
        let mut broken = json.clone();
        broken["funds"] = serde_json::json!([]);
        assert!(serde_json::from_value::<Client>(broken).is_err());
        assert_eq!(serde_json::from_value::<Client>(json).unwrap(), saebyeok());
    }

    #[test]
    fn only_active_linked_chats_are_reachable() {
        let mut c = saebyeok();
        assert_eq!(c.reachable_chat(), None);
        c.chat = Some(ChatBinding { chat_id: ChatId(-1_001_000_000_001), title: None, active: true });
        assert_eq!(c.reachable_chat(), Some(ChatId(-1_001_000_000_001)));
        c.active = false;
        assert_eq!(c.reachable_chat(), None);
        c.active = true;
        if let Some(chat) = c.chat.as_mut() {
            chat.active = false;
        }
        assert_eq!(c.reachable_chat(), None);
    }
}
