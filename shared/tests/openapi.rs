//! The OpenAPI document: generated from the routes, so it lists exactly what is served, split into
//! families that do not overlap.

#![allow(clippy::unwrap_used)] // the document is ours

use serde_json::Value;
use shared::http::api::Family;
use shared::http::api::openapi::{SCHEME, document};
use std::collections::BTreeSet;

fn json() -> Value {
    serde_json::to_value(document()).unwrap()
}

#[test]
fn the_document_is_openapi_3_1_with_every_operation_secured_by_role() {
    let doc = json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["components"]["securitySchemes"][SCHEME]["scheme"], "bearer");
    let roles = ["viewer", "operator", "advisor", "admin"];
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for (method, op) in item.as_object().unwrap() {
            let scopes = &op["security"][0];
            if path == "/api/v1/openapi.json" {
                assert_eq!(scopes, &serde_json::json!({}), "the document itself is public");
                continue;
            }
            let role = scopes[SCHEME][0].as_str().unwrap_or_default();
            assert!(roles.contains(&role), "{method} {path} names its role, not {role:?}");
            for status in ["400", "401", "403", "503"] {
                let content = &op["responses"][status]["content"]["application/problem+json"];
                assert!(content.is_object(), "{method} {path} documents {status} as problem+json");
            }
            let success = ["200", "201", "204"].iter().any(|s| op["responses"][s].is_object());
            assert!(success, "{method} {path} documents its success");
        }
    }
}

#[test]
fn every_schema_referenced_is_defined() {
    let doc = json();
    let text = doc.to_string();
    let defined: BTreeSet<&str> =
        doc["components"]["schemas"].as_object().unwrap().keys().map(String::as_str).collect();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(defined.contains(name), "{name} is referenced but not defined");
    }
}

#[test]
fn families_split_the_paths_without_overlap() {
    let all: BTreeSet<String> = json()["paths"].as_object().unwrap().keys().cloned().collect();
    let mut seen = BTreeSet::new();
    for family in Family::ALL {
        for path in family.paths() {
            assert!(seen.insert(path.clone()), "{path} is served by two families");
        }
        assert_eq!(family.to_string().parse::<Family>().unwrap(), family);
    }
    assert_eq!(seen, all);
    assert!("everything".parse::<Family>().is_err());
}

#[test]
fn operation_ids_are_unique_and_creates_link_to_what_they_created() {
    let doc = json();
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap().to_owned();
            assert!(ids.insert(id.clone()), "{id} twice");
        }
    }
    let links = &doc["paths"]["/api/v1/processes"]["post"]["responses"]["201"]["links"];
    assert_eq!(links["processes_read"]["parameters"]["id"], "$response.body#/value/id");
    assert!(links["processes_start"].is_object() && links["processes_load_advice"].is_object());
    for created in ["/api/v1/staff", "/api/v1/clients", "/api/v1/stocks"] {
        let links = doc["paths"][created]["post"]["responses"]["201"]["links"].as_object().unwrap();
        assert!(links.values().all(|l| ids.contains(l["operationId"].as_str().unwrap())), "{created}");
        assert!(!links.is_empty(), "{created}");
    }
}

#[test]
fn processes_and_trackers_are_typed_with_each_phases_content() {
    let doc = json();
    let schemas = &doc["components"]["schemas"];
    let body = |path: &str, method: &str, status: &str| {
        doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .map(|r| r.trim_start_matches("#/components/schemas/").to_owned())
    };
    assert_eq!(body("/api/v1/processes/{id}", "get", "200").as_deref(), Some("ProcessRead"));
    assert_eq!(body("/api/v1/processes/{id}/trackers", "get", "200").as_deref(), Some("TrackerList"));
    assert_eq!(body("/api/v1/processes/{id}/trackers/{client}/confirm", "post", "200").as_deref(), Some("TrackerView"));
    assert_eq!(body("/api/v1/processes/{id}/start", "post", "200").as_deref(), Some("StartReport"));
    assert_eq!(body("/api/v1/processes/{id}/audience", "post", "200").as_deref(), Some("AudienceOutcome"));
    // Each phase's advice and answer, tagged by `phase`.
    let phases = |name: &str| -> BTreeSet<String> {
        let text = schemas[name].to_string();
        text.split("\"enum\":[\"").skip(1).filter_map(|s| s.split('"').next()).map(str::to_owned).collect()
    };
    let advice = phases("Advice");
    assert!(["bid", "allotment", "notice"].iter().all(|p| advice.contains(*p)), "{advice:?}");
    let answer = phases("Answer");
    assert!(["bid", "allotment"].iter().all(|p| answer.contains(*p)) && !answer.contains("notice"), "{answer:?}");
    let text = doc.to_string();
    for part in ["AdviceLine", "BidLine", "CommittedBid", "AllotmentLine", "NoticeAdvice", "Release"] {
        assert!(text.contains(&format!("#/components/schemas/{part}")) || schemas[part].is_object(), "{part}");
    }
}
