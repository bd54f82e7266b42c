//! What the world does for the use cases, as small traits. Each has a production adapter in
//! [`crate::adapters`] and only the fakes tests need.

pub mod clock;
pub mod messenger;
pub mod pacer;
pub mod scheduler;
pub mod store;
