//! Telegram's wire format: the update and message types the bot reads and writes, the error replies
//! it must tell apart, and HTML text handling. Pure: the HTTP client is in `adapters::telegram`.
//!
//! Own minimal serde types rather than a full Bot API crate: only the dozen types the bot touches,
//! every optional field optional and unknown fields and update kinds ignored (Telegram adds fields
//! every release), and a fraction of the compile time (see `docs/telegram.md`).

pub mod error;
pub mod html;
pub mod types;
