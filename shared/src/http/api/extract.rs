//! Request parts read the API's way: bad JSON, ids and query strings become problem+json naming the
//! field, never axum's plain-text rejections.

use super::ApiState;
use crate::http::problem::Problem;
use crate::ports::store::{Cursor, PageRequest};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::str::FromStr;

/// A JSON body; a malformed one is a 400 naming where it broke.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<ApiState> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Problem> {
        let bytes =
            axum::body::Bytes::from_request(req, state).await.map_err(|e| Problem::bad_request(e.body_text()))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize::<_, T>(de).map(Body).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.to_string();
            if !inner.is_data() {
                return Problem::bad_request(format!("the body is not JSON: {message}"));
            }
            // A missing field is reported at its parent; serde names it in backquotes.
            let field = if path == "." {
                message.strip_prefix("missing field `").and_then(|m| m.split('`').next()).unwrap_or("body").to_owned()
            } else {
                path
            };
            Problem::bad_request(format!("the body is not valid: {message}")).field(&field, message)
        })
    }
}

/// The query string as a map; each route reads what it needs.
pub struct Params(pub HashMap<String, String>);

impl FromRequestParts<ApiState> for Params {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &ApiState) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str::<HashMap<String, String>>(query)
            .map(Params)
            .map_err(|e| Problem::bad_request(format!("the query string is not valid: {e}")))
    }
}

impl Params {
    pub fn page(&self) -> Result<PageRequest, Problem> {
        let limit = match self.0.get("limit") {
            None => None,
            Some(v) => Some(v.parse::<u32>().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| {
                Problem::bad_request("limit must be a whole number from 1 to 100").field("limit", "1 to 100")
            })?),
        };
        Ok(PageRequest { limit, cursor: self.0.get("cursor").map(|c| Cursor(c.clone())) })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// A path id of any of our id types; a malformed one is a 400 naming it.
pub fn id<T: FromStr>(field: &str, value: &str) -> Result<T, Problem>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| Problem::bad_request(format!("invalid {field}")).field(field, e.to_string()))
}
