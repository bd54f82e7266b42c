//! Who called the staff API in AWS: API Gateway's JWT authorizer has verified the Cognito token and
//! passes its claims in the request context; the role is the highest of the user's Cognito groups,
//! capped by the staff record `custom:staff_id` names (looked up by the API's extractor).

use lambda_http::http::request::Parts;
use lambda_http::request::RequestContext;
use shared::domain::staff::Role;
use shared::http::api::auth::{Authenticator, Principal};
use std::collections::HashMap;

/// Reads the caller from the authorizer's claims; a request without them (the route has no
/// authorizer, or it was invoked some other way) is unauthenticated.
#[derive(Debug, Clone, Copy, Default)]
pub struct JwtClaims;

impl Authenticator for JwtClaims {
    fn checks_staff_records(&self) -> bool {
        true
    }

    fn authenticate(&self, parts: &Parts) -> Option<Principal> {
        #[allow(unreachable_patterns)] // other request kinds exist only with other lambda_http features
        let context = match parts.extensions.get::<RequestContext>()? {
            RequestContext::ApiGatewayV2(context) => context,
            _ => return None,
        };
        principal_from_claims(&context.authorizer.as_ref()?.jwt.as_ref()?.claims)
    }
}

/// `cognito:groups` arrives as one string, `[advisor operator]` or `advisor,operator`.
pub fn principal_from_claims(claims: &HashMap<String, String>) -> Option<Principal> {
    let groups = claims.get("cognito:groups")?;
    let role = groups
        .trim_matches(|c| c == '[' || c == ']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|g| match g.trim().trim_matches('"') {
            "admin" => Some(Role::Admin),
            "advisor" => Some(Role::Advisor),
            "operator" => Some(Role::Operator),
            "viewer" => Some(Role::Viewer),
            _ => None,
        })
        .max()?;
    let name = ["email", "cognito:username", "username", "sub"].iter().find_map(|k| claims.get(*k))?.clone();
    // The pool's `custom:staff_id` (set by admins only; the app client cannot write it) names the
    // staff record; a token without it is refused when the record is looked up.
    let staff_id = claims.get("custom:staff_id").and_then(|id| id.parse().ok());
    Some(Principal { name, role, staff_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_highest_group_is_the_role() {
        let p = principal_from_claims(&claims(&[
            ("cognito:groups", "[viewer advisor]"),
            ("email", "kim@example.com"),
            ("cognito:username", "0b5e-uuid"),
            ("custom:staff_id", "ops-kim"),
        ]))
        .unwrap();
        assert_eq!(
            (p.role, p.name.as_str(), p.staff_id.map(String::from)),
            (Role::Advisor, "kim@example.com", Some("ops-kim".into()))
        );
        let p = principal_from_claims(&claims(&[("cognito:groups", "operator,admin"), ("sub", "u-1")])).unwrap();
        assert_eq!(p.role, Role::Admin);
        assert_eq!(p.staff_id, None, "only the pool's attribute names a staff record");
        assert!(JwtClaims.checks_staff_records(), "Cognito's tokens are checked against the records");
    }

    #[test]
    fn no_known_group_no_access() {
        assert_eq!(principal_from_claims(&claims(&[("cognito:groups", "[guests]"), ("sub", "u")])), None);
        assert_eq!(principal_from_claims(&claims(&[("sub", "u")])), None);
    }
}

#[cfg(test)]
mod through_lambda_http {
    use super::*;

    /// An HTTP API request as API Gateway sends it after its JWT authorizer accepted the token.
    fn event(groups: &str) -> String {
        serde_json::json!({
            "version": "2.0", "routeKey": "GET /api/v1/{proxy+}", "rawPath": "/api/v1/clients", "rawQueryString": "",
            "headers": { "authorization": "Bearer eyJ…" },
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com", "domainPrefix": "api",
                "http": { "method": "GET", "path": "/api/v1/clients", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "curl" },
                "requestId": "r", "routeKey": "GET /api/v1/{proxy+}", "stage": "$default", "time": "22/Nov/2026:12:00:00 +0000", "timeEpoch": 1_795_000_000_000u64,
                "authorizer": { "jwt": { "claims": { "cognito:groups": groups, "email": "kim@example.com", "cognito:username": "ops-kim" }, "scopes": null } }
            },
            "isBase64Encoded": false
        })
        .to_string()
    }

    #[test]
    fn claims_reach_the_authenticator() {
        let request = lambda_http::request::from_str(&event("[operator]")).unwrap();
        let (parts, _) = request.into_parts();
        let principal = JwtClaims.authenticate(&parts).unwrap();
        assert_eq!((principal.role, principal.name.as_str()), (Role::Operator, "kim@example.com"));
    }

    #[test]
    fn a_request_without_an_authorizer_is_anonymous() {
        let (parts, _) = lambda_http::http::Request::new(()).into_parts();
        assert_eq!(JwtClaims.authenticate(&parts), None);
    }
}
