//! The dashboard as `template.yaml` deploys it: only what holds no data is public (the shell of
//! each page, `/login`, `/` and the static files); every fragment, the data, sits behind the JWT
//! authorizer the API uses, and the router refuses it without a token as well. The Cognito app
//! client is a public client for the authorization code with PKCE, its callback and sign-out URLs
//! stack parameters, and the sign-in script does what that needs.

#![allow(clippy::unwrap_used)] // reading the repository's own files, fixtures from literals

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_yaml::Value;
use shared::http::api::auth::StaticTokens;
use shared::web::SignIn;
use shared::web::cognito::CognitoSignIn;
use std::collections::BTreeSet;
use std::sync::Arc;
use tower::ServiceExt;

fn template() -> Value {
    serde_yaml::from_str(&std::fs::read_to_string("../template.yaml").unwrap()).unwrap()
}

/// A value without its CloudFormation tag (`!Ref X` reads as X).
fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untag(&t.value),
        v => v,
    }
}

fn refs(v: &Value) -> Option<&str> {
    match v {
        Value::Tagged(t) if t.tag == "!Ref" => t.value.as_str(),
        _ => None,
    }
}

fn strings(v: &Value) -> BTreeSet<String> {
    untag(v).as_sequence().into_iter().flatten().filter_map(|s| untag(s).as_str().map(str::to_owned)).collect()
}

/// The resource building `binary`.
fn function<'t>(template: &'t Value, binary: &str) -> &'t Value {
    template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .find(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(binary))
        .unwrap_or_else(|| panic!("template.yaml has no function building {binary}"))
}

/// The web function's HTTP API routes: (method, path, public).
fn web_routes(template: &Value) -> BTreeSet<(String, String, bool)> {
    let events = function(template, "web")["Properties"]["Events"].as_mapping().unwrap();
    events
        .values()
        .map(|event| {
            assert_eq!(event["Type"].as_str(), Some("HttpApi"));
            let p = &event["Properties"];
            assert_eq!(refs(&p["ApiId"]), Some("HttpApi"), "on the one HTTP API");
            let public = match untag(&p["Auth"]["Authorizer"]) {
                Value::Null => false,
                authorizer => {
                    assert_eq!(authorizer.as_str(), Some("NONE"), "a route names no authorizer but NONE");
                    true
                }
            };
            (p["Method"].as_str().unwrap().to_uppercase(), p["Path"].as_str().unwrap().to_owned(), public)
        })
        .collect()
}

/// The paths that may be public: what holds no data.
fn public_by_design() -> BTreeSet<(String, String, bool)> {
    let mut out: BTreeSet<_> = ["/", "/login", "/static/{proxy+}"]
        .into_iter()
        .chain(shared::web::pages::SHELLS.iter().copied())
        .map(|p| ("GET".to_owned(), p.to_owned(), true))
        .collect();
    out.insert(("ANY".to_owned(), "/ui/{proxy+}".to_owned(), false));
    out
}

#[test]
fn only_the_shells_login_and_static_files_are_public_and_every_fragment_is_behind_the_authorizer() {
    let template = template();
    // The API's default authorizer: the Cognito JWT one, on the Authorization header.
    let auth = &template["Resources"]["HttpApi"]["Properties"]["Auth"];
    let default = auth["DefaultAuthorizer"].as_str().unwrap();
    let jwt = &auth["Authorizers"][default];
    assert_eq!(jwt["IdentitySource"].as_str(), Some("$request.header.Authorization"));
    let audience: BTreeSet<&str> =
        jwt["JwtConfiguration"]["audience"].as_sequence().unwrap().iter().filter_map(refs).collect();
    assert!(audience.contains("DashboardClient"), "the dashboard's tokens are let through: {audience:?}");

    let routes = web_routes(&template);
    let expected = public_by_design();
    let missing: Vec<_> = expected.difference(&routes).collect();
    let extra: Vec<_> = routes.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "template.yaml's WebFunction events against shared::web (each shell in pages::SHELLS public, \
         /ui behind the authorizer): missing {missing:?}, not expected {extra:?}"
    );
    // No other function serves the dashboard's paths.
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Metadata"]["BuildProperties"]["Binary"].as_str() == Some("web") {
            continue;
        }
        for event in resource["Properties"]["Events"].as_mapping().into_iter().flat_map(|m| m.values()) {
            let path = event["Properties"]["Path"].as_str().unwrap_or_default();
            assert!(!path.starts_with("/ui") && !path.starts_with("/static"), "{name:?} serves {path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_serves_shells_without_a_token_and_no_fragment_without_one() {
    let bed = support::bed(testkit::fake_telegram::FakeConfig::default(), support::no_pacing()).await;
    let signin = SignIn::Cognito(cognito());
    let web = shared::web::routes(bed.app.clone(), Arc::new(StaticTokens::default()), signin);
    let get = |path: String| {
        let web = web.clone();
        async move { web.oneshot(Request::get(&path).body(Body::empty()).unwrap()).await.unwrap() }
    };
    for shell in shared::web::pages::SHELLS {
        let path = shell.replace("{id}", "demo");
        let response = get(path.clone()).await;
        assert_eq!(response.status(), StatusCode::OK, "{path} is a public shell");
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
        assert!(csp.contains(&format!("connect-src 'self' {DOMAIN}")), "{path}: the token endpoint is allowed: {csp}");
        let fragment = get(format!("/ui{path}")).await;
        assert_eq!(fragment.status(), StatusCode::UNAUTHORIZED, "/ui{path} holds the page's data");
    }
    let login = get("/login".into()).await;
    assert_eq!(login.status(), StatusCode::OK);
    let page = String::from_utf8(axum::body::to_bytes(login.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
    for needed in ["/static/auth-cognito.js", "name=\"ipo-cognito\"", "data-client-id=\"dashclient1\"", "login-cognito"]
    {
        assert!(page.contains(needed), "/login carries {needed}");
    }
    assert!(!page.contains("auth-dev.js"), "no devserver tokens in AWS");
    assert_eq!(get("/static/auth-cognito.js".into()).await.status(), StatusCode::OK);
    assert_eq!(get("/ui/me".into()).await.status(), StatusCode::UNAUTHORIZED);
}

const DOMAIN: &str = "https://ipo-staff.auth.ap-northeast-2.amazoncognito.com";

fn cognito() -> CognitoSignIn {
    CognitoSignIn::new(DOMAIN, "dashclient1", "https://d.example/login", "https://d.example/login").unwrap()
}

#[test]
fn the_app_client_is_public_for_the_code_flow_with_its_urls_as_parameters() {
    let template = template();
    let resources = &template["Resources"];
    let client = &resources["DashboardClient"];
    assert_eq!(client["Type"].as_str(), Some("AWS::Cognito::UserPoolClient"));
    let p = &client["Properties"];
    assert_eq!(refs(&p["UserPoolId"]), Some("StaffUserPool"));
    assert_eq!(p["GenerateSecret"].as_bool(), Some(false), "a browser keeps no secret: PKCE instead");
    assert_eq!(p["AllowedOAuthFlowsUserPoolClient"].as_bool(), Some(true));
    assert_eq!(strings(&p["AllowedOAuthFlows"]), BTreeSet::from(["code".to_owned()]), "no implicit flow");
    assert_eq!(strings(&p["AllowedOAuthScopes"]), ["email", "openid", "profile"].map(str::to_owned).into());
    assert_eq!(strings(&p["SupportedIdentityProviders"]), BTreeSet::from(["COGNITO".to_owned()]));
    assert!(strings(&p["ReadAttributes"]).contains("custom:staff_id"), "the ID token names the staff record");
    assert!(!strings(&p["WriteAttributes"]).contains("custom:staff_id"), "which nobody may change for themselves");
    assert!(!p["WriteAttributes"].is_null(), "unlisted, every writable attribute would be writable");
    for (urls, parameter) in [("CallbackURLs", "DashboardCallbackUrl"), ("LogoutURLs", "DashboardLogoutUrl")] {
        let listed: Vec<Option<&str>> = p[urls].as_sequence().unwrap().iter().map(refs).collect();
        assert_eq!(listed, [Some(parameter)], "{urls}");
        assert_eq!(template["Parameters"][parameter]["Type"].as_str(), Some("String"), "{parameter}");
    }
    let domain = &resources["StaffHostedUi"];
    assert_eq!(domain["Type"].as_str(), Some("AWS::Cognito::UserPoolDomain"));
    assert_eq!(refs(&domain["Properties"]["Domain"]), Some("DashboardAuthDomainPrefix"));
    assert!(template["Parameters"]["DashboardAuthDomainPrefix"].is_mapping());

    // The function tells the sign-in script the same client and URLs.
    let env = &function(&template, "web")["Properties"]["Environment"]["Variables"];
    assert_eq!(refs(&env[shared::web::cognito::CLIENT_ID_ENV]), Some("DashboardClient"));
    assert_eq!(refs(&env[shared::web::cognito::CALLBACK_URL_ENV]), Some("DashboardCallbackUrl"));
    assert_eq!(refs(&env[shared::web::cognito::LOGOUT_URL_ENV]), Some("DashboardLogoutUrl"));
    let domain_env = untag(&env[shared::web::cognito::DOMAIN_ENV]).as_str().unwrap();
    assert_eq!(domain_env, "https://${DashboardAuthDomainPrefix}.auth.${AWS::Region}.amazoncognito.com");
}

/// What the script must do for that client: PKCE with S256, the code and refresh grants at
/// `/oauth2/token` from the browser, tokens in sessionStorage only, sign-out at `/logout`.
#[test]
fn the_sign_in_script_uses_pkce_and_keeps_tokens_in_the_tab() {
    let script = std::fs::read_to_string("src/web/static/auth-cognito.js").unwrap();
    for needed in [
        "code_challenge_method: 'S256'",
        "crypto.subtle.digest('SHA-256'",
        "crypto.getRandomValues",
        "'/oauth2/authorize?'",
        "'/oauth2/token'",
        "grant_type: 'authorization_code'",
        "code_verifier: pending.verifier",
        "grant_type: 'refresh_token'",
        "pending.state !== params.get('state')",
        "'/oauth2/revoke'",
        "'/logout?'",
        "sessionStorage",
        "window.ipoAuth",
    ] {
        assert!(script.contains(needed), "auth-cognito.js: {needed}");
    }
    for banned in ["localStorage", "document.cookie", "client_secret", "response_type: 'token'"] {
        assert!(!script.contains(banned), "auth-cognito.js must not use {banned}");
    }
    // app.js puts the token on every htmx request.
    let app = std::fs::read_to_string("src/web/static/app.js").unwrap();
    assert!(app.contains("htmx:configRequest") && app.contains("'Bearer '"), "app.js sends Authorization: Bearer");
}
