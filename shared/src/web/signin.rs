//! Where the dashboard's bearer token comes from. The shell loads one sign-in script, which
//! defines `window.ipoAuth` for `app.js`:
//!
//! ```text
//! ipoAuth.token()   the bearer token, or null when signed out (or expired)
//! ipoAuth.login()   go and sign in; come back to location.pathname afterwards
//! ipoAuth.logout()  forget the token (and end the session where there is one)
//! ```
//!
//! `app.js` calls `ipoAuth.token()` for every htmx request and every download, and `login()` on a
//! 401. In AWS the sign-in is Cognito's Hosted UI (authorization code with PKCE, refresh before
//! expiry): [`SignIn::Cognito`], `static/auth-cognito.js`, whose settings every page's head carries.

use crate::domain::staff::Role;
use maud::{Markup, html};

/// How staff sign in to the dashboard.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// The devserver: `/login` offers one button per role, each keeping that role's token.
    DevTokens(Vec<DevLogin>),
    /// The `web` function: the stack's Cognito Hosted UI, authorization code with PKCE.
    Cognito(super::cognito::CognitoSignIn),
}

/// One of the devserver's tokens.
#[derive(Clone)]
pub struct DevLogin {
    pub role: Role,
    pub token: String,
}

impl std::fmt::Debug for DevLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevLogin").field("role", &self.role).field("token", &"<redacted>").finish()
    }
}

impl SignIn {
    /// The script that defines `window.ipoAuth`.
    pub fn script(&self) -> &'static str {
        match self {
            SignIn::DevTokens(_) => "/static/auth-dev.js",
            SignIn::Cognito(_) => "/static/auth-cognito.js",
        }
    }

    /// What the sign-in script reads from every page's head.
    pub fn head(&self) -> Markup {
        match self {
            SignIn::DevTokens(_) => html! {},
            SignIn::Cognito(cognito) => cognito.meta(),
        }
    }

    /// The origin the sign-in script fetches from besides the dashboard's own (the shell's
    /// `connect-src`).
    pub fn connect_origin(&self) -> Option<&str> {
        match self {
            SignIn::DevTokens(_) => None,
            SignIn::Cognito(cognito) => Some(cognito.origin()),
        }
    }

    /// What `/login` shows.
    pub fn login_body(&self) -> Markup {
        match self {
            SignIn::DevTokens(logins) => html! {
                p { "개발 서버입니다. 역할을 골라 로그인하세요." }
                div.login-roles {
                    @for login in logins {
                        button.login-role type="button" data-token=(login.token)
                            data-testid={ "login-" (super::fmt::role_name(login.role)) }
                            id={ "login-" (super::fmt::role_name(login.role)) } {
                            strong { (super::fmt::role_korean(login.role)) }
                            span.muted { " " (super::fmt::role_name(login.role)) }
                        }
                    }
                }
            },
            SignIn::Cognito(cognito) => cognito.login_body(),
        }
    }
}
