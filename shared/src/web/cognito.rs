//! Signing in to the dashboard in AWS: the stack's Cognito user pool through its Hosted UI, with
//! the authorization code and PKCE (S256), from the public shell. `static/auth-cognito.js` does it
//! in the browser and implements `window.ipoAuth` (see [`super::signin`]):
//!
//! - `login()`: with a refresh token, refresh and reload; else go to the Hosted UI's `/oauth2/authorize`
//!   with a fresh `code_verifier`'s S256 `code_challenge` and a random `state`, both kept in
//!   `sessionStorage` with the page to come back to;
//! - `/login?code=…&state=…` (the app client's callback URL): checks `state`, exchanges the code at
//!   `/oauth2/token` (the public client has no secret: the verifier proves it is the same browser),
//!   keeps the tokens in `sessionStorage` (gone with the tab) and goes back to the page;
//! - `token()`: the ID token while it has more than a minute left (API Gateway's JWT authorizer
//!   takes it by its audience, the app client's id; it carries the groups and `custom:staff_id`);
//!   it is refreshed with the refresh token a few minutes before it expires;
//! - `logout()`: revokes the refresh token, forgets the tokens and ends the Hosted UI's session at
//!   `/logout`, which sends the browser to the sign-out URL.
//!
//! Nothing here is secret: the Hosted UI's address, the client id and the URLs are in every page
//! (a `<meta>` the script reads). The token never enters a URL or a cookie.

use crate::config::{ConfigError, required};
use maud::{Markup, html};

/// The dashboard's app client and Hosted UI, as the stack deploys them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CognitoSignIn {
    /// The Hosted UI's origin, e.g. `https://ipo-staff.auth.ap-northeast-2.amazoncognito.com`.
    domain: String,
    client_id: String,
    /// Where the Hosted UI sends the code: the dashboard's `/login`, one of the client's callback URLs.
    redirect_uri: String,
    /// Where `/logout` sends the browser: one of the client's sign-out URLs.
    logout_uri: String,
}

/// The function's environment names (set by `template.yaml`).
pub const DOMAIN_ENV: &str = "DASHBOARD_AUTH_DOMAIN";
pub const CLIENT_ID_ENV: &str = "DASHBOARD_CLIENT_ID";
pub const CALLBACK_URL_ENV: &str = "DASHBOARD_CALLBACK_URL";
pub const LOGOUT_URL_ENV: &str = "DASHBOARD_LOGOUT_URL";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CognitoConfigError {
    #[error("the Hosted UI's address must be an https origin without a path: {0:?}")]
    Domain(String),
    #[error("the app client id must be letters and digits: {0:?}")]
    ClientId(String),
    #[error("{0} must be an https URL (http only for localhost): {1:?}")]
    Url(&'static str, String),
}

impl CognitoSignIn {
    pub fn new(
        domain: &str,
        client_id: &str,
        redirect_uri: &str,
        logout_uri: &str,
    ) -> Result<Self, CognitoConfigError> {
        let domain = domain.trim().trim_end_matches('/');
        let host = domain.strip_prefix("https://").unwrap_or_default();
        if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
            return Err(CognitoConfigError::Domain(domain.to_owned()));
        }
        let client_id = client_id.trim();
        if client_id.is_empty() || !client_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(CognitoConfigError::ClientId(client_id.to_owned()));
        }
        Ok(CognitoSignIn {
            domain: domain.to_owned(),
            client_id: client_id.to_owned(),
            redirect_uri: web_url("the callback URL", redirect_uri)?,
            logout_uri: web_url("the sign-out URL", logout_uri)?,
        })
    }

    /// From the `web` function's environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let (domain, client, callback, logout) =
            (required(DOMAIN_ENV)?, required(CLIENT_ID_ENV)?, required(CALLBACK_URL_ENV)?, required(LOGOUT_URL_ENV)?);
        CognitoSignIn::new(&domain, &client, &callback, &logout)
            .map_err(|e| ConfigError::Invalid { name: DOMAIN_ENV, reason: e.to_string() })
    }

    /// The origin the browser talks to besides ours (`/oauth2/token`, `/oauth2/revoke`), for the
    /// shell's `connect-src`.
    pub fn origin(&self) -> &str {
        &self.domain
    }

    /// What `auth-cognito.js` reads, in the head of every page.
    pub fn meta(&self) -> Markup {
        html! {
            meta name="ipo-cognito" data-domain=(self.domain) data-client-id=(self.client_id)
                data-redirect-uri=(self.redirect_uri) data-logout-uri=(self.logout_uri);
        }
    }

    /// What `/login` shows: the button to the Hosted UI, and where the script reports a failed
    /// sign-in (an `error` from Cognito, a `state` that does not match).
    pub fn login_body(&self) -> Markup {
        html! {
            p { "회사 계정(Cognito)으로 로그인합니다. 비밀번호와 OTP를 입력하는 화면으로 이동합니다." }
            p #login-error.flash.error role="alert" data-testid="login-error" hidden {}
            button #login-cognito type="button" data-testid="login-cognito" { "로그인" }
        }
    }
}

fn web_url(what: &'static str, url: &str) -> Result<String, CognitoConfigError> {
    let url = url.trim();
    let ok = match url.split_once("://") {
        Some(("https", rest)) => !rest.is_empty(),
        Some(("http", rest)) => rest.starts_with("localhost:") || rest.starts_with("localhost/"),
        _ => false,
    };
    if ok && !url.contains(['"', '<', '>', ' ']) {
        Ok(url.to_owned())
    } else {
        Err(CognitoConfigError::Url(what, url.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const DOMAIN: &str = "https://ipo-staff.auth.ap-northeast-2.amazoncognito.com";

    #[test]
    fn settings_are_checked() {
        let ok = CognitoSignIn::new(
            &format!("{DOMAIN}/"),
            "4abc5def6ghi",
            "https://x.execute-api.ap-northeast-2.amazonaws.com/login",
            "http://localhost:8080/login",
        )
        .unwrap();
        assert_eq!(ok.origin(), DOMAIN);
        assert!(CognitoSignIn::new("http://ipo.auth.example", "a", "https://x/login", "https://x/").is_err());
        assert!(CognitoSignIn::new(&format!("{DOMAIN}/path"), "a", "https://x/login", "https://x/").is_err());
        assert!(CognitoSignIn::new(DOMAIN, "a b", "https://x/login", "https://x/").is_err());
        assert!(CognitoSignIn::new(DOMAIN, "a", "http://example.com/login", "https://x/").is_err());
        assert!(CognitoSignIn::new(DOMAIN, "a", "javascript:alert(1)", "https://x/").is_err());
    }

    #[test]
    fn the_page_carries_what_the_script_needs() {
        let s = CognitoSignIn::new(DOMAIN, "client1", "https://d.example/login", "https://d.example/login").unwrap();
        let meta = s.meta().into_string();
        for needed in [
            "name=\"ipo-cognito\"",
            "data-domain=\"https://ipo-staff.auth",
            "data-client-id=\"client1\"",
            "data-redirect-uri=\"https://d.example/login\"",
        ] {
            assert!(meta.contains(needed), "{needed} in {meta}");
        }
        assert!(s.login_body().into_string().contains("login-cognito"));
    }
}
