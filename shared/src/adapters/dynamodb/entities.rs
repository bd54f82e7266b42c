//! Where each domain record lives in the table: its keys and index entries. See `docs/data-model.md`.

use super::Item;
use crate::domain::client::Client;
use crate::domain::ids::{ChatId, ClientId, ProcessId, StaffId, StockId};
use crate::domain::process::Process;
use crate::domain::staff::Staff;
use crate::domain::stock::Stock;
use crate::domain::time::Timestamp;
use crate::domain::tracker::{Tracker, TrackerState};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(super) struct Keys {
    pub pk: String,
    pub sk: String,
    pub gsi1: Option<(String, String)>,
    pub gsi2: Option<(String, String)>,
}

pub(super) trait Entity: Serialize + DeserializeOwned + Clone + Send + Sync {
    const NAME: &'static str;
    /// Attributes an ordinary update must not change (they have operations of their own).
    const PRESERVED: &'static [&'static str] = &[];
    /// Attributes earlier versions wrote that an update removes.
    const RETIRED: &'static [&'static str] = &[];
    fn id(&self) -> String;
    fn keys(&self) -> Keys;
    /// The state recorded in a stored item, for conflict messages.
    fn state_of(_item: &Item) -> Option<String> {
        None
    }
}

/// Timestamps in keys: fixed width, so that string order is time order.
pub(super) fn sortable(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub(super) fn staff_key(id: &StaffId) -> (String, String) {
    (format!("STAFF#{id}"), "#STAFF".into())
}

pub(super) fn client_key(id: &ClientId) -> (String, String) {
    (format!("CLIENT#{id}"), "#CLIENT".into())
}

pub(super) fn chat_key(chat: ChatId) -> (String, String) {
    (format!("CHAT#{chat}"), "#CHAT".into())
}

pub(super) fn stock_key(id: &StockId) -> (String, String) {
    (format!("STOCK#{id}"), "#STOCK".into())
}

pub(super) fn process_key(id: &ProcessId) -> (String, String) {
    (format!("PROCESS#{id}"), "#PROCESS".into())
}

pub(super) fn tracker_key(process: &ProcessId, client: &ClientId) -> (String, String) {
    (format!("PROCESS#{process}"), format!("{TRACKER_PREFIX}{client}"))
}

pub(super) const TRACKER_PREFIX: &str = "TRACKER#";

/// GSI1 partitions: one per kind of list.
pub(super) const STAFF_LIST: &str = "STAFF";
pub(super) const CLIENT_LIST: &str = "CLIENT";
pub(super) const STOCK_LIST: &str = "STOCK";
pub(super) const PROCESS_LIST: &str = "PROCESS";

pub(super) fn open_tracker_list(state: TrackerState) -> String {
    format!("TRACKER#{state}")
}

pub(super) fn client_trackers_partition(client: &ClientId) -> String {
    format!("CLIENT#{client}")
}

pub(super) fn processes_of_stock_partition(stock: &StockId) -> String {
    format!("STOCK#{stock}")
}

impl Entity for Staff {
    const NAME: &'static str = "staff";
    fn id(&self) -> String {
        self.id.to_string()
    }
    fn keys(&self) -> Keys {
        let (pk, sk) = staff_key(&self.id);
        Keys { pk, sk, gsi1: Some((STAFF_LIST.into(), self.id.to_string())), gsi2: None }
    }
}

impl Entity for Client {
    const NAME: &'static str = "client";
    const PRESERVED: &'static [&'static str] = &["chat"];
    fn id(&self) -> String {
        self.id.to_string()
    }
    fn keys(&self) -> Keys {
        let (pk, sk) = client_key(&self.id);
        Keys { pk, sk, gsi1: Some((CLIENT_LIST.into(), self.id.to_string())), gsi2: None }
    }
}

impl Entity for Stock {
    const NAME: &'static str = "stock";
    fn id(&self) -> String {
        self.id.to_string()
    }
    fn keys(&self) -> Keys {
        let (pk, sk) = stock_key(&self.id);
        let start = self.schedule().dates().bookbuilding_start;
        Keys { pk, sk, gsi1: Some((STOCK_LIST.into(), format!("{start}#{}", self.id))), gsi2: None }
    }
}

impl Entity for Process {
    const NAME: &'static str = "process";
    fn id(&self) -> String {
        self.id.to_string()
    }
    fn keys(&self) -> Keys {
        let (pk, sk) = process_key(&self.id);
        let when = sortable(self.kickoff_at);
        Keys {
            pk,
            sk,
            gsi1: Some((PROCESS_LIST.into(), format!("{when}#{}", self.id))),
            gsi2: self
                .stock_id
                .as_ref()
                .map(|stock| (processes_of_stock_partition(stock), format!("PROCESS#{when}#{}", self.id))),
        }
    }
}

impl Entity for Tracker {
    const NAME: &'static str = "tracker";
    /// Bid answers before phases had their own content.
    const RETIRED: &'static [&'static str] = &["actual"];
    fn id(&self) -> String {
        format!("{}/{}", self.process_id, self.client_id)
    }
    fn keys(&self) -> Keys {
        let (pk, sk) = tracker_key(&self.process_id, &self.client_id);
        // Sparse: only open trackers are in the "waiting" lists.
        let gsi1 = self.is_open().then(|| {
            (
                open_tracker_list(self.state()),
                format!("{}#{}#{}", sortable(self.state_since()), self.process_id, self.client_id),
            )
        });
        Keys {
            pk,
            sk,
            gsi1,
            gsi2: Some((client_trackers_partition(&self.client_id), format!("{TRACKER_PREFIX}{}", self.process_id))),
        }
    }
    fn state_of(item: &Item) -> Option<String> {
        item.get("state").and_then(|v| v.as_s().ok()).cloned()
    }
}
