//! The bot's emergency stop: one item, `BOT` / `#CONTROL`, versioned like every record (a stop
//! and a resume at once: one of them gets a conflict). Read strongly consistently before every
//! message to a client (once per batch of a fan-out), so a stop holds what every function sends
//! next.

use super::DynamoStore;
use super::entities::{Entity, Keys};
use crate::domain::bot::BotControl;
use crate::ports::store::{BotControlStore, StoreError, Versioned};
use async_trait::async_trait;

const KEY: (&str, &str) = ("BOT", "#CONTROL");

impl Entity for BotControl {
    const NAME: &'static str = "bot control";
    fn id(&self) -> String {
        "bot".into()
    }
    fn keys(&self) -> Keys {
        Keys { pk: KEY.0.into(), sk: KEY.1.into(), gsi1: None, gsi2: None }
    }
}

#[async_trait]
impl BotControlStore for DynamoStore {
    async fn get_bot_control(&self) -> Result<Versioned<BotControl>, StoreError> {
        let stored = self.find_entity((KEY.0.into(), KEY.1.into()), "bot").await?;
        Ok(stored.unwrap_or(Versioned { value: BotControl::default(), version: 0 }))
    }

    async fn put_bot_control(
        &self,
        control: &BotControl,
        expected_version: u64,
    ) -> Result<Versioned<BotControl>, StoreError> {
        if expected_version > 0 {
            return self.update_entity(control, expected_version, None).await;
        }
        self.create_entity(control).await.map_err(|e| match e {
            StoreError::AlreadyExists { entity, id } => {
                StoreError::Conflict { entity, id, detail: "written meanwhile".into() }
            }
            e => e,
        })
    }
}
