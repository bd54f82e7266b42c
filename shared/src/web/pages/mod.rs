//! One module per page. A page adds its shell path to [`SHELLS`], its entry to [`NAV`] (when it
//! has one), and its fragment routes (under `/ui`) to [`routes`].

mod actions;
mod common;
mod lines;
mod process;
mod processes;
mod today;

use super::WebState;
use super::layout::fragment_headers;
use super::signin::SignIn;
use axum::Router;
use std::sync::Arc;

/// An entry of the nav.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    /// `nav-{id}` is the link's test id.
    pub id: &'static str,
}

/// The nav, in order.
pub const NAV: &[NavItem] = &[
    NavItem { href: "/today", label: "오늘", id: "today" },
    NavItem { href: "/processes", label: "프로세스", id: "processes" },
];

/// Browser URLs answered with the public shell; each one's data is its fragment at `/ui` + path.
pub const SHELLS: &[&str] = &["/today", "/processes", "/processes/{id}"];

/// Every page's fragments, all under `/ui`, all marked not to be stored.
pub fn routes(_signin: Arc<SignIn>) -> Router<WebState> {
    Router::new()
        .merge(today::routes())
        .merge(processes::routes())
        .merge(process::routes())
        .merge(actions::routes())
        .layer(axum::middleware::from_fn(fragment_headers))
}
