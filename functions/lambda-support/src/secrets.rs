//! The bot token and the webhook secret, from SSM Parameter Store: SecureString parameters that
//! `cargo xtask set-webhook` writes, encrypted with the stack's key. A function reads them once, at
//! its cold start (one `GetParameters` call), and keeps them for the life of its execution
//! environment; their values are never in its environment, only their names.
//!
//! Rotation, without a redeploy: `set-webhook` moves the current webhook secret to a second
//! parameter (`…/webhook-secret-previous`), writes the new one, then calls `setWebhook`. A new
//! environment reads both and accepts the previous secret for a grace period counted from when the
//! current one was written (its `LastModifiedDate`). A warm environment shown a secret it does not
//! know (Telegram already sends the new one) reads the parameters again, at most once a minute, so
//! it does not refuse Telegram until it is recycled. A new bot token is read by each environment's
//! next cold start.

use aws_sdk_ssm::error::DisplayErrorContext;
use aws_sdk_ssm::types::ParameterType;
use chrono::TimeDelta;
use shared::domain::time::Timestamp;
use shared::http::{WebhookAuth, constant_time_eq};
use shared::ports::clock::Clock;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// The environment variables naming the parameters (never holding their values).
pub const BOT_TOKEN_PARAMETER_ENV: &str = "TELEGRAM_BOT_TOKEN_PARAMETER";
pub const WEBHOOK_SECRET_PARAMETER_ENV: &str = "TELEGRAM_WEBHOOK_SECRET_PARAMETER";
pub const WEBHOOK_SECRET_PREVIOUS_PARAMETER_ENV: &str = "TELEGRAM_WEBHOOK_SECRET_PREVIOUS_PARAMETER";
/// How long the previous webhook secret is still accepted after the current one was written.
pub const WEBHOOK_SECRET_GRACE_ENV: &str = "TELEGRAM_WEBHOOK_SECRET_GRACE_MINUTES";
pub const DEFAULT_GRACE: TimeDelta = TimeDelta::minutes(60);
/// The least time between two reads by a warm environment shown a secret it does not know.
pub const REFRESH_INTERVAL: TimeDelta = TimeDelta::seconds(60);

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("SSM parameter {name} does not exist (`cargo xtask set-webhook` writes it)")]
    Missing { name: String },
    #[error("SSM parameter {name} is empty")]
    Empty { name: String },
    #[error("SSM Parameter Store failed on {names}: {reason}")]
    Unavailable { names: String, reason: String },
}

/// A parameter's value and when it was last written. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Secret {
    pub value: String,
    pub changed_at: Option<Timestamp>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret").field("value", &"<redacted>").field("changed_at", &self.changed_at).finish()
    }
}

/// The parameters of a stack: `/<stack>/telegram/…`, as `template.yaml` names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramParameters {
    pub bot_token: String,
    pub webhook_secret: String,
    pub webhook_secret_previous: String,
}

impl TelegramParameters {
    pub fn of_stack(stack: &str) -> Self {
        TelegramParameters {
            bot_token: format!("/{stack}/telegram/bot-token"),
            webhook_secret: format!("/{stack}/telegram/webhook-secret"),
            webhook_secret_previous: format!("/{stack}/telegram/webhook-secret-previous"),
        }
    }
}

/// The stack's KMS key for the parameters, by alias (`template.yaml`'s `EncryptionKeyAlias`).
pub fn key_alias_of_stack(stack: &str) -> String {
    format!("alias/{stack}/secrets")
}

/// Parameter Store, through one client built at cold start.
#[derive(Debug, Clone)]
pub struct ParameterStore {
    client: aws_sdk_ssm::Client,
}

impl ParameterStore {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        ParameterStore { client }
    }

    /// The parameters of `names` (ten at most) that exist, decrypted, in one request; a missing
    /// one is absent from the answer.
    pub async fn read(&self, names: &[&str]) -> Result<HashMap<String, Secret>, SecretsError> {
        let started = Instant::now();
        let output = self
            .client
            .get_parameters()
            .set_names(Some(names.iter().map(|n| (*n).to_owned()).collect()))
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| SecretsError::Unavailable {
                names: names.join(", "),
                reason: DisplayErrorContext(e).to_string(),
            })?;
        let found: HashMap<String, Secret> = output
            .parameters()
            .iter()
            .filter_map(|p| {
                let changed_at =
                    p.last_modified_date().and_then(|d| chrono::DateTime::from_timestamp(d.secs(), d.subsec_nanos()));
                Some((p.name()?.to_owned(), Secret { value: p.value()?.to_owned(), changed_at }))
            })
            .collect();
        tracing::info!(
            parameters = names.len(),
            found = found.len(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "secrets read from Parameter Store"
        );
        Ok(found)
    }

    /// One parameter, which must exist and hold something.
    pub async fn required(&self, name: &str) -> Result<Secret, SecretsError> {
        take(&mut self.read(&[name]).await?, name)
    }

    async fn get(&self, name: &str) -> Result<Option<String>, SecretsError> {
        match self.client.get_parameter().name(name).with_decryption(true).send().await {
            Ok(output) => Ok(output.parameter().and_then(|p| p.value()).map(str::to_owned)),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_parameter_not_found()) => Ok(None),
            Err(e) => Err(unavailable(name, e)),
        }
    }

    /// Writes a SecureString (over any earlier value); returns its new version.
    async fn put(&self, name: &str, value: &str, key_id: Option<&str>) -> Result<i64, SecretsError> {
        self.client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .set_key_id(key_id.map(str::to_owned))
            .overwrite(true)
            .send()
            .await
            .map(|o| o.version())
            .map_err(|e| unavailable(name, e))
    }

    /// Deletes a parameter; `false` when there was none.
    async fn delete(&self, name: &str) -> Result<bool, SecretsError> {
        match self.client.delete_parameter().name(name).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_parameter_not_found()) => Ok(false),
            Err(e) => Err(unavailable(name, e)),
        }
    }
}

fn unavailable<E: std::error::Error + 'static>(name: &str, e: E) -> SecretsError {
    SecretsError::Unavailable { names: name.to_owned(), reason: DisplayErrorContext(e).to_string() }
}

fn take(found: &mut HashMap<String, Secret>, name: &str) -> Result<Secret, SecretsError> {
    let secret = found.remove(name).ok_or_else(|| SecretsError::Missing { name: name.to_owned() })?;
    if secret.value.trim().is_empty() {
        return Err(SecretsError::Empty { name: name.to_owned() });
    }
    Ok(secret)
}

/// The webhook's secrets as last read.
struct Known {
    current: Secret,
    /// The previous secret and when it stops being accepted.
    previous: Option<(Secret, Timestamp)>,
}

impl Known {
    fn from_read(
        found: &mut HashMap<String, Secret>,
        names: &TelegramParameters,
        grace: TimeDelta,
    ) -> Result<Known, SecretsError> {
        let current = take(found, &names.webhook_secret)?;
        // Without the time of the change there is no grace to count: the previous one is refused.
        let previous = take(found, &names.webhook_secret_previous)
            .ok()
            .and_then(|p| Some((p, current.changed_at? + grace)))
            .filter(|(p, _)| p.value != current.value);
        Ok(Known { current, previous })
    }

    fn accepts(&self, given: &[u8], now: Timestamp) -> bool {
        let current = constant_time_eq(given, self.current.value.as_bytes());
        let previous = self
            .previous
            .as_ref()
            .is_some_and(|(secret, until)| constant_time_eq(given, secret.value.as_bytes()) && now < *until);
        current || previous
    }
}

/// The webhook's check of Telegram's secret, from Parameter Store (see the module's docs).
pub struct WebhookSecrets {
    store: ParameterStore,
    names: TelegramParameters,
    grace: TimeDelta,
    clock: Arc<dyn Clock>,
    known: RwLock<Known>,
    /// When the parameters were last read (a refresh waits [`REFRESH_INTERVAL`] after it).
    last_read: tokio::sync::Mutex<Timestamp>,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecrets").field("names", &self.names).field("grace", &self.grace).finish()
    }
}

impl WebhookSecrets {
    /// From what a cold start read (`found`, which may hold other parameters too).
    pub fn from_read(
        store: ParameterStore,
        names: TelegramParameters,
        found: &mut HashMap<String, Secret>,
        grace: TimeDelta,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SecretsError> {
        let known = Known::from_read(found, &names, grace)?;
        let now = clock.now();
        Ok(WebhookSecrets {
            store,
            names,
            grace,
            clock,
            known: RwLock::new(known),
            last_read: tokio::sync::Mutex::new(now),
        })
    }

    /// Reads the current and previous secrets.
    pub async fn load(
        store: ParameterStore,
        names: TelegramParameters,
        grace: TimeDelta,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SecretsError> {
        let mut found = store.read(&[&names.webhook_secret, &names.webhook_secret_previous]).await?;
        Self::from_read(store, names, &mut found, grace, clock)
    }

    fn known_accepts(&self, given: &[u8], now: Timestamp) -> bool {
        self.known.read().unwrap_or_else(std::sync::PoisonError::into_inner).accepts(given, now)
    }

    async fn refresh(&self) -> Result<(), SecretsError> {
        let mut found = self.store.read(&[&self.names.webhook_secret, &self.names.webhook_secret_previous]).await?;
        let known = Known::from_read(&mut found, &self.names, self.grace)?;
        *self.known.write().unwrap_or_else(std::sync::PoisonError::into_inner) = known;
        Ok(())
    }
}

#[async_trait::async_trait]
impl WebhookAuth for WebhookSecrets {
    async fn accepts(&self, given: &[u8]) -> bool {
        let now = self.clock.now();
        if self.known_accepts(given, now) {
            return true;
        }
        if given.is_empty() {
            return false;
        }
        // A secret this environment does not know: perhaps Telegram already has a new one. Read
        // again, once a minute at most, so that strangers cannot make it call Parameter Store.
        let mut last_read = self.last_read.lock().await;
        if now - *last_read < REFRESH_INTERVAL {
            return false;
        }
        *last_read = now;
        match self.refresh().await {
            Ok(()) => self.known_accepts(given, now),
            Err(e) => {
                tracing::warn!(error = %e, "the webhook secrets could not be read again");
                false
            }
        }
    }
}

/// What [`store_telegram_secrets`] did to one parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    Written { version: i64 },
    Deleted,
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub bot_token: Change,
    pub webhook_secret: Change,
    pub webhook_secret_previous: Change,
}

/// Writes the token and the webhook secret for [`WebhookSecrets`] to find, before `setWebhook` is
/// called with the secret: the current secret, if another, becomes the previous one (accepted for
/// the grace period; with `keep_previous` false it is deleted instead, for a secret that leaked).
/// A value already stored is not written again, so a repeated run keeps the previous secret.
pub async fn store_telegram_secrets(
    store: &ParameterStore,
    names: &TelegramParameters,
    key_id: Option<&str>,
    bot_token: &str,
    webhook_secret: &str,
    keep_previous: bool,
) -> Result<Stored, SecretsError> {
    let current = store.get(&names.webhook_secret).await?;
    let mut previous = Change::Unchanged;
    let secret = if current.as_deref() == Some(webhook_secret) {
        Change::Unchanged
    } else {
        if let (Some(old), true) = (&current, keep_previous) {
            // The previous first: a failure between the two writes leaves the old secret current.
            let version = store.put(&names.webhook_secret_previous, old, key_id).await?;
            previous = Change::Written { version };
        }
        Change::Written { version: store.put(&names.webhook_secret, webhook_secret, key_id).await? }
    };
    if !keep_previous {
        previous = if store.delete(&names.webhook_secret_previous).await? { Change::Deleted } else { Change::Absent };
    }
    let bot_token = if store.get(&names.bot_token).await?.as_deref() == Some(bot_token) {
        Change::Unchanged
    } else {
        Change::Written { version: store.put(&names.bot_token, bot_token, key_id).await? }
    };
    Ok(Stored { bot_token, webhook_secret: secret, webhook_secret_previous: previous })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn secret(value: &str, changed_at: Option<&str>) -> Secret {
        Secret { value: value.into(), changed_at: changed_at.map(at) }
    }

    #[test]
    fn the_previous_secret_is_accepted_until_its_grace_ends() {
        let names = TelegramParameters::of_stack("s");
        let mut found = HashMap::from([
            (names.webhook_secret.clone(), secret("new-secret", Some("2026-03-01T00:00:00Z"))),
            (names.webhook_secret_previous.clone(), secret("old-secret", Some("2026-03-01T00:00:00Z"))),
        ]);
        let known = Known::from_read(&mut found, &names, TimeDelta::minutes(60)).unwrap();
        assert!(known.accepts(b"new-secret", at("2026-03-05T00:00:00Z")));
        assert!(known.accepts(b"old-secret", at("2026-03-01T00:59:59Z")));
        assert!(!known.accepts(b"old-secret", at("2026-03-01T01:00:00Z")));
        assert!(!known.accepts(b"", at("2026-03-01T00:00:00Z")));
        assert!(!known.accepts(b"new-secre", at("2026-03-01T00:00:00Z")));
    }

    #[test]
    fn without_a_time_of_change_or_a_previous_secret_only_the_current_one_passes() {
        let names = TelegramParameters::of_stack("s");
        let mut found = HashMap::from([
            (names.webhook_secret.clone(), secret("new-secret", None)),
            (names.webhook_secret_previous.clone(), secret("old-secret", None)),
        ]);
        let known = Known::from_read(&mut found, &names, TimeDelta::minutes(60)).unwrap();
        assert!(known.accepts(b"new-secret", at("2026-03-01T00:00:00Z")));
        assert!(!known.accepts(b"old-secret", at("2026-03-01T00:00:00Z")));

        let mut found = HashMap::from([(names.webhook_secret.clone(), secret("new-secret", None))]);
        assert!(Known::from_read(&mut found, &names, TimeDelta::minutes(60)).unwrap().previous.is_none());
    }

    #[test]
    fn a_missing_or_empty_secret_is_named_and_never_shown() {
        let names = TelegramParameters::of_stack("s");
        let err = Known::from_read(&mut HashMap::new(), &names, DEFAULT_GRACE).err().unwrap();
        assert_eq!(
            err.to_string(),
            "SSM parameter /s/telegram/webhook-secret does not exist (`cargo xtask set-webhook` writes it)"
        );
        let mut found = HashMap::from([(names.webhook_secret.clone(), secret(" ", None))]);
        let err = Known::from_read(&mut found, &names, DEFAULT_GRACE).err().unwrap();
        assert_eq!(err.to_string(), "SSM parameter /s/telegram/webhook-secret is empty");
        assert!(!format!("{:?}", secret("hunter2-hunter2", None)).contains("hunter2"));
    }
}
