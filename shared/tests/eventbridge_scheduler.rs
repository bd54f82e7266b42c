//! The EventBridge Scheduler adapter on the wire, against moto's server (`cargo xtask test` starts
//! it and exports `MOTO_ENDPOINT`; under a plain `cargo test` these tests skip, saying so on stderr,
//! and under the test command a missing endpoint fails them: `testkit::server_endpoint`).
//!
//! Moto stores and echoes what it is sent, answers ConflictException for a duplicate name and
//! ResourceNotFoundException for a missing schedule, and validates little else: not the name's
//! characters or length, not the expression, not the time zone, not a time in the past, and it
//! never fires anything. Those rules are checked by the adapter's unit tests instead.

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod eventbridge {
    use aws_sdk_scheduler::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindowMode};
    use shared::adapters::eventbridge::{
        EventBridgeScheduler, MAXIMUM_EVENT_AGE_SECONDS, MAXIMUM_RETRY_ATTEMPTS, SCHEDULED_TIME_PLACEHOLDER,
        parse_invocation,
    };
    use shared::domain::ids::{ClientId, ProcessId};
    use shared::domain::time::Timestamp;
    use shared::ports::clock::ManualClock;
    use shared::ports::scheduler::{Job, JobPayload, Scheduler, SchedulerError};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    const TARGET_ARN: &str = "arn:aws:lambda:ap-northeast-2:123456789012:function:ipo-advisory-scheduler";
    const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/ipo-advisory-scheduler-invoke";
    const DLQ_ARN: &str = "arn:aws:sqs:ap-northeast-2:123456789012:ipo-advisory-scheduler-dlq";

    struct Fixture {
        client: aws_sdk_scheduler::Client,
        group: String,
        scheduler: EventBridgeScheduler,
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// A client for moto, a schedule group of this test's own, and the adapter on it with the clock
    /// at 2026-03-01T00:00:00Z. `None` when moto is not running (a skip, or a failure under the test
    /// command).
    async fn fixture() -> Option<Fixture> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let endpoint = testkit::server_endpoint(testkit::MOTO_ENDPOINT_ENV, "moto")?;
        let config = aws_sdk_scheduler::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("ap-northeast-2"))
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .build();
        let client = aws_sdk_scheduler::Client::from_conf(config);
        let group = format!("ipo-advisory-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        client.create_schedule_group().name(&group).send().await.unwrap();
        let scheduler = EventBridgeScheduler::new(client.clone(), &group, TARGET_ARN, ROLE_ARN, Some(DLQ_ARN.into()))
            .with_clock(Arc::new(ManualClock::new(t("2026-03-01T00:00:00Z"))));
        Some(Fixture { client, group, scheduler })
    }

    macro_rules! fixture_or_skip {
        () => {
            match fixture().await {
                Some(fx) => fx,
                None => return, // said on stderr by testkit::server_endpoint
            }
        };
    }

    async fn names_in_group(fx: &Fixture) -> Vec<String> {
        let out = fx.client.list_schedules().group_name(&fx.group).send().await.unwrap();
        out.schedules().iter().filter_map(|s| s.name().map(str::to_owned)).collect()
    }

    fn kickoff(at: &str) -> Job {
        let process: ProcessId = "p-2026-0316".parse().unwrap();
        Job::kickoff(&process, t(at))
    }

    #[tokio::test]
    async fn schedule_creates_a_one_time_schedule_in_kst() {
        let fx = fixture_or_skip!();
        let job = kickoff("2026-03-16T00:00:00Z");
        fx.scheduler.schedule(&job).await.unwrap();

        let got = fx.client.get_schedule().name(&job.name).group_name(&fx.group).send().await.unwrap();
        assert_eq!(got.name(), Some(job.name.as_str()));
        assert_eq!(got.group_name(), Some(fx.group.as_str()));
        assert_eq!(got.schedule_expression(), Some("at(2026-03-16T09:00:00)"));
        assert_eq!(got.schedule_expression_timezone(), Some("Asia/Seoul"));
        // Moto echoes ActionAfterCompletion back (it does not act on it: nothing ever fires).
        assert_eq!(got.action_after_completion(), Some(&ActionAfterCompletion::Delete));
        assert_eq!(got.flexible_time_window().map(|w| w.mode()), Some(&FlexibleTimeWindowMode::Off));

        let target = got.target().unwrap();
        assert_eq!(target.arn(), TARGET_ARN);
        assert_eq!(target.role_arn(), ROLE_ARN);
        assert_eq!(target.dead_letter_config().and_then(|d| d.arn()), Some(DLQ_ARN));
        let retry = target.retry_policy().unwrap();
        assert_eq!(retry.maximum_event_age_in_seconds(), Some(MAXIMUM_EVENT_AGE_SECONDS));
        assert_eq!(retry.maximum_retry_attempts(), Some(MAXIMUM_RETRY_ATTEMPTS));

        let input: serde_json::Value = serde_json::from_str(target.input().unwrap()).unwrap();
        assert_eq!(input["name"], job.name.as_str());
        assert_eq!(input["scheduled_time"], SCHEDULED_TIME_PLACEHOLDER);
        assert_eq!(input["payload"], serde_json::json!({"job": "kickoff", "process_id": "p-2026-0316"}));

        // What the scheduler function will receive once EventBridge Scheduler substitutes the time.
        let delivered = target.input().unwrap().replace(SCHEDULED_TIME_PLACEHOLDER, "2026-03-16T00:00:00Z");
        let invocation = parse_invocation(serde_json::from_str(&delivered).unwrap()).unwrap();
        assert_eq!(invocation.payload, job.payload);
        assert_eq!(invocation.idempotency_key(), format!("schedule:{}:2026-03-16T00:00:00Z", job.name));
    }

    #[tokio::test]
    async fn scheduling_the_same_job_twice_is_one_schedule() {
        let fx = fixture_or_skip!();
        let job = kickoff("2026-03-16T00:00:00Z");
        fx.scheduler.schedule(&job).await.unwrap();
        // Moto answers ConflictException, as AWS does; the adapter takes it as done.
        fx.scheduler.schedule(&job).await.unwrap();
        // A second call with another time leaves the first schedule as it was.
        let moved = Job { at: t("2026-03-17T00:00:00Z"), ..job.clone() };
        fx.scheduler.schedule(&moved).await.unwrap();

        assert_eq!(names_in_group(&fx).await, vec![job.name.clone()]);
        let got = fx.client.get_schedule().name(&job.name).group_name(&fx.group).send().await.unwrap();
        assert_eq!(got.schedule_expression(), Some("at(2026-03-16T09:00:00)"));
    }

    #[tokio::test]
    async fn cancel_deletes_and_cancelling_a_missing_schedule_is_fine() {
        let fx = fixture_or_skip!();
        let job = kickoff("2026-03-16T00:00:00Z");
        fx.scheduler.schedule(&job).await.unwrap();
        fx.scheduler.cancel(&job.name).await.unwrap();
        assert!(names_in_group(&fx).await.is_empty());
        let err = fx.client.get_schedule().name(&job.name).group_name(&fx.group).send().await.unwrap_err();
        assert!(err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()), "{err:?}");

        // Already gone (fired, or cancelled before), and never scheduled at all.
        fx.scheduler.cancel(&job.name).await.unwrap();
        fx.scheduler.cancel("never-scheduled").await.unwrap();
        // Cancelled, then scheduled again: the name is free.
        fx.scheduler.schedule(&job).await.unwrap();
        assert_eq!(names_in_group(&fx).await, vec![job.name]);
    }

    #[tokio::test]
    async fn the_longest_names_are_accepted() {
        let fx = fixture_or_skip!();
        let process: ProcessId = "p".repeat(56).parse().unwrap();
        let client: ClientId = "c".repeat(56).parse().unwrap();
        let chase = Job::chase(&process, &client, t("2026-03-16T00:05:00Z"));
        assert!(chase.name.len() <= 64);
        fx.scheduler.schedule(&chase).await.unwrap();

        let longest = Job { name: "x".repeat(64), ..chase.clone() };
        fx.scheduler.schedule(&longest).await.unwrap();

        let mut names = names_in_group(&fx).await;
        names.sort();
        assert_eq!(names, vec![chase.name.clone(), longest.name.clone()]);
        let got = fx.client.get_schedule().name(&chase.name).group_name(&fx.group).send().await.unwrap();
        assert_eq!(got.schedule_expression(), Some("at(2026-03-16T09:05:00)"));
        let input: serde_json::Value = serde_json::from_str(got.target().unwrap().input().unwrap()).unwrap();
        let payload: JobPayload = serde_json::from_value(input["payload"].clone()).unwrap();
        assert_eq!(payload, chase.payload);
    }

    #[tokio::test]
    async fn names_aws_would_refuse_are_refused_before_the_call() {
        // Moto would store them; AWS answers ValidationException. The adapter refuses them itself.
        let fx = fixture_or_skip!();
        for name in ["x".repeat(65), "kickoff p1".to_owned(), String::new()] {
            let job = Job { name, ..kickoff("2026-03-16T00:00:00Z") };
            let err = fx.scheduler.schedule(&job).await.unwrap_err();
            assert!(matches!(err, SchedulerError::Refused { .. }), "{err}");
        }
        assert!(names_in_group(&fx).await.is_empty());
    }

    #[tokio::test]
    async fn a_job_already_due_fires_a_minute_from_now() {
        let fx = fixture_or_skip!();
        // The clock says 2026-03-01T00:00:00Z (09:00 KST).
        let job = kickoff("2026-02-28T00:00:00Z");
        fx.scheduler.schedule(&job).await.unwrap();
        let got = fx.client.get_schedule().name(&job.name).group_name(&fx.group).send().await.unwrap();
        assert_eq!(got.schedule_expression(), Some("at(2026-03-01T09:01:00)"));
    }

    #[tokio::test]
    async fn without_a_dead_letter_queue_the_target_has_none() {
        let fx = fixture_or_skip!();
        let scheduler = EventBridgeScheduler::new(fx.client.clone(), &fx.group, TARGET_ARN, ROLE_ARN, None)
            .with_clock(Arc::new(ManualClock::new(t("2026-03-01T00:00:00Z"))));
        let job = kickoff("2026-03-16T00:00:00Z");
        scheduler.schedule(&job).await.unwrap();
        let got = fx.client.get_schedule().name(&job.name).group_name(&fx.group).send().await.unwrap();
        assert!(got.target().unwrap().dead_letter_config().is_none());
    }

    #[tokio::test]
    async fn a_missing_group_is_an_error_not_a_panic() {
        let fx = fixture_or_skip!();
        let scheduler = EventBridgeScheduler::new(fx.client.clone(), "no-such-group", TARGET_ARN, ROLE_ARN, None)
            .with_clock(Arc::new(ManualClock::new(t("2026-03-01T00:00:00Z"))));
        let job = kickoff("2026-03-16T00:00:00Z");
        // AWS answers ResourceNotFoundException (Refused); moto 5.2 fails with an internal error
        // (Unavailable, after the SDK's retries). Either way an error, never a panic.
        let result = scheduler.schedule(&job).await;
        assert!(result.is_err(), "{result:?}");
    }
}
