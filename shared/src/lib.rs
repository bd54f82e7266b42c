//! The ipo-advisory domain crate: everything the Lambda functions and the devserver have in common.
//!
//! Data flows one way: an edge (Lambda or the devserver) calls a use case, the use case applies the
//! pure rules in [`domain`] and performs effects through the [`ports`], whose production
//! implementations live in [`adapters`].

pub mod adapters;
pub mod app;
pub mod config;
pub mod demo;
pub mod domain;
pub mod export;
pub mod http;
pub mod import;
pub mod ports;
pub mod telegram;
#[cfg(feature = "dashboard")]
pub mod web;
