//! EventBridge Scheduler's target: runs one job per invocation, at most once per (schedule,
//! scheduled time). A failure is returned to Lambda, so the schedule's retry policy runs it again
//! and its dead-letter queue keeps what never succeeds; an input that can never run is logged and
//! dropped (retrying it would not help).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::adapters::eventbridge::parse_invocation;
use std::sync::Arc;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_support::init_tracing();
    let app = Arc::new(lambda_support::app_from_env(lambda_support::Reach::Everything).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        async move {
            let invocation = match parse_invocation(event.payload) {
                Ok(invocation) => invocation,
                Err(e) => {
                    tracing::error!(error = %e, "scheduler input dropped");
                    return Ok::<(), Error>(());
                }
            };
            let span = tracing::info_span!("job", name = %invocation.name, at = %invocation.scheduled_time);
            app.run_job(&invocation.idempotency_key(), &invocation.payload).instrument(span).await.map_err(Error::from)
        }
    }))
    .await
}
