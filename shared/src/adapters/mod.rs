//! Production implementations of the ports.

pub mod dynamodb;
pub mod eventbridge;
pub mod local_scheduler;
pub mod telegram;
pub mod withheld;
