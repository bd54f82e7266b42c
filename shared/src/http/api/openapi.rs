//! The OpenAPI 3.1 document, generated from the routes themselves (`#[utoipa::path]` on each
//! handler, registered through the same `OpenApiRouter` that serves it), served at
//! `/api/v1/openapi.json`.
//!
//! Error responses follow from what every route shares rather than being repeated on each: the
//! extractors answer 400 for bad input and 401/403 for credentials, ids in paths can be unknown
//! (404), changes can conflict (409) or fail downstream (502), and the store can fail (503).
//! Likewise every create links to the operations on what it created, so that clients (and
//! schemathesis's stateful tests) can follow them.

use super::extract::Limit;
use super::{ApiState, Family};
use crate::domain::ids::{ClientId, ProcessId, StaffId, StockId};
use crate::domain::process::ProcessState;
use crate::domain::tracker::TrackerState;
use crate::http::problem::{FieldError, Problem};
use axum::http::header;
use axum::response::IntoResponse;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};
use utoipa::{Modify, OpenApi as _, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The name of the security scheme; its scopes are the role each operation needs.
pub const SCHEME: &str = "staff";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "ipo-advisory staff API",
        description = "The advisory firm's staff API: staff, clients, stocks, processes and their trackers, and the \
                       message, audit and error logs. Every operation needs `Authorization: Bearer <token>`; the \
                       scopes of `staff` name the least role it needs (viewer < operator < advisor < admin).",
    ),
    // What parameters refer to: parameters do not collect the schemas they name.
    components(schemas(Problem, FieldError, Limit, StaffId, ClientId, StockId, ProcessId, ProcessState, TrackerState)),
)]
struct ApiDoc;

/// The whole document: every family's routes.
pub fn document() -> &'static OpenApi {
    static DOCUMENT: LazyLock<OpenApi> = LazyLock::new(|| {
        let router =
            Family::ALL.iter().fold(OpenApiRouter::with_openapi(ApiDoc::openapi()), |r, f| r.merge(f.routes()));
        let mut document = router.into_openapi();
        Conventions.modify(&mut document);
        document
    });
    &DOCUMENT
}

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json() -> impl IntoResponse {
    static JSON: LazyLock<String> = LazyLock::new(|| document().to_json().unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], JSON.as_str())
}

struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SCHEME,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A Cognito ID token in AWS; a devserver token locally."))
                    .build(),
            ),
        );
        let schemas = components.schemas.clone();
        let mut on_items = Vec::new();
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                // Handler names repeat across families (`list`, `create`); operation ids may not.
                let tag = operation.tags.as_ref().and_then(|t| t.first()).cloned().unwrap_or_default();
                let id = format!("{tag}_{}", operation.operation_id.as_deref().unwrap_or_default());
                operation.operation_id = Some(id.clone());
                add_errors(operation, method, path.contains('{'));
                on_items.push((path.clone(), id, carried(operation, &schemas)));
            }
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let Some(created) = item.post.as_mut().and_then(|op| op.responses.responses.get_mut("201")) else {
                continue;
            };
            let RefOr::T(created) = created else { continue };
            let item_path = format!("{path}/{{id}}");
            for (target, id, carried) in
                on_items.iter().filter(|(p, _, _)| p == &item_path || p.starts_with(&format!("{item_path}/")))
            {
                if target.matches('{').count() == 1 {
                    let link = LinkBuilder::new()
                        .operation_id(id)
                        .parameter("id", "$response.body#/value/id")
                        .request_body(body_from_created(carried))
                        .build();
                    created.links.insert(id.clone(), link.into());
                }
            }
            // A create whose record another create names: that one can follow with its id.
            for (field, target) in NAMED_BY.iter().filter(|(_, target)| target.0 == path.as_str()) {
                let (_, operation_id) = target;
                let link = LinkBuilder::new()
                    .operation_id(*operation_id)
                    .request_body(Some(serde_json::json!({ *field: "$response.body#/value/id" })))
                    .build();
                created.links.insert((*operation_id).to_owned(), link.into());
            }
        }
    }
}

/// The creates that name another create's record: (the field, (the named record's collection,
/// the create naming it)).
const NAMED_BY: [(&str, (&str, &str)); 2] =
    [("representative", ("/api/v1/staff", "clients_create")), ("stock_id", ("/api/v1/stocks", "processes_create"))];

/// The fields of an operation's JSON body a link from a create fills from what it created: its
/// `id`, the `version` a change must send, and the records it names.
fn carried(operation: &Operation, schemas: &BTreeMap<String, RefOr<Schema>>) -> Vec<&'static str> {
    let Some(RefOr::Ref(reference)) = operation
        .request_body
        .as_ref()
        .and_then(|b| match b {
            RefOr::T(body) => body.content.get("application/json"),
            RefOr::Ref(_) => None,
        })
        .and_then(|c| match c {
            RefOr::T(content) => content.schema.as_ref(),
            RefOr::Ref(_) => None,
        })
    else {
        return Vec::new();
    };
    let name = reference.ref_location.rsplit('/').next().unwrap_or_default();
    let Some(RefOr::T(Schema::Object(object))) = schemas.get(name) else { return Vec::new() };
    ["id", "version", "representative", "stock_id"].into_iter().filter(|f| object.properties.contains_key(*f)).collect()
}

fn body_from_created(fields: &[&str]) -> Option<serde_json::Value> {
    let body: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|f| {
            let at = if *f == "version" {
                "$response.body#/version".to_owned()
            } else {
                format!("$response.body#/value/{f}")
            };
            ((*f).to_owned(), at.into())
        })
        .collect();
    (!body.is_empty()).then_some(body.into())
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, &mut item.get),
        (HttpMethod::Post, &mut item.post),
        (HttpMethod::Put, &mut item.put),
        (HttpMethod::Delete, &mut item.delete),
    ]
    .into_iter()
    .filter_map(|(method, op)| Some((method, op.as_mut()?)))
}

fn add_errors(operation: &mut Operation, method: HttpMethod, has_id: bool) {
    let public = operation.security.as_ref().is_some_and(|s| s.iter().all(|r| r == &Default::default()));
    if public {
        return;
    }
    let mut errors = vec![
        ("400", "Invalid input: `errors` names each field"),
        ("401", "No valid credentials"),
        ("403", "The caller's role is below the one this operation needs"),
        ("503", "The store failed; try again"),
    ];
    if has_id {
        errors.push(("404", "Not found"));
    }
    if method != HttpMethod::Get {
        errors.push(("409", "Conflicts with the current state or version: read again and retry"));
        errors.push(("413", "Too large to store"));
        errors.push(("502", "Telegram or the scheduler failed"));
    }
    for (status, description) in errors {
        operation.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description).into());
    }
}

/// An `application/problem+json` response.
pub(super) fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
        )
        .build()
}

/// A stored record, with the version a change must send back.
#[derive(ToSchema)]
#[allow(dead_code)] // describes responses; handlers serialise the domain's `Versioned`
pub(super) struct Stored {
    #[schema(value_type = Object)]
    value: (),
    #[schema(minimum = 1)]
    version: u64,
}

/// One page of a list; `next` is the cursor of the following page, null on the last.
#[derive(ToSchema)]
#[allow(dead_code)] // describes responses; handlers serialise the store's `Page`
pub(super) struct Listing {
    #[schema(value_type = Vec<Object>)]
    items: (),
    next: Option<String>,
}
