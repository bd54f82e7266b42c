//! The secrets in SSM Parameter Store on the wire, against moto's server (`cargo xtask test` starts
//! it and exports `MOTO_ENDPOINT`; under a plain `cargo test` these tests skip, saying so on
//! stderr, and under the test command a missing endpoint fails them: `testkit::server_endpoint`): what
//! `cargo xtask set-webhook` writes, what a cold start reads, the webhook secret's rotation and
//! its grace, and a missing parameter named in the error. Moto keeps SecureString values as given
//! (it does not check the KMS key) and stamps `LastModifiedDate` with its own clock, as AWS does.

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod ssm {
    use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
    use chrono::TimeDelta;
    use lambda_support::secrets::{
        Change, ParameterStore, REFRESH_INTERVAL, SecretsError, TelegramParameters, WebhookSecrets, key_alias_of_stack,
        store_telegram_secrets,
    };
    use shared::http::WebhookAuth;
    use shared::ports::clock::{Clock, ManualClock};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    const GRACE: TimeDelta = TimeDelta::minutes(60);

    struct Fixture {
        client: aws_sdk_ssm::Client,
        store: ParameterStore,
        stack: String,
        names: TelegramParameters,
        clock: Arc<ManualClock>,
    }

    /// A store on moto, a stack name of this test's own, and a clock at the wall time (moto stamps
    /// writes with it). `None` when moto is not running (a skip, or a failure under the test command).
    fn fixture() -> Option<Fixture> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let endpoint = testkit::server_endpoint(testkit::MOTO_ENDPOINT_ENV, "moto")?;
        let config = aws_sdk_ssm::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("ap-northeast-2"))
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .build();
        let stack = format!("ipo-advisory-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let client = aws_sdk_ssm::Client::from_conf(config);
        Some(Fixture {
            store: ParameterStore::new(client.clone()),
            client,
            names: TelegramParameters::of_stack(&stack),
            stack,
            clock: Arc::new(ManualClock::new(chrono::Utc::now())),
        })
    }

    macro_rules! fixture_or_skip {
        () => {
            match fixture() {
                Some(fx) => fx,
                None => return, // said on stderr by testkit::server_endpoint
            }
        };
    }

    impl Fixture {
        async fn store(&self, token: &str, secret: &str, keep_previous: bool) -> lambda_support::secrets::Stored {
            let key = key_alias_of_stack(&self.stack);
            store_telegram_secrets(&self.store, &self.names, Some(&key), token, secret, keep_previous).await.unwrap()
        }

        async fn webhook(&self) -> WebhookSecrets {
            let clock: Arc<dyn Clock> = self.clock.clone();
            WebhookSecrets::load(self.store.clone(), self.names.clone(), GRACE, clock).await.unwrap()
        }
    }

    #[tokio::test]
    async fn what_set_webhook_writes_a_cold_start_reads() {
        let fx = fixture_or_skip!();
        let stored = fx.store("123:token-one", "secret-one-0123456789", true).await;
        assert!(matches!(stored.bot_token, Change::Written { version: 1 }), "{stored:?}");
        assert!(matches!(stored.webhook_secret, Change::Written { version: 1 }), "{stored:?}");
        assert_eq!(stored.webhook_secret_previous, Change::Unchanged);

        let token = fx.store.required(&fx.names.bot_token).await.unwrap();
        assert_eq!(token.value, "123:token-one");
        let found = fx.store.read(&[&fx.names.bot_token, &fx.names.webhook_secret]).await.unwrap();
        assert_eq!(found[&fx.names.webhook_secret].value, "secret-one-0123456789");
        assert!(found[&fx.names.webhook_secret].changed_at.is_some(), "the time of the change is read");

        let webhook = fx.webhook().await;
        assert!(webhook.accepts(b"secret-one-0123456789").await);
        assert!(!webhook.accepts(b"secret-two-0123456789").await);
        assert!(!webhook.accepts(b"").await);

        // The same values again: nothing is written, the versions stay.
        let again = fx.store("123:token-one", "secret-one-0123456789", true).await;
        assert_eq!(again.bot_token, Change::Unchanged);
        assert_eq!(again.webhook_secret, Change::Unchanged);
    }

    #[tokio::test]
    async fn the_previous_secret_is_accepted_within_the_grace_and_refused_after() {
        let fx = fixture_or_skip!();
        fx.store("123:token", "secret-old-0123456789", true).await;
        let rotated = fx.store("123:token", "secret-new-0123456789", true).await;
        assert!(matches!(rotated.webhook_secret, Change::Written { version: 2 }), "{rotated:?}");
        assert!(matches!(rotated.webhook_secret_previous, Change::Written { version: 1 }), "{rotated:?}");
        assert_eq!(rotated.bot_token, Change::Unchanged);
        // Run again with the same new secret (setWebhook failed, say): the old one stays previous.
        let repeated = fx.store("123:token", "secret-new-0123456789", true).await;
        assert_eq!(repeated.webhook_secret_previous, Change::Unchanged);

        let webhook = fx.webhook().await;
        assert!(webhook.accepts(b"secret-new-0123456789").await);
        assert!(webhook.accepts(b"secret-old-0123456789").await, "within the grace");
        fx.clock.advance(GRACE - TimeDelta::minutes(1));
        assert!(webhook.accepts(b"secret-old-0123456789").await, "a minute before the grace ends");
        fx.clock.advance(TimeDelta::minutes(2));
        assert!(!webhook.accepts(b"secret-old-0123456789").await, "after the grace");
        assert!(webhook.accepts(b"secret-new-0123456789").await);
        // A fresh read says the same: the grace counts from the change, not from the read.
        assert!(!fx.webhook().await.accepts(b"secret-old-0123456789").await);
    }

    #[tokio::test]
    async fn a_warm_webhook_learns_a_new_secret_at_most_once_a_minute() {
        let fx = fixture_or_skip!();
        fx.store("123:token", "secret-a-0123456789", true).await;
        let webhook = fx.webhook().await;
        fx.store("123:token", "secret-b-0123456789", true).await;
        // Read at start: a minute has not passed, so the unknown secret is refused without a read.
        assert!(!webhook.accepts(b"secret-b-0123456789").await);
        fx.clock.advance(REFRESH_INTERVAL);
        assert!(webhook.accepts(b"secret-b-0123456789").await, "read again and learnt");
        assert!(webhook.accepts(b"secret-a-0123456789").await, "the old one within its grace");
        // A stranger's guesses cost one read a minute at most, and change nothing.
        assert!(!webhook.accepts(b"guess-0123456789").await);
        fx.store("123:token", "secret-c-0123456789", true).await;
        assert!(!webhook.accepts(b"secret-c-0123456789").await, "within a minute of the last read");
    }

    #[tokio::test]
    async fn without_grace_the_previous_secret_is_deleted() {
        let fx = fixture_or_skip!();
        fx.store("123:token", "secret-first-0123456789", true).await;
        fx.store("123:token", "secret-leaked-0123456789", true).await;
        let stored = fx.store("123:token", "secret-fresh-0123456789", false).await;
        assert_eq!(stored.webhook_secret_previous, Change::Deleted);
        let webhook = fx.webhook().await;
        assert!(webhook.accepts(b"secret-fresh-0123456789").await);
        assert!(!webhook.accepts(b"secret-leaked-0123456789").await);
        assert!(!webhook.accepts(b"secret-first-0123456789").await);
        // Nothing left to delete the next time.
        let again = fx.store("123:token", "secret-fresh-0123456789", false).await;
        assert_eq!(again.webhook_secret_previous, Change::Absent);
    }

    #[tokio::test]
    async fn a_missing_parameter_is_named_and_no_value_is_shown() {
        let fx = fixture_or_skip!();
        let err = fx.store.required(&fx.names.bot_token).await.unwrap_err();
        assert!(matches!(&err, SecretsError::Missing { name } if name == &fx.names.bot_token), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("SSM parameter {} does not exist (`cargo xtask set-webhook` writes it)", fx.names.bot_token)
        );

        // The token is there but the webhook secret is not: its name, and no value, in the error.
        store_telegram_secrets(&fx.store, &fx.names, None, "123:secret-token", "secret-0123456789", true)
            .await
            .unwrap();
        fx.client.delete_parameter().name(&fx.names.webhook_secret).send().await.unwrap();
        let clock: Arc<dyn Clock> = fx.clock.clone();
        let err = WebhookSecrets::load(fx.store.clone(), fx.names.clone(), GRACE, clock).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains(&fx.names.webhook_secret), "{shown}");
        assert!(!shown.contains("secret-0123456789") && !shown.contains("123:secret-token"), "{shown}");
    }
}
