//! Keeping member systems in step: signed webhook deliveries from the
//! change-event table (the feed itself is `api::changes`).

pub mod signature;
pub mod target;
pub mod worker;

pub use worker::{WebhookSettings, Worker, WorkerState, WorkerStatus};
