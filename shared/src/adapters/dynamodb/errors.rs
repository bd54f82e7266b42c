//! DynamoDB's errors, sorted into what the store needs to tell apart.

use super::Item;
use crate::ports::store::StoreError;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use std::fmt::Debug;

/// An operation's error type, able to say whether a condition check failed.
pub(super) trait OperationError: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static {
    /// `Some(old item, if returned)` when the request's condition did not hold.
    fn condition_failed(&self) -> Option<Option<Item>> {
        None
    }
}

impl OperationError for PutItemError {
    fn condition_failed(&self) -> Option<Option<Item>> {
        match self {
            PutItemError::ConditionalCheckFailedException(e) => Some(e.item.clone()),
            _ => None,
        }
    }
}

impl OperationError for UpdateItemError {
    fn condition_failed(&self) -> Option<Option<Item>> {
        match self {
            UpdateItemError::ConditionalCheckFailedException(e) => Some(e.item.clone()),
            _ => None,
        }
    }
}

impl OperationError for DeleteItemError {
    fn condition_failed(&self) -> Option<Option<Item>> {
        match self {
            DeleteItemError::ConditionalCheckFailedException(e) => Some(e.item.clone()),
            _ => None,
        }
    }
}

macro_rules! plain_operation_errors {
    ($($t:path),*) => { $(impl OperationError for $t {})* };
}

plain_operation_errors!(
    aws_sdk_dynamodb::operation::get_item::GetItemError,
    aws_sdk_dynamodb::operation::query::QueryError,
    aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemError,
    aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemError
);

#[derive(Debug)]
pub(super) enum ErrorKind {
    ConditionFailed(Option<Item>),
    TooLarge(String),
    Other(String),
}

pub(super) fn classify<E: OperationError, R: Debug>(err: SdkError<E, R>) -> ErrorKind {
    match err {
        SdkError::ServiceError(service) => {
            let e = service.into_err();
            if let Some(old) = e.condition_failed() {
                return ErrorKind::ConditionFailed(old);
            }
            let message = e.message().unwrap_or_default().to_owned();
            match e.code() {
                Some("ValidationException") if message.contains("size") => ErrorKind::TooLarge(message),
                Some(code) => ErrorKind::Other(format!("{code}: {message}")),
                None => ErrorKind::Other(DisplayErrorContext(&e).to_string()),
            }
        }
        other => ErrorKind::Other(DisplayErrorContext(&other).to_string()),
    }
}

/// A conditional write's outcome: `None` when its condition did not hold (the usual "already there"
/// or "not there"), any other failure as the store's error.
pub(super) fn unless_condition_failed<T, E: OperationError, R: Debug>(
    result: Result<T, SdkError<E, R>>,
    entity: &'static str,
    id: &str,
) -> Result<Option<T>, StoreError> {
    match result {
        Ok(output) => Ok(Some(output)),
        Err(e) => match classify(e) {
            ErrorKind::ConditionFailed(_) => Ok(None),
            other => Err(other.into_store_error(entity, id)),
        },
    }
}

impl ErrorKind {
    pub(super) fn into_store_error(self, entity: &'static str, id: &str) -> StoreError {
        match self {
            ErrorKind::ConditionFailed(_) => {
                StoreError::Conflict { entity, id: id.to_owned(), detail: "its stored state no longer matches".into() }
            }
            // Our own size check runs first; this is DynamoDB counting a little differently.
            ErrorKind::TooLarge(message) => {
                StoreError::Unavailable(format!("DynamoDB refused {entity} {id} as too large: {message}"))
            }
            ErrorKind::Other(message) => StoreError::Unavailable(message),
        }
    }
}
