//! Pure types and rules: no I/O, no clocks, no storage layout. Values in, values out.

pub mod bot;
pub mod calendar;
pub mod client;
pub mod ids;
pub mod journal;
pub mod link_code;
pub mod lockup;
pub mod market;
pub mod message_log;
pub mod money;
pub mod pacing;
pub mod phase;
pub mod process;
pub mod regulation;
pub mod reminder;
pub mod result;
pub mod staff;
pub mod staff_feed;
pub mod stock;
pub mod templates;
pub mod text;
pub mod time;
pub mod tracker;
