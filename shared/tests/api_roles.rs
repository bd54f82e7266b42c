//! The role each staff API operation needs, pinned in one table written from the role column of
//! `docs/api.md`: the table must equal what the docs say, what the OpenAPI document says (each
//! operation's security scope) and what the router enforces (no token is 401, a token one role
//! below is 403, the role itself is let through). Lowering a role in a handler and its
//! `#[utoipa::path]` annotation together therefore still fails here.

#![allow(clippy::unwrap_used)] // fixtures built from literals

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use shared::domain::staff::Role;
use shared::http::api::Family;
use shared::http::api::auth::{Principal, StaticTokens};
use std::collections::BTreeMap;
use std::sync::Arc;
use support::*;
use testkit::fake_telegram::FakeConfig;
use tower::ServiceExt;

use Role::{Admin, Advisor, Operator, Viewer};

/// Every operation of the staff API and the least role it needs (`None`: public).
const ROLES: &[(&str, &str, Option<Role>)] = &[
    // The load balancer's liveness check, outside the API and its document.
    ("GET", "/healthz", None),
    ("GET", "/api/v1/openapi.json", None),
    ("GET", "/api/v1/staff", Some(Viewer)),
    ("GET", "/api/v1/staff/{id}", Some(Viewer)),
    ("POST", "/api/v1/staff", Some(Admin)),
    ("PUT", "/api/v1/staff/{id}", Some(Admin)),
    ("GET", "/api/v1/clients", Some(Viewer)),
    ("GET", "/api/v1/clients/{id}", Some(Viewer)),
    ("POST", "/api/v1/clients", Some(Admin)),
    ("PUT", "/api/v1/clients/{id}", Some(Admin)),
    ("POST", "/api/v1/clients/{id}/link-code", Some(Operator)),
    ("DELETE", "/api/v1/clients/{id}/link-code", Some(Operator)),
    ("GET", "/api/v1/clients/{id}/messages", Some(Viewer)),
    ("GET", "/api/v1/stocks", Some(Viewer)),
    ("GET", "/api/v1/stocks/{id}", Some(Viewer)),
    ("POST", "/api/v1/stocks", Some(Advisor)),
    ("POST", "/api/v1/stocks/{id}/final-price", Some(Advisor)),
    ("PUT", "/api/v1/stocks/{id}/schedule", Some(Advisor)),
    ("POST", "/api/v1/stocks/{id}/withdraw", Some(Advisor)),
    ("POST", "/api/v1/stocks/{id}/sell-plan", Some(Advisor)),
    ("GET", "/api/v1/stocks/{id}/result", Some(Viewer)),
    ("GET", "/api/v1/processes", Some(Viewer)),
    ("GET", "/api/v1/processes/{id}", Some(Viewer)),
    ("POST", "/api/v1/processes", Some(Advisor)),
    ("POST", "/api/v1/processes/{id}/advice", Some(Advisor)),
    ("POST", "/api/v1/processes/{id}/audience", Some(Advisor)),
    ("POST", "/api/v1/processes/{id}/schedule", Some(Advisor)),
    ("POST", "/api/v1/processes/{id}/start", Some(Advisor)),
    ("POST", "/api/v1/processes/{id}/pause", Some(Advisor)),
    ("POST", "/api/v1/processes/{id}/resume", Some(Advisor)),
    ("POST", "/api/v1/processes/{id}/cancel", Some(Advisor)),
    ("POST", "/api/v1/processes/{id}/unschedule", Some(Advisor)),
    ("GET", "/api/v1/processes/{id}/trackers", Some(Viewer)),
    ("POST", "/api/v1/processes/{id}/trackers/{client}/remind", Some(Operator)),
    ("POST", "/api/v1/processes/{id}/trackers/{client}/confirm", Some(Operator)),
    ("GET", "/api/v1/bot", Some(Viewer)),
    ("POST", "/api/v1/bot/stop", Some(Operator)),
    ("POST", "/api/v1/bot/resume", Some(Advisor)),
    ("GET", "/api/v1/audit", Some(Admin)),
    ("GET", "/api/v1/errors", Some(Operator)),
];

const TOKENS: [(Role, &str); 4] =
    [(Viewer, "viewer-token"), (Operator, "operator-token"), (Advisor, "advisor-token"), (Admin, "admin-token")];

type Table = BTreeMap<(String, String), Option<Role>>;

fn table() -> Table {
    let mut out = Table::new();
    for (method, path, role) in ROLES {
        let previous = out.insert(((*method).to_owned(), (*path).to_owned()), *role);
        assert_eq!(previous, None, "{method} {path} is in the table twice");
    }
    out
}

/// What the OpenAPI document says each operation needs: its security scope.
fn documented() -> Table {
    let document = serde_json::to_value(shared::http::api::openapi::document()).unwrap();
    let mut out = Table::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let scopes = operation["security"][0][shared::http::api::openapi::SCHEME].as_array();
            let role = scopes.map(|s| {
                assert_eq!(s.len(), 1, "{method} {path} names one role: {s:?}");
                serde_json::from_value::<Role>(s[0].clone()).unwrap()
            });
            out.insert((method.to_uppercase(), path.clone()), role);
        }
    }
    out
}

/// The table in `docs/api.md` (`| method | path | role | what |`), its shorthand expanded: several
/// methods or paths in one row, `[?query]` left out, `{a,b}` for one path per name.
fn in_the_docs() -> Table {
    let docs = std::fs::read_to_string("../docs/api.md").unwrap();
    let mut out = Table::new();
    for row in docs.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (methods, paths, role) = (cells[1], cells[2], cells[3]);
        if methods == "method" || methods.starts_with('-') {
            continue;
        }
        let role = match role {
            "none" => None,
            named => Some(serde_json::from_value::<Role>(serde_json::Value::from(named)).unwrap()),
        };
        let methods: Vec<&str> = methods.split(", ").collect();
        let paths: Vec<&str> = paths.split(", ").map(|p| p.trim_matches('`').split('[').next().unwrap()).collect();
        // `POST, PUT | /staff, /staff/{id}` pairs them; one method applies to every path.
        let pairs: Vec<(&str, &str)> = if methods.len() == paths.len() {
            methods.into_iter().zip(paths).collect()
        } else {
            assert_eq!(methods.len(), 1, "{row}");
            paths.into_iter().map(|p| (methods[0], p)).collect()
        };
        for (method, path) in pairs {
            for path in expand(path) {
                // Everything but the liveness check is under /api/v1.
                let path = if path == "/healthz" { path } else { format!("/api/v1{path}") };
                out.insert((method.to_owned(), path), role);
            }
        }
    }
    out
}

/// `/p/{id}/{a,b}` → `/p/{id}/a`, `/p/{id}/b`.
fn expand(path: &str) -> Vec<String> {
    let mut at = 0;
    while let Some(start) = path[at..].find('{').map(|i| i + at) {
        let end = path[start..].find('}').unwrap() + start;
        if path[start..end].contains(',') {
            return path[start + 1..end]
                .split(',')
                .flat_map(|name| expand(&format!("{}{name}{}", &path[..start], &path[end + 1..])))
                .collect();
        }
        at = end;
    }
    vec![path.to_owned()]
}

fn differences(a: &Table, b: &Table) -> Vec<String> {
    let mut out = Vec::new();
    for (key, role) in a {
        match b.get(key) {
            None => out.push(format!("{} {}: only in the first", key.0, key.1)),
            Some(other) if other != role => out.push(format!("{} {}: {role:?} against {other:?}", key.0, key.1)),
            Some(_) => {}
        }
    }
    out.extend(b.keys().filter(|k| !a.contains_key(*k)).map(|k| format!("{} {}: only in the second", k.0, k.1)));
    out
}

#[test]
fn the_table_is_the_docs_role_column() {
    let differ = differences(&table(), &in_the_docs());
    assert!(differ.is_empty(), "the table (first) against docs/api.md (second):\n{}", differ.join("\n"));
}

#[test]
fn the_table_is_what_the_openapi_document_says() {
    let api: Table = table().into_iter().filter(|((_, path), _)| path.starts_with("/api/v1/")).collect();
    let differ = differences(&api, &documented());
    assert!(differ.is_empty(), "the table (first) against the OpenAPI document (second):\n{}", differ.join("\n"));
}

async fn status(router: &axum::Router, method: &str, path: &str, token: Option<&str>) -> StatusCode {
    let mut request = Request::builder()
        .method(method.parse::<Method>().unwrap())
        .uri(path)
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    router.clone().oneshot(request.body(Body::from("{}")).unwrap()).await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_enforces_the_table() {
    let bed = bed(FakeConfig::default().without_limits(), no_pacing()).await;
    let mut auth = StaticTokens::default();
    for (role, token) in TOKENS {
        auth = auth.with(token, Principal { name: format!("{role:?}"), role, staff_id: "ops-kim".parse().ok() });
    }
    let router = shared::http::health().merge(shared::http::api::serve(&Family::ALL, bed.app.clone(), Arc::new(auth)));
    for (method, template, needed) in ROLES {
        let path = template.replace("{id}", "x1").replace("{client}", "c1");
        let Some(needed) = needed else {
            assert_eq!(status(&router, method, &path, None).await, StatusCode::OK, "{method} {path} is public");
            continue;
        };
        assert_eq!(status(&router, method, &path, None).await, StatusCode::UNAUTHORIZED, "{method} {path}");
        let below = TOKENS.iter().rev().find(|(role, _)| role < needed);
        if let Some((role, token)) = below {
            let got = status(&router, method, &path, Some(token)).await;
            assert_eq!(got, StatusCode::FORBIDDEN, "{method} {path} needs {needed:?}, refused to {role:?}");
        }
        let token = TOKENS.iter().find(|(role, _)| role == needed).map(|(_, t)| *t);
        let got = status(&router, method, &path, token).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&got),
            "{method} {path} is for {needed:?}, which got {got}"
        );
    }
}
