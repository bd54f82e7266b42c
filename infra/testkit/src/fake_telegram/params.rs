//! Request parameters in any of the four encodings the Bot API accepts.
//!
//! Real clients differ: some post JSON, some forms, uploads must be multipart, and quick scripts
//! use the query string. Telegram treats them alike (a JSON-serialized field such as
//! `reply_markup` arrives as a string in forms), so handlers here read parameters through
//! coercing getters and never care how they came.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

use super::ApiError;

/// A file part of a multipart request.
#[derive(Debug, Clone)]
pub(super) struct Upload {
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

#[derive(Debug, Clone)]
pub(super) enum Param {
    /// A field of a JSON body: already typed.
    Json(Value),
    /// A form, multipart or query field: always a string.
    Text(String),
    File(Upload),
}

#[derive(Debug, Default)]
pub(super) struct Params(HashMap<String, Param>);

impl Params {
    pub(super) fn get(&self, name: &str) -> Option<&Param> {
        self.0.get(name)
    }

    /// Present and not empty: Telegram treats an empty form field as absent.
    pub(super) fn has(&self, name: &str) -> bool {
        match self.0.get(name) {
            None | Some(Param::Json(Value::Null)) => false,
            Some(Param::Text(s)) | Some(Param::Json(Value::String(s))) => !s.is_empty(),
            Some(_) => true,
        }
    }

    pub(super) fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Param::Text(s) | Param::Json(Value::String(s)) => Some(s.clone()),
            Param::Json(Value::Number(n)) => Some(n.to_string()),
            Param::Json(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A non-empty string parameter.
    pub(super) fn non_empty(&self, name: &str) -> Option<String> {
        self.str(name).filter(|s| !s.is_empty())
    }

    pub(super) fn int(&self, name: &str) -> Option<i64> {
        match self.0.get(name)? {
            Param::Json(Value::Number(n)) => n.as_i64(),
            Param::Text(s) | Param::Json(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub(super) fn bool(&self, name: &str) -> bool {
        match self.0.get(name) {
            Some(Param::Json(Value::Bool(b))) => *b,
            Some(Param::Json(Value::Number(n))) => n.as_i64().is_some_and(|n| n != 0),
            Some(Param::Text(s)) | Some(Param::Json(Value::String(s))) => {
                matches!(s.to_ascii_lowercase().as_str(), "true" | "1")
            }
            _ => false,
        }
    }

    /// A JSON-serialized parameter: an object or array in a JSON body, a JSON string otherwise.
    /// `Some(Err(()))` when present but not JSON.
    pub(super) fn json(&self, name: &str) -> Option<Result<Value, ()>> {
        if !self.has(name) {
            return None;
        }
        Some(match self.0.get(name)? {
            Param::Json(Value::String(s)) | Param::Text(s) => serde_json::from_str(s).map_err(|_| ()),
            Param::Json(v) => Ok(v.clone()),
            Param::File(_) => Err(()),
        })
    }

    pub(super) fn upload(&self, name: &str) -> Option<&Upload> {
        match self.0.get(name)? {
            Param::File(u) => Some(u),
            _ => None,
        }
    }

    /// The parameters as JSON for the call log; uploads appear as their name and size.
    pub(super) fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in &self.0 {
            let v = match v {
                Param::Json(v) => v.clone(),
                Param::Text(s) => Value::String(s.clone()),
                Param::File(u) => json!({
                    "file_name": u.file_name,
                    "content_type": u.content_type,
                    "size": u.bytes.len(),
                }),
            };
            m.insert(k.clone(), v);
        }
        Value::Object(m)
    }

    fn insert_pairs(&mut self, raw: &[u8]) -> Result<(), ApiError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(raw).map_err(|_| ApiError::bad_request("can't parse form data"))?;
        for (k, v) in pairs {
            self.0.insert(k, Param::Text(v));
        }
        Ok(())
    }

    /// Reads the query string and the body. Body fields win over query fields of the same name.
    pub(super) async fn from_request(req: Request, limit: usize) -> Result<Params, ApiError> {
        let mut params = Params::default();
        if let Some(query) = req.uri().query() {
            params.insert_pairs(query.as_bytes())?;
        }
        let content_type =
            req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        let mime = content_type.split(';').next().unwrap_or("").trim().to_owned();

        if mime == "multipart/form-data" {
            let mut multipart = Multipart::from_request(req, &())
                .await
                .map_err(|_| ApiError::bad_request("can't parse multipart/form-data"))?;
            loop {
                let field = match multipart.next_field().await {
                    Ok(Some(field)) => field,
                    Ok(None) => break,
                    Err(e) => return Err(multipart_error(e.status().as_u16())),
                };
                let Some(name) = field.name().map(str::to_owned) else {
                    continue;
                };
                let file_name = field.file_name().map(str::to_owned);
                let content_type = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|e| multipart_error(e.status().as_u16()))?;
                let param = match file_name {
                    Some(file_name) => Param::File(Upload { file_name: Some(file_name), content_type, bytes }),
                    None => Param::Text(String::from_utf8_lossy(&bytes).into_owned()),
                };
                params.0.insert(name, param);
            }
            return Ok(params);
        }

        let body = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ApiError::new(413, "Request Entity Too Large"))?;
        if body.is_empty() {
            return Ok(params);
        }
        if mime == "application/json" {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(fields)) => {
                    for (k, v) in fields {
                        params.0.insert(k, Param::Json(v));
                    }
                }
                _ => return Err(ApiError::bad_request("can't parse JSON object")),
            }
        } else if mime == "application/x-www-form-urlencoded" {
            params.insert_pairs(&body)?;
        }
        Ok(params)
    }
}

fn multipart_error(status: u16) -> ApiError {
    if status == 413 {
        ApiError::new(413, "Request Entity Too Large")
    } else {
        ApiError::bad_request("can't parse multipart/form-data")
    }
}
