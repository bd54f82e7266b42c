//! The staff group's feed: queued notices (`STAFFNOTICE` / `<created>#<id>`, oldest first) and one
//! progress card per process (`CARD#<process>` / `#CARD`), listed in GSI1 `CARDS#STALE` while it
//! shows less than happened. The card also keeps the process's counts of trackers by state, moved
//! in the same transaction as each tracker that changes state, so progress is one read. Reporting
//! a change is an unconditional `ADD`, so a burst of answers never fails on a condition.

use super::entities::sortable;
use super::errors::{classify, unless_condition_failed};
use super::{DynamoStore, Item, Query, SortCondition, number, read_number, table};
use crate::domain::ids::{ChatId, ProcessId};
use crate::domain::staff_feed::{CardTouch, ProgressCard, StaffNotice};
use crate::domain::time::Timestamp;
use crate::domain::tracker::TrackerState;
use crate::ports::store::{StaffFeedStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use std::collections::HashMap;
use table::{GSI1_PK, GSI1_SK, PK, SK};

const NOTICE: &str = "staff notice";
const NOTICES: &str = "STAFFNOTICE";
/// On a notice that went out.
const SENT: &str = "Sent";
/// Pages of the queue read past sent notices before giving up for this run.
const QUEUE_PAGES: usize = 10;
const CARD: &str = "progress card";
const STALE_CARDS: &str = "CARDS#STALE";
/// Set once the counts hold every tracker of the process (a draft's trackers were saved).
const COUNTED: &str = "Counted";

fn count_attribute(state: TrackerState) -> String {
    format!("Count_{}", state.as_str())
}

/// Marking a card stale: its bookkeeping and its entry in the stale list set, one change added.
struct MarkStale {
    set: &'static str,
    add: &'static str,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn mark_stale(process: &ProcessId) -> MarkStale {
    let names = [
        ("#entity", "Entity"),
        ("#process", "ProcessId"),
        ("#gpk", GSI1_PK),
        ("#gsk", GSI1_SK),
        ("#changes", "Changes"),
    ];
    let values = [
        (":entity", AttributeValue::S(CARD.into())),
        (":process", AttributeValue::S(process.to_string())),
        (":stale", AttributeValue::S(STALE_CARDS.into())),
        (":one", number(1)),
    ];
    MarkStale {
        set: "#entity = :entity, #process = :process, #gpk = :stale, #gsk = :process",
        add: "#changes :one",
        names: names.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        values: values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    }
}

/// The transaction item that moves trackers between states in a process's counts (`moves`: a
/// state and how many trackers it gains or loses) and marks its card stale.
pub(super) fn card_counts(
    table: &str,
    process: &ProcessId,
    moves: &[(TrackerState, i64)],
) -> Result<TransactWriteItem, StoreError> {
    let (pk, sk) = card_key(process);
    let MarkStale { set, add, mut names, mut values } = mark_stale(process);
    let mut adds = vec![add.to_owned()];
    for (i, (state, delta)) in moves.iter().enumerate() {
        names.insert(format!("#c{i}"), count_attribute(*state));
        values.insert(format!(":d{i}"), AttributeValue::N(delta.to_string()));
        adds.push(format!("#c{i} :d{i}"));
    }
    let update = Update::builder()
        .table_name(table)
        .key(PK, pk)
        .key(SK, sk)
        .update_expression(format!("SET {set} ADD {}", adds.join(", ")))
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn notice_key(notice: &StaffNotice) -> (AttributeValue, AttributeValue) {
    (AttributeValue::S(NOTICES.into()), AttributeValue::S(format!("{}#{}", sortable(notice.created_at), notice.id)))
}

fn card_key(process: &ProcessId) -> (AttributeValue, AttributeValue) {
    (AttributeValue::S(format!("CARD#{process}")), AttributeValue::S("#CARD".into()))
}

fn text(item: &Item, attr: &str) -> Option<String> {
    item.get(attr).and_then(|v| v.as_s().ok()).cloned()
}

fn signed(item: &Item, attr: &str) -> Option<i64> {
    item.get(attr).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

fn read_notice(item: &Item) -> Result<StaffNotice, StoreError> {
    let id = text(item, "Id").unwrap_or_default();
    let corrupt = |reason: String| StoreError::Corrupt { entity: NOTICE, id: id.clone(), reason };
    let created_at =
        text(item, "CreatedAt").unwrap_or_default().parse::<Timestamp>().map_err(|e| corrupt(e.to_string()))?;
    let process_id =
        text(item, "ProcessId").map(|p| p.parse::<ProcessId>()).transpose().map_err(|e| corrupt(e.to_string()))?;
    Ok(StaffNotice {
        id: id.clone(),
        html: text(item, "Html").unwrap_or_default(),
        process_id,
        created_at,
        attempts: read_number(item, "Attempts").and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
    })
}

fn read_card(item: &Item) -> Result<ProgressCard, StoreError> {
    let id = text(item, "ProcessId").unwrap_or_default();
    let corrupt = |reason: String| StoreError::Corrupt { entity: CARD, id: id.clone(), reason };
    let process_id = id.parse::<ProcessId>().map_err(|e| corrupt(e.to_string()))?;
    let edited_at =
        text(item, "EditedAt").map(|t| t.parse::<Timestamp>()).transpose().map_err(|e| corrupt(e.to_string()))?;
    let message = match (signed(item, "ChatId"), signed(item, "MessageId")) {
        (Some(chat), Some(message)) => Some((ChatId(chat), message)),
        _ => None,
    };
    let counts = item.contains_key(COUNTED).then(|| {
        TrackerState::ALL
            .iter()
            .map(|state| (*state, signed(item, &count_attribute(*state)).unwrap_or(0).max(0).unsigned_abs()))
            .collect()
    });
    Ok(ProgressCard {
        process_id,
        message,
        edited_at,
        changes: read_number(item, "Changes").unwrap_or(0),
        shown: read_number(item, "Shown").unwrap_or(0),
        counts,
    })
}

#[async_trait]
impl StaffFeedStore for DynamoStore {
    async fn enqueue_staff_notice(&self, notice: &StaffNotice) -> Result<(), StoreError> {
        let (pk, sk) = notice_key(notice);
        let mut item = HashMap::from([
            (PK.to_owned(), pk),
            (SK.to_owned(), sk),
            ("Entity".to_owned(), AttributeValue::S(NOTICE.into())),
            ("Id".to_owned(), AttributeValue::S(notice.id.clone())),
            ("Html".to_owned(), AttributeValue::S(notice.html.clone())),
            ("CreatedAt".to_owned(), AttributeValue::S(notice.created_at.to_rfc3339())),
            ("Attempts".to_owned(), number(u64::from(notice.attempts))),
        ]);
        if let Some(process) = &notice.process_id {
            item.insert("ProcessId".to_owned(), AttributeValue::S(process.to_string()));
        }
        // Under its own id: writing the same notice twice (a retried request) keeps one.
        self.put_new(item, NOTICE, &notice.id).await.map(|_| ())
    }

    async fn queued_staff_notices(&self, limit: u32) -> Result<Vec<StaffNotice>, StoreError> {
        // Sent notices stay until TTL removes them (a day, and DynamoDB's lag): read past them in
        // whole pages (1 MB, thousands of notices), a few at most. A queue of unsent notices only
        // (a sparse index) would read none of them.
        let mut found = Vec::new();
        let mut start = None;
        for _ in 0..QUEUE_PAGES {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .filter_expression("attribute_not_exists(#sent)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sent", SENT)
                .expression_attribute_values(":pk", AttributeValue::S(NOTICES.into()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify(e).into_store_error("query", NOTICES))?;
            for item in output.items() {
                found.push(read_notice(item)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() || found.len() >= limit as usize {
                break;
            }
        }
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn remove_staff_notice(&self, notice: &StaffNotice) -> Result<(), StoreError> {
        // Marked sent rather than deleted (the webhook may not delete); TTL removes it a day on.
        let (pk, sk) = notice_key(notice);
        let expires = u64::try_from((notice.created_at + chrono::TimeDelta::days(1)).timestamp()).unwrap_or(0);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .update_expression("SET #sent = :true, #expires = :expires")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sent", SENT)
            .expression_attribute_names("#expires", table::TTL_ATTRIBUTE)
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":expires", number(expires))
            .send()
            .await;
        unless_condition_failed(result, NOTICE, &notice.id).map(|_| ())
    }

    async fn count_staff_notice_attempt(&self, notice: &StaffNotice) -> Result<(), StoreError> {
        let (pk, sk) = notice_key(notice);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .update_expression("ADD #attempts :one")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#attempts", "Attempts")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":one", number(1))
            .send()
            .await;
        unless_condition_failed(result, NOTICE, &notice.id).map(|_| ())
    }

    async fn touch_card(&self, process: &ProcessId) -> Result<CardTouch, StoreError> {
        let (pk, sk) = card_key(process);
        let mark = mark_stale(process);
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .update_expression(format!("SET {} ADD {}", mark.set, mark.add))
            .set_expression_attribute_names(Some(mark.names))
            .set_expression_attribute_values(Some(mark.values))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| classify(e).into_store_error(CARD, process.as_str()))?;
        // A new card has no old attributes (an engine may still echo its key).
        let Some(old) = output.attributes.filter(|a| a.contains_key("ProcessId")) else {
            return Ok(CardTouch { was_stale: false, edited_at: None });
        };
        let old = read_card(&old)?;
        Ok(CardTouch { was_stale: old.is_stale(), edited_at: old.edited_at })
    }

    async fn stale_cards(&self, limit: u32) -> Result<Vec<ProgressCard>, StoreError> {
        let q =
            Query { index: Some(table::GSI1), partition: STALE_CARDS.into(), sort: SortCondition::Any, filter: None };
        let (items, _) = self.query_items(&q, limit, None).await?;
        items.iter().map(read_card).collect()
    }

    async fn get_card(&self, process: &ProcessId) -> Result<Option<ProgressCard>, StoreError> {
        let item = self.read_item(card_key(process), CARD, process.as_str()).await?;
        item.as_ref().map(read_card).transpose()
    }

    async fn save_card(&self, card: &ProgressCard) -> Result<bool, StoreError> {
        let (pk, sk) = card_key(&card.process_id);
        let mut sets = vec!["#shown = :shown"];
        let mut values = HashMap::from([(":shown".to_owned(), number(card.shown))]);
        let mut names = HashMap::from([
            ("#shown".to_owned(), "Shown".to_owned()),
            ("#changes".to_owned(), "Changes".to_owned()),
            ("#gpk".to_owned(), GSI1_PK.to_owned()),
            ("#gsk".to_owned(), GSI1_SK.to_owned()),
        ]);
        if let Some((chat, message)) = card.message {
            sets.extend(["#chat = :chat", "#message = :message"]);
            names.extend([("#chat".to_owned(), "ChatId".to_owned()), ("#message".to_owned(), "MessageId".to_owned())]);
            values.extend([
                (":chat".to_owned(), AttributeValue::N(chat.0.to_string())),
                (":message".to_owned(), AttributeValue::N(message.to_string())),
            ]);
        }
        if let Some(edited) = card.edited_at {
            sets.push("#edited = :edited");
            names.insert("#edited".to_owned(), "EditedAt".to_owned());
            values.insert(":edited".to_owned(), AttributeValue::S(edited.to_rfc3339()));
        }
        let set = sets.join(", ");
        // Up to date: out of the stale list, unless a change arrived while it was being drawn. A
        // runner that overran its lease never writes over a later runner's drawing.
        let current = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, pk.clone())
            .key(SK, sk.clone())
            .update_expression(format!("SET {set} REMOVE #gpk, #gsk"))
            .condition_expression("#changes <= :shown AND (attribute_not_exists(#shown) OR #shown <= :shown)")
            .set_expression_attribute_names(Some(names.clone()))
            .set_expression_attribute_values(Some(values.clone()))
            .send()
            .await;
        if unless_condition_failed(current, CARD, card.process_id.as_str())?.is_some() {
            return Ok(false);
        }
        // Still stale: record the drawing and keep it listed.
        names.remove("#changes");
        values.insert(":stale".to_owned(), AttributeValue::S(STALE_CARDS.into()));
        values.insert(":process".to_owned(), AttributeValue::S(card.process_id.to_string()));
        let behind = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .update_expression(format!("SET {set}, #gpk = :stale, #gsk = :process"))
            .condition_expression("attribute_not_exists(#shown) OR #shown < :shown")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        unless_condition_failed(behind, CARD, card.process_id.as_str())?;
        Ok(true)
    }
}

impl DynamoStore {
    /// Sets a process's counts from its trackers as they are (a draft's, which nothing else moves).
    pub(super) async fn set_counts(
        &self,
        process: &ProcessId,
        counts: &std::collections::BTreeMap<TrackerState, u64>,
    ) -> Result<(), StoreError> {
        let (pk, sk) = card_key(process);
        let mut sets =
            vec!["#entity = :entity".to_owned(), "#process = :process".to_owned(), "#counted = :yes".to_owned()];
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, pk)
            .key(SK, sk)
            .expression_attribute_names("#entity", "Entity")
            .expression_attribute_names("#process", "ProcessId")
            .expression_attribute_names("#counted", COUNTED)
            .expression_attribute_values(":entity", AttributeValue::S(CARD.into()))
            .expression_attribute_values(":process", AttributeValue::S(process.to_string()))
            .expression_attribute_values(":yes", AttributeValue::Bool(true));
        for (i, state) in TrackerState::ALL.iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#c{i}"), count_attribute(*state))
                .expression_attribute_values(format!(":n{i}"), number(counts.get(state).copied().unwrap_or(0)));
            sets.push(format!("#c{i} = :n{i}"));
        }
        update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(e).into_store_error(CARD, process.as_str()))
    }
}
