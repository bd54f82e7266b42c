//! The API's path extractors ([`Id`], [`Ids`]), answering a malformed id as the dashboard does:
//! the same 400 naming the field, as a sentence in the flash area instead of problem+json.

use super::{WebError, WebState};
use crate::http::api::extract;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::fmt::Display;
use std::str::FromStr;

/// The path's `{id}`, parsed as the API's [`extract::Id`].
pub struct Id<T>(pub T);

impl<T: FromStr + Send> FromRequestParts<WebState> for Id<T>
where
    T::Err: Display,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, WebError> {
        let extract::Id(id) = extract::Id::from_request_parts(parts, state).await?;
        Ok(Id(id))
    }
}

/// The path's `{id}` and `{client}`, parsed as the API's [`extract::Ids`].
pub struct Ids<A, B>(pub A, pub B);

impl<A: FromStr + Send, B: FromStr + Send> FromRequestParts<WebState> for Ids<A, B>
where
    A::Err: Display,
    B::Err: Display,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, WebError> {
        let extract::Ids(a, b) = extract::Ids::from_request_parts(parts, state).await?;
        Ok(Ids(a, b))
    }
}

/// A path id beside others (`{index}`), parsed as the API parses one.
pub fn path_id<T: FromStr>(field: &str, raw: &str) -> Result<T, WebError>
where
    T::Err: Display,
{
    Ok(extract::id(field, raw)?)
}
