//! The staff dashboard: server-rendered pages (maud) with htmx 2 for partial updates, served from
//! the same axum router as the API and behind the same authentication and role extractors.
//!
//! Browsers send no `Authorization` header on a navigation, so the pages are split in two:
//! - a public **shell** (`/today`, `/processes/{id}`, …): the layout, the nav and no data; its
//!   script keeps the bearer token in `sessionStorage` and an `htmx:configRequest` handler adds
//!   `Authorization: Bearer …` to every htmx request;
//! - **fragments** under `/ui/…`, every one behind [`Authorized`](crate::http::api::auth::Authorized)
//!   as the API is: 401 without a token, 403 below the route's role. The shell loads the page's
//!   fragment into `#main`; links swap fragments in and push the shell's URL.
//!
//! Where the token comes from is [`SignIn`]: the devserver's per-role tokens, or a sign-in script
//! (Cognito's Hosted UI with PKCE) that implements the same small `window.ipoAuth` interface.

mod assets;
pub mod cognito;
pub mod error;
pub mod export;
pub mod extract;
pub mod fmt;
pub mod layout;
pub mod pages;
pub mod signin;

use crate::app::App;
use crate::http::api::ApiState;
use crate::http::api::auth::Authenticator;
use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use tracing::Instrument;

pub use error::WebError;
pub use signin::SignIn;

/// The router state: the API's own, so the API's extractors check every fragment.
pub type WebState = ApiState;

/// Every dashboard route: the shells, the fragments under `/ui`, and `/static`.
pub fn routes(app: Arc<App>, auth: Arc<dyn Authenticator>, signin: SignIn) -> Router {
    let signin = Arc::new(signin);
    Router::new()
        .merge(assets::routes())
        .merge(layout::routes(signin.clone()))
        .merge(pages::routes(signin))
        .with_state(ApiState { app, auth })
        .layer(axum::middleware::from_fn(trace))
}

/// One span per request, so what a page's use cases log is tied to the request.
async fn trace(request: Request, next: Next) -> Response {
    let span = tracing::info_span!("web", method = %request.method(), path = %request.uri().path());
    async move {
        let response = next.run(request).await;
        tracing::debug!(status = response.status().as_u16(), "answered");
        response
    }
    .instrument(span)
    .await
}
