//! Who a process goes to, for the phases whose clients are chosen rather than imported: the
//! allotment check (by default every client with a confirmed bid; staff may name a list instead)
//! and notices (every linked client, a representative's, a fund type's, or a list). A dry run
//! shows who would get it, and who would not and why; applying writes one tracker per recipient
//! to the draft process, replacing an earlier choice.

use super::{App, AppError, Refusal, all_pages};
use crate::domain::client::{Client, FundKind};
use crate::domain::ids::{ClientId, ProcessId, StaffId};
use crate::domain::phase::allotment::AllotmentAdvice;
use crate::domain::phase::notice::NoticeAdvice;
use crate::domain::phase::{Advice, Phase};
use crate::domain::process::ProcessState;
use crate::domain::templates::{self, Subject};
use crate::domain::tracker::Tracker;
use crate::ports::store::StoreError;
use crate::telegram::html::{MESSAGE_LIMIT, split};
use serde::{Deserialize, Serialize};

/// How staff choose a process's clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum Audience {
    /// Every client with a bid confirmed for the process's stock (its latest round).
    ConfirmedBids,
    /// Every active client whose group is linked.
    AllLinked,
    /// The clients a representative (담당 대표) looks after.
    Representative { representative: StaffId },
    /// The clients with at least one fund of this kind.
    FundKind { fund_kind: FundKind },
    /// These clients.
    Clients { clients: Vec<ClientId> },
}

/// An audience, and for a notice what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudiencePlan {
    pub audience: Audience,
    pub notice: Option<NoticeAdvice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Recipient {
    pub client_id: ClientId,
    pub name: String,
    /// Whether the bot can write to its group now; an unreachable recipient's send fails and is
    /// shown to staff.
    pub reachable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Excluded {
    pub client_id: ClientId,
    pub name: String,
    pub reason: String,
}

/// Who gets the process, who does not and why, and what the first recipient would read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AudienceOutcome {
    /// Whether the trackers were written (false for a dry run).
    pub applied: bool,
    pub recipients: Vec<Recipient>,
    pub excluded: Vec<Excluded>,
    /// The first recipient's message, as Telegram HTML.
    pub preview: Option<String>,
    /// How many messages that is once split at Telegram's length limit.
    pub messages_per_client: usize,
}

impl App {
    /// Chooses a draft process's clients (and a notice's text); with `dry_run`, only says who.
    pub async fn choose_audience(
        &self,
        process_id: &ProcessId,
        plan: AudiencePlan,
        dry_run: bool,
    ) -> Result<AudienceOutcome, AppError> {
        let stored = self.store.get_process(process_id).await?;
        let loaded = self.load_process(process_id).await?;
        let phase = loaded.process.kind.phase();
        match (phase, &plan.notice, &plan.audience) {
            (Phase::Bid, _, _) => {
                return Err(Refusal::WrongPhase(
                    "a participation process's clients come from its advice rows: load them with POST /processes/{id}/advice".into(),
                )
                .into());
            }
            (Phase::Notice, None, _) => return Err(invalid("notice", "a notice needs its title and text")),
            (Phase::Allotment, Some(_), _) => {
                return Err(invalid(
                    "notice",
                    "only a notice has a text: the allotment check shows each client its bids",
                ));
            }
            (Phase::Allotment, None, Audience::ConfirmedBids | Audience::Clients { .. }) => {}
            (
                Phase::Allotment,
                None,
                Audience::AllLinked | Audience::Representative { .. } | Audience::FundKind { .. },
            ) => {
                return Err(invalid(
                    "audience",
                    "the allotment check goes to clients with a confirmed bid: choose confirmed_bids or a list of them",
                ));
            }
            (Phase::Notice, Some(_), _) => {}
            (Phase::Sell | Phase::Statement, _, _) => {
                return Err(Refusal::WrongPhase(
                    "a sell plan's and a statement request's clients come from the stock's confirmed allotments and sales, not an audience".into(),
                )
                .into());
            }
        }
        if !dry_run && stored.value.state() != ProcessState::Draft {
            return Err(StoreError::Conflict {
                entity: "process",
                id: process_id.to_string(),
                detail: format!("its clients can change only in draft, not {}", stored.value.state()),
            }
            .into());
        }
        let bids = match &loaded.process.stock_id {
            Some(stock) => self.confirmed_bids(stock).await?,
            None if plan.audience == Audience::ConfirmedBids => {
                return Err(invalid("audience", "a process without a stock has no confirmed bids"));
            }
            None => Default::default(),
        };
        let clients = all_pages(|page| async move { self.store.list_clients(&page).await }).await?;
        let clients: Vec<Client> = clients.into_iter().map(|c| c.value).collect();
        let chosen: Vec<&Client> = match &plan.audience {
            Audience::ConfirmedBids => clients.iter().filter(|c| bids.contains_key(&c.id)).collect(),
            Audience::AllLinked => clients.iter().filter(|c| c.chat.is_some()).collect(),
            Audience::Representative { representative } => {
                match self.store.get_staff(representative).await {
                    Ok(_) => {}
                    Err(StoreError::NotFound { .. }) => {
                        return Err(invalid("audience.representative", "no such staff member"));
                    }
                    Err(e) => return Err(e.into()),
                }
                clients.iter().filter(|c| &c.representative == representative).collect()
            }
            Audience::FundKind { fund_kind } => {
                clients.iter().filter(|c| c.funds().iter().any(|f| f.kind == *fund_kind)).collect()
            }
            Audience::Clients { clients: ids } => {
                let mut out = Vec::new();
                for (i, id) in ids.iter().enumerate() {
                    let Some(client) = clients.iter().find(|c| &c.id == id) else {
                        return Err(invalid(&format!("audience.clients[{i}]"), "no such client"));
                    };
                    if !out.iter().any(|c: &&Client| c.id == client.id) {
                        out.push(client);
                    }
                }
                out
            }
        };
        let mut outcome = AudienceOutcome {
            applied: false,
            recipients: Vec::new(),
            excluded: Vec::new(),
            preview: None,
            messages_per_client: 0,
        };
        let now = self.clock.now();
        let mut trackers = Vec::new();
        for client in chosen {
            let exclude = |reason: &str| Excluded {
                client_id: client.id.clone(),
                name: client.name.to_string(),
                reason: reason.to_owned(),
            };
            if !client.active {
                outcome.excluded.push(exclude("the client is inactive"));
                continue;
            }
            let advice = match (&plan.notice, phase) {
                (Some(notice), _) => Advice::Notice(notice.clone()),
                (None, _) => match bids.get(&client.id) {
                    Some(bid) => Advice::Allotment(AllotmentAdvice::from(bid)),
                    None => {
                        outcome.excluded.push(exclude("no bid of this client was confirmed for the stock"));
                        continue;
                    }
                },
            };
            if outcome.preview.is_none() {
                let subject = Subject::new(loaded.stock.as_ref(), loaded.process.kind, Some(&advice));
                let html = templates::advice(&subject, client, &advice);
                outcome.messages_per_client = split(&html, MESSAGE_LIMIT).len();
                outcome.preview = Some(html);
            }
            outcome.recipients.push(Recipient {
                client_id: client.id.clone(),
                name: client.name.to_string(),
                reachable: client.reachable_chat().is_some(),
            });
            trackers.push(Tracker::new(process_id.clone(), client.id.clone(), advice, now));
        }
        if dry_run {
            return Ok(outcome);
        }
        if trackers.is_empty() {
            return Err(invalid("audience", "no client fits this audience"));
        }
        self.replace_draft_trackers(process_id, stored.version, &trackers).await?;
        tracing::info!(process = %process_id, clients = trackers.len(), "audience applied");
        outcome.applied = true;
        Ok(outcome)
    }

    /// Writes a draft process's trackers, replacing the earlier ones whole: a client left out
    /// loses its earlier advice.
    pub(super) async fn replace_draft_trackers(
        &self,
        process_id: &ProcessId,
        process_version: u64,
        trackers: &[Tracker],
    ) -> Result<(), AppError> {
        self.store.save_draft_trackers(process_id, process_version, trackers).await?;
        for old in self.store.trackers_of_process(process_id).await? {
            if !trackers.iter().any(|t| t.client_id == old.value.client_id) {
                self.store.remove_pending_tracker(process_id, &old.value.client_id).await?;
            }
        }
        Ok(())
    }
}

fn invalid(field: &str, reason: &str) -> AppError {
    Refusal::Invalid { field: field.to_owned(), reason: reason.to_owned() }.into()
}
