//! Request parts read the API's way: bad JSON, ids and query strings become problem+json naming the
//! field, never axum's plain-text rejections.

use super::ApiState;
use crate::app::AppError;
use crate::http::problem::Problem;
use crate::ports::store::{Cursor, PageRequest, StoreError};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::str::FromStr;
use utoipa::ToSchema;

/// A JSON object as the body; a malformed one is a 400 naming where it broke. Only an object:
/// serde would also read a struct from an array of its fields in order.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<ApiState> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Problem> {
        let bytes =
            axum::body::Bytes::from_request(req, state).await.map_err(|e| Problem::bad_request(e.body_text()))?;
        json_object(&bytes).map(Body)
    }
}

/// Reads a JSON object into `T`, naming where it broke.
fn json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Problem::bad_request("the body must be a JSON object").field("body", "not an object"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let read = serde_path_to_error::deserialize::<_, T>(de);
    // JSON Schema counts `2.0` as the integer 2; serde reads it only into a float. A body refused
    // for that is read again with its whole floats written as integers.
    let read = match read {
        Err(e) if e.inner().is_data() => match whole_floats_as_integers(bytes) {
            Some(value) => serde_path_to_error::deserialize::<_, T>(value).or(Err(e)),
            None => Err(e),
        },
        read => read,
    };
    read.map_err(|e| {
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

/// The body as a JSON value with every whole float (`2.0`) an integer, when it has any.
fn whole_floats_as_integers(bytes: &[u8]) -> Option<serde_json::Value> {
    fn walk(value: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match value {
            Value::Number(n) if n.is_f64() => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // Only where a float spells its integer exactly (below 2^53).
                if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 {
                    #[allow(clippy::cast_possible_truncation)]
                    let whole = f as i64;
                    *value = Value::from(whole);
                    true
                } else {
                    false
                }
            }
            Value::Array(items) => items.iter_mut().fold(false, |any, v| walk(v) | any),
            Value::Object(fields) => fields.values_mut().fold(false, |any, v| walk(v) | any),
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    walk(&mut value).then_some(value)
}

/// [`Body`], where no body at all means `T::default()` (`confirm` without a body confirms what
/// the client sent).
pub struct OptionalBody<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<ApiState> for OptionalBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Problem> {
        let bytes =
            axum::body::Bytes::from_request(req, state).await.map_err(|e| Problem::bad_request(e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(T::default()));
        }
        json_object(&bytes).map(OptionalBody)
    }
}

/// A query string read into `T`; a malformed one is a 400 naming the parameter.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<ApiState> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &ApiState) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(de).map(Query).map_err(|e| {
            let field = e.path().to_string();
            let message = e.into_inner().to_string();
            Problem::bad_request(format!("the query string is not valid: {message}")).field(&field, message)
        })
    }
}

/// How many items a page holds: 1 to 100.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(try_from = "u32")]
#[schema(value_type = u32, minimum = 1, maximum = 100)]
pub struct Limit(u32);

impl TryFrom<u32> for Limit {
    type Error = &'static str;
    fn try_from(n: u32) -> Result<Self, Self::Error> {
        if (1..=100).contains(&n) { Ok(Limit(n)) } else { Err("limit must be from 1 to 100") }
    }
}

/// Where a page starts: `next` from the page before, opaque.
pub fn page(limit: Option<Limit>, cursor: Option<String>) -> PageRequest {
    PageRequest { limit: limit.map(|l| l.0), cursor: cursor.map(Cursor) }
}

/// The path's `{id}`, parsed before the body is read: a malformed one is a 400 naming `id`.
pub struct Id<T>(pub T);

impl<T: FromStr + Send> FromRequestParts<ApiState> for Id<T>
where
    T::Err: std::fmt::Display,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Problem> {
        let Path(raw) =
            Path::<String>::from_request_parts(parts, state).await.map_err(|e| Problem::bad_request(e.body_text()))?;
        id("id", &raw).map(Id)
    }
}

/// The path's `{id}` and `{client}`, parsed like [`Id`].
pub struct Ids<A, B>(pub A, pub B);

impl<A: FromStr + Send, B: FromStr + Send> FromRequestParts<ApiState> for Ids<A, B>
where
    A::Err: std::fmt::Display,
    B::Err: std::fmt::Display,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Problem> {
        let Path((a, b)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|e| Problem::bad_request(e.body_text()))?;
        Ok(Ids(id("id", &a)?, id("client", &b)?))
    }
}

/// A path id of any of our id types; a malformed one is a 400 naming it.
pub fn id<T: FromStr>(field: &str, value: &str) -> Result<T, Problem>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| Problem::bad_request(format!("invalid {field}")).field(field, e.to_string()))
}

/// For a create: the id given, or a new one. A `version` is refused: a new record has none.
pub fn new_record<I>(id: Option<I>, version: Option<u64>, generate: fn() -> I) -> Result<I, Problem> {
    if version.is_some() {
        return Err(Problem::bad_request("a new record has no version").field("version", "only for updates"));
    }
    Ok(id.unwrap_or_else(generate))
}

/// For an update: the version read, required. An `id` in the body must be the path's.
pub fn revision<I: PartialEq>(path_id: &I, body_id: Option<&I>, version: Option<u64>) -> Result<u64, Problem> {
    if body_id.is_some_and(|id| id != path_id) {
        return Err(Problem::bad_request("the id in the body is not the one in the path").field("id", "not the path's"));
    }
    version.ok_or_else(|| Problem::bad_request("send the version you read").field("version", "required"))
}

/// A record the body refers to: missing, it is the body's mistake (400 naming the field), not an
/// unknown resource (404).
pub fn referenced<T>(found: Result<T, StoreError>, field: &str) -> Result<T, Problem> {
    found.map_err(|e| match e {
        StoreError::NotFound { .. } => Problem::bad_request(e.to_string()).field(field, "no such record"),
        e => AppError::from(e).into(),
    })
}
