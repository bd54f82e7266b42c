//! Store failures on demand, at a DynamoDB client: the next request of an operation whose body
//! holds a given text fails, either before it reaches the table (a throttle, an outage: nothing
//! was written) or after the table applied it (a timeout: the write landed, its answer was lost).
//! The failure reaches the caller as the SDK's own error for that request, after the SDK's retries.

use crate::store_requests::{body, operation};
use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The request never reaches the table.
    Refused,
    /// The table applies the request; its answer is lost on the way back.
    AnswerLost,
}

#[derive(Debug, Clone)]
struct Fault {
    operation: String,
    contains: String,
    kind: FaultKind,
}

#[derive(Debug, Default)]
struct State {
    armed: Vec<Fault>,
    injected: Vec<String>,
}

/// Put in the request's own config bag: this request's answer is to be lost.
#[derive(Debug, Clone)]
struct LoseAnswer;

impl Storable for LoseAnswer {
    type Storer = StoreReplace<Self>;
}

/// Attach with [`StoreFaults::attach`]; clones share the armed faults.
#[derive(Debug, Clone, Default)]
pub struct StoreFaults(Arc<Mutex<State>>);

impl StoreFaults {
    pub fn new() -> Self {
        Self::default()
    }

    /// A client like `client` whose requests can be made to fail here.
    pub fn attach(&self, client: &aws_sdk_dynamodb::Client) -> aws_sdk_dynamodb::Client {
        let config = client.config().to_builder().interceptor(self.clone()).build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next `operation` request (`TransactWriteItems`, `Query` …) whose JSON body contains
    /// `contains` fails as `kind`, once.
    pub fn fail_next(&self, operation: &str, contains: &str, kind: FaultKind) {
        self.lock().armed.push(Fault { operation: operation.to_owned(), contains: contains.to_owned(), kind });
    }

    /// Faults armed and not yet met.
    pub fn armed(&self) -> usize {
        self.lock().armed.len()
    }

    /// What failed so far: `operation kind` per fault.
    pub fn injected(&self) -> Vec<String> {
        self.lock().injected.clone()
    }

    pub fn clear(&self) {
        self.lock().armed.clear();
    }
}

impl Intercept for StoreFaults {
    fn name(&self) -> &'static str {
        "StoreFaults"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let (operation, body) = (operation(request), body(request));
        let mut state = self.lock();
        let Some(index) = state.armed.iter().position(|f| f.operation == operation && body.contains(&f.contains))
        else {
            return Ok(());
        };
        let fault = state.armed.remove(index);
        state.injected.push(format!("{operation} {:?}", fault.kind));
        match fault.kind {
            FaultKind::Refused => Err(format!("injected: {operation} refused before reaching the table").into()),
            FaultKind::AnswerLost => {
                cfg.interceptor_state().store_put(LoseAnswer);
                Ok(())
            }
        }
    }

    fn read_before_deserialization(
        &self,
        _: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match cfg.load::<LoseAnswer>() {
            Some(_) => Err("injected: the table applied the request but its answer was lost".into()),
            None => Ok(()),
        }
    }
}
