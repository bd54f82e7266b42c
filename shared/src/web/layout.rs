//! The public shell around every page, the login page, who is signed in, and the pieces pages
//! share (links that swap fragments, the progress bar, export buttons).

use super::assets::{HTMX_PATH, versioned};
use super::pages::{NAV, NAV_ROLES, SHELLS};
use super::signin::SignIn;
use super::{WebState, fmt};
use crate::domain::staff::Role;
use crate::domain::tracker::TrackerState;
use crate::http::api::auth::{Authorized, Viewer};
use axum::extract::Request;
use axum::http::{HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::{Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use maud::{DOCTYPE, Markup, html};
use std::sync::Arc;

/// htmx's settings: no page snapshots in localStorage (they would keep client data after the tab
/// closes; a history miss reloads the shell, which fetches the fragment with the token), no
/// `eval` (nothing here needs it, and the CSP forbids it), our own indicator styles.
const HTMX_CONFIG: &str = r#"{"historyCacheSize":0,"refreshOnHistoryMiss":true,"allowEval":false,"includeIndicatorStyles":false,"selfRequestsOnly":true}"#;

/// Scripts and styles from this origin only; images also from blob URLs (the screenshots).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn routes(signin: Arc<SignIn>) -> Router<WebState> {
    let shells = SHELLS.iter().fold(Router::new(), |router, path| router.route(path, get(shell)));
    shells
        .route("/", get(|| async { Redirect::to("/today") }))
        .route("/login", get(login))
        .layer(axum::middleware::from_fn(page_headers))
        .layer(Extension(signin))
        .route("/ui/me", get(me).layer(axum::middleware::from_fn(fragment_headers)))
}

/// Pages of the shell: cacheable (they hold no data) but revalidated, never framed.
async fn page_headers(request: Request, next: Next) -> Response {
    // The sign-in script may fetch from one more origin (Cognito's token endpoint, in AWS).
    let origin = request.extensions().get::<Arc<SignIn>>().and_then(|s| s.connect_origin().map(str::to_owned));
    let csp = match origin {
        Some(origin) => CSP.replacen("connect-src 'self'", &format!("connect-src 'self' {origin}"), 1),
        None => CSP.to_owned(),
    };
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static(CSP)),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Fragments hold the firm's data: never stored by a browser or a proxy.
pub async fn fragment_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::VARY, HeaderValue::from_static("Authorization, HX-Request"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

fn head(title: &str, signin: &SignIn, with_app: bool) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="htmx-config" content=(HTMX_CONFIG);
            title { (title) }
            link rel="stylesheet" href=(versioned("/static/app.css"));
            (signin.head())
            script src=(HTMX_PATH) defer {}
            script src=(versioned(signin.script())) defer {}
            @if with_app {
                script src=(versioned("/static/app.js")) defer {}
            }
        }
    }
}

/// The shell of any page: the nav, and `#main`, which loads the page's fragment (`/ui` + the path)
/// with the token once the scripts have run.
async fn shell(Extension(signin): Extension<Arc<SignIn>>, uri: Uri) -> Markup {
    let fragment = match uri.query() {
        Some(q) => format!("/ui{}?{q}", uri.path()),
        None => format!("/ui{}", uri.path()),
    };
    html! {
        (DOCTYPE)
        html lang="ko" {
            (head("IPO 자문 대시보드", &signin, true))
            body {
                header.top {
                    a.brand href="/today" { "IPO 자문" }
                    nav #nav aria-label="메뉴" {
                        @for item in NAV {
                            @match NAV_ROLES.iter().find(|(id, _)| *id == item.id) {
                                Some((_, role)) => span.gated data-min-role=(fmt::role_name(*role)) {
                                    (link(item.href, html! { (item.label) }, &format!("nav-{}", item.id)))
                                },
                                None => (link(item.href, html! { (item.label) }, &format!("nav-{}", item.id))),
                            }
                        }
                    }
                    div #me hx-get="/ui/me" hx-trigger="load" {}
                }
                // The emergency stop's banner and buttons (pages::bot), on every page.
                div #bot hx-get="/ui/bot" hx-trigger="load" hx-swap="outerHTML" {}
                div #flash role="status" aria-live="polite" {}
                main #main data-testid="main" hx-get=(fragment) hx-trigger="load" {
                    p.muted { "불러오는 중…" }
                }
            }
        }
    }
}

/// A link to a page: a plain link for a new tab, an htmx swap of `#main` for a click.
pub fn link(href: &str, label: Markup, testid: &str) -> Markup {
    html! {
        a href=(href) hx-get={ "/ui" (href) } hx-target="#main" hx-push-url=(href) data-testid=(testid) { (label) }
    }
}

async fn login(Extension(signin): Extension<Arc<SignIn>>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ko" {
            (head("로그인 · IPO 자문 대시보드", &signin, false))
            body {
                main.login {
                    div.card {
                        h1 { "IPO 자문 대시보드" }
                        (signin.login_body())
                    }
                }
            }
        }
    }
}

/// Who is signed in, for the header; with the role, since what a page offers follows it.
async fn me(Authorized(caller, _): Authorized<Viewer>) -> Markup {
    html! {
        span data-testid="me" data-role=(fmt::role_name(caller.role)) {
            (caller.name) " · " (fmt::role_korean(caller.role))
        }
        button type="button" data-action="logout" data-testid="logout" { "로그아웃" }
    }
}

/// A fragment's heading, and the document title htmx takes from it.
pub fn heading(title: &str) -> Markup {
    html! {
        title { (title) " · IPO 자문" }
        h1 { (title) }
    }
}

/// The order states are shown in: done first, then the ones waiting on someone.
pub const STATE_ORDER: [TrackerState; 7] = [
    TrackerState::Confirmed,
    TrackerState::Submitted,
    TrackerState::Acknowledged,
    TrackerState::Sent,
    TrackerState::Pending,
    TrackerState::Failed,
    TrackerState::Skipped,
];

pub fn state_class(state: TrackerState) -> String {
    format!("s-{}", state.as_str())
}

pub fn state_badge(state: TrackerState) -> Markup {
    html! { span class={ "badge " (state_class(state)) } data-state=(state.as_str()) { (fmt::tracker_state(state)) } }
}

/// A bar of the clients by tracker state, stacked in [`STATE_ORDER`], with its legend. SVG
/// attributes, not inline styles, so the CSP can forbid inline styles.
pub fn progress_bar(counts: &[(TrackerState, usize)], testid: &str) -> Markup {
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    let count = |s: TrackerState| counts.iter().find(|(st, _)| *st == s).map_or(0, |(_, n)| *n);
    let mut x = 0.0_f64;
    let mut segments = Vec::new();
    for state in STATE_ORDER {
        let n = count(state);
        if n == 0 || total == 0 {
            continue;
        }
        #[allow(clippy::cast_precision_loss)] // client counts are far below 2^52
        let width = n as f64 * 100.0 / total as f64;
        segments.push((state, x, width));
        x += width;
    }
    let done = count(TrackerState::Confirmed) + count(TrackerState::Skipped);
    html! {
        svg.progress role="img" aria-label={ "전체 " (total) "곳 중 " (done) "곳 완료" } data-testid=(testid)
            viewBox="0 0 100 4" preserveAspectRatio="none" {
            @for (state, x, width) in &segments {
                rect class=(state_class(*state)) x={ (format!("{x:.3}")) } y="0" width={ (format!("{width:.3}")) } height="4" {
                    title { (fmt::tracker_state(*state)) " " (count(*state)) }
                }
            }
        }
        ul.legend {
            @for state in STATE_ORDER {
                @let n = count(state);
                @if n > 0 {
                    li { i class=(state_class(state)) {} (fmt::tracker_state(state)) " " (n) }
                }
            }
        }
    }
}

/// CSV and xlsx buttons for a table; `app.js` downloads with the token.
pub fn export_buttons(url: &str, testid: &str) -> Markup {
    let sep = if url.contains('?') { '&' } else { '?' };
    html! {
        span.actions {
            button type="button" data-download={ (url) (sep) "format=csv" } data-testid={ (testid) "-csv" } { "CSV" }
            button type="button" data-download={ (url) (sep) "format=xlsx" } data-testid={ (testid) "-xlsx" } { "Excel" }
        }
    }
}

/// Whether the caller may act as `needed`: what a role may not do, it is not shown.
pub fn may(role: Role, needed: Role) -> bool {
    role.allows(needed)
}
