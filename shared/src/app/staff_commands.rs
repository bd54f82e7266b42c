//! Commands in the staff group: `/help`, `/status <stock>`, `/code <client>`.

use super::{App, AppError, all_pages};
use crate::domain::client::Client;
use crate::domain::link_code::LinkCode;
use crate::domain::staff::Role;
use crate::domain::stock::Stock;
use crate::domain::templates;
use crate::ports::store::{StoreError, Versioned};
use crate::telegram::types::Message;

impl App {
    /// A command in the staff group, answered only for a person on an active staff record whose
    /// role the same action needs in the API (anyone can be added to a Telegram group), and
    /// written to the audit log.
    pub(super) async fn on_staff_message(&self, message: &Message) -> Result<(), AppError> {
        let Some((command, args)) = message.command() else {
            return Ok(());
        };
        let needed = match command.as_str() {
            "/help" | "/start" | "/status" => Role::Viewer,
            "/code" => Role::Operator,
            _ => return Ok(()),
        };
        let member = match &message.from {
            Some(from) => self.staff_member(from.id).await?,
            None => None,
        };
        let Some(member) = member.filter(|m| m.role.allows(needed)) else {
            tracing::warn!(%command, user = message.from.as_ref().map(|u| u.id), "staff command from someone without the role");
            return self.reply(message, templates::staff_only(needed)).await;
        };
        let text = match command.as_str() {
            "/status" if args.is_empty() => templates::status_usage(),
            "/status" => self.stock_status(args).await?,
            "/code" if args.is_empty() => templates::link_code_usage(),
            "/code" => self.issue_code_by_name(args).await?,
            _ => templates::help(),
        };
        self.record_audit(&member.name, &format!("telegram{command}"), args, None, None).await;
        self.reply(message, text).await
    }

    async fn stock_status(&self, query: &str) -> Result<String, StoreError> {
        let stocks: Vec<Versioned<Stock>> = all_pages(|p| async move { self.store.list_stocks(&p).await }).await?;
        let Some(stock) = best_match(&stocks, query, |s| (s.id.as_str(), s.name.as_str())) else {
            return Ok(templates::no_such_stock(query));
        };
        let processes = all_pages(|p| {
            let id = stock.value.id.clone();
            async move { self.store.processes_of_stock(&id, &p).await }
        })
        .await?;
        let mut lines = Vec::new();
        for process in processes {
            lines.push(templates::ProcessStatus {
                name: process.value.kind.korean().to_owned(),
                kickoff: process.value.kickoff_at,
                counts: self.state_counts(&process.value.id).await?,
            });
        }
        Ok(templates::status(stock.value.name.as_str(), &lines))
    }

    async fn issue_code_by_name(&self, query: &str) -> Result<String, StoreError> {
        let clients: Vec<Versioned<Client>> = all_pages(|p| async move { self.store.list_clients(&p).await }).await?;
        let Some(client) = best_match(&clients, query, |c| (c.id.as_str(), c.name.as_str())) else {
            return Ok(templates::no_such_client(query));
        };
        let (code, expires_at) = self.issue_link_code(&client.value).await?;
        Ok(templates::link_code_issued(client.value.name.as_str(), code.as_str(), expires_at))
    }

    /// A fresh one-time code that links a group to `client`.
    pub async fn issue_link_code(
        &self,
        client: &Client,
    ) -> Result<(LinkCode, crate::domain::time::Timestamp), StoreError> {
        let expires_at = self.clock.now() + self.config.link_code_lifetime;
        for _ in 0..3 {
            let code = LinkCode::generate().map_err(|e| StoreError::Unavailable(format!("no randomness: {e}")))?;
            match self.store.create_link_code(&code, &client.id, expires_at).await {
                Ok(()) => return Ok((code, expires_at)),
                Err(StoreError::AlreadyExists { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Unavailable("could not find an unused link code".into()))
    }
}

/// The item whose id is `query`, else whose name equals it ignoring spaces, else the one name that
/// contains it.
fn best_match<'a, T>(
    items: &'a [Versioned<T>],
    query: &str,
    key: impl Fn(&T) -> (&str, &str),
) -> Option<&'a Versioned<T>> {
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    let wanted = squash(query);
    items
        .iter()
        .find(|i| key(&i.value).0 == query)
        .or_else(|| items.iter().find(|i| squash(key(&i.value).1) == wanted))
        .or_else(|| {
            let mut containing = items.iter().filter(|i| squash(key(&i.value).1).contains(&wanted));
            match (containing.next(), containing.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        })
}
