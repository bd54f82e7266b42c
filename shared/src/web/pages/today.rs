//! Today: what staff look at first on a book-building morning.

use crate::http::api::auth::{Authorized, Viewer};
use crate::web::WebState;
use crate::web::layout::heading;
use axum::Router;
use axum::routing::get;
use maud::{Markup, html};

pub fn routes() -> Router<WebState> {
    Router::new().route("/ui/today", get(page))
}

async fn page(Authorized(_caller, _): Authorized<Viewer>) -> Markup {
    html! {
        (heading("오늘"))
        p.muted { "준비 중입니다." }
    }
}
