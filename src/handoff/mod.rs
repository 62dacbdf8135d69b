//! Handoffs: when a conversation escalates, a person receives everything
//! needed to help at once, and the handoff is never lost.
//!
//! - [`bundle`]: the context bundle, as the `handoff.created` event.
//! - [`delivery`]: the ticket system's forms (signed webhook, Zendesk,
//!   Freshdesk) and how their answers are read.
//! - [`outbox`]: the worker that delivers from the durable outbox, with
//!   retries, backoff and dead letters.
//! - [`listen`]: a local receiver that checks and prints handoffs
//!   (`madoguchi webhook-listen`).

pub mod bundle;
pub mod delivery;
pub mod listen;
pub mod outbox;

pub use delivery::Target;
pub use outbox::{Clock, MAX_TIMEOUT, ManualClock, Outbox, Schedule, Step, SystemClock};
