//! One module per page. A page adds its shell path to [`SHELLS`], its entry to [`NAV`] (when it
//! has one), and its fragment routes (under `/ui`) to [`routes`].

mod actions;
mod bot;
mod charts;
mod clients;
mod common;
mod journal;
mod kit;
mod lines;
mod notices;
mod process;
mod processes;
mod staff;
mod stock_result;
mod stocks;
mod today;

use super::WebState;
use super::layout::fragment_headers;
use super::signin::SignIn;
use crate::domain::staff::Role;
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
    NavItem { href: "/stocks", label: "종목", id: "stocks" },
    NavItem { href: "/clients", label: "고객사", id: "clients" },
    NavItem { href: "/notices", label: "공지", id: "notices" },
    NavItem { href: "/charts", label: "차트", id: "charts" },
    NavItem { href: "/staff", label: "직원", id: "staff" },
    NavItem { href: "/errors", label: "오류", id: "errors" },
    NavItem { href: "/audit", label: "감사", id: "audit" },
];

/// Nav entries shown only from a role up (the page answers 403 below it): `nav-{id}` with the
/// least role. The shell cannot know the role; its CSS hides these once `/ui/me` says it.
pub const NAV_ROLES: &[(&str, Role)] = &[("errors", Role::Operator), ("audit", Role::Admin)];

/// Browser URLs answered with the public shell; each one's data is its fragment at `/ui` + path.
pub const SHELLS: &[&str] = &[
    "/today",
    "/processes",
    "/processes/{id}",
    "/stocks",
    "/stocks/{id}",
    "/clients",
    "/clients/{id}",
    "/notices",
    "/notices/{id}",
    "/charts",
    "/staff",
    "/errors",
    "/audit",
];

/// Every page's fragments, all under `/ui`, all marked not to be stored.
pub fn routes(_signin: Arc<SignIn>) -> Router<WebState> {
    Router::new()
        .merge(today::routes())
        .merge(processes::routes())
        .merge(process::routes())
        .merge(actions::routes())
        .merge(bot::routes())
        .merge(stocks::routes())
        .merge(stock_result::routes())
        .merge(clients::routes())
        .merge(staff::routes())
        .merge(notices::routes())
        .merge(journal::routes())
        .merge(charts::routes())
        .layer(axum::middleware::from_fn(fragment_headers))
}
