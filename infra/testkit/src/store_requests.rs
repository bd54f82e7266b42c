//! Counts what a DynamoDB client sends, at the client: every attempt (the SDK's retries
//! included), by operation, and the writes the table refused on a condition or for a conflicting
//! transaction. Benches print the counts; tests assert on what an operation read.

use aws_sdk_dynamodb::config::interceptors::{BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::{BoxError, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A request as sent: its operation (`GetItem`, `Query` …) and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    pub operation: String,
    pub body: String,
}

#[derive(Debug, Default)]
struct Counts {
    by_operation: BTreeMap<String, u64>,
    refused: u64,
    /// Kept only when asked for (tests): a bench sends too many.
    log: Option<Vec<SentRequest>>,
}

/// Attach with [`StoreRequests::attach`]; clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct StoreRequests(Arc<Mutex<Counts>>);

impl StoreRequests {
    /// Counts only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts, and keeps every request's body.
    pub fn logging() -> Self {
        let requests = Self::default();
        requests.lock().log = Some(Vec::new());
        requests
    }

    /// A client like `client` whose requests are counted here.
    pub fn attach(&self, client: &aws_sdk_dynamodb::Client) -> aws_sdk_dynamodb::Client {
        let config = client.config().to_builder().interceptor(self.clone()).build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Requests sent, by operation.
    pub fn by_operation(&self) -> BTreeMap<String, u64> {
        self.lock().by_operation.clone()
    }

    pub fn total(&self) -> u64 {
        self.lock().by_operation.values().sum()
    }

    /// Writes (put, update, delete, transaction) sent.
    pub fn writes(&self) -> u64 {
        let counts = self.lock();
        ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"]
            .iter()
            .map(|op| counts.by_operation.get(*op).copied().unwrap_or(0))
            .sum()
    }

    /// Writes refused: a condition that did not hold, or a transaction cancelled.
    pub fn refused(&self) -> u64 {
        self.lock().refused
    }

    /// Every request since [`StoreRequests::logging`] or the last [`StoreRequests::reset`].
    pub fn log(&self) -> Vec<SentRequest> {
        self.lock().log.clone().unwrap_or_default()
    }

    pub fn reset(&self) {
        let mut counts = self.lock();
        counts.by_operation.clear();
        counts.refused = 0;
        if let Some(log) = counts.log.as_mut() {
            log.clear();
        }
    }
}

/// The DynamoDB operation a request calls (`GetItem`, `Query` …), from its target header.
pub(crate) fn operation(request: &aws_sdk_dynamodb::config::http::HttpRequest) -> String {
    request.headers().get("x-amz-target").and_then(|target| target.rsplit('.').next()).unwrap_or("unknown").to_owned()
}

/// A request's JSON body.
pub(crate) fn body(request: &aws_sdk_dynamodb::config::http::HttpRequest) -> String {
    request.body().bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
}

impl Intercept for StoreRequests {
    fn name(&self) -> &'static str {
        "StoreRequests"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let operation = operation(request);
        let mut counts = self.lock();
        if let Some(log) = counts.log.as_mut() {
            log.push(SentRequest { operation: operation.clone(), body: body(request) });
        }
        *counts.by_operation.entry(operation).or_default() += 1;
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Err(error)) = context.output_or_error() else { return Ok(()) };
        let Some(error) = error.as_operation_error() else { return Ok(()) };
        let code = error
            .downcast_ref::<PutItemError>()
            .and_then(|e| e.code())
            .or_else(|| error.downcast_ref::<UpdateItemError>().and_then(|e| e.code()))
            .or_else(|| error.downcast_ref::<DeleteItemError>().and_then(|e| e.code()))
            .or_else(|| error.downcast_ref::<TransactWriteItemsError>().and_then(|e| e.code()));
        if matches!(code, Some("ConditionalCheckFailedException" | "TransactionCanceledException")) {
            self.lock().refused += 1;
        }
        Ok(())
    }
}
