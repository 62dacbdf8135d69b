//! Channels translate between a medium and the conversation service: what
//! each accepts from a customer, how it establishes who they are, and how
//! it answers. The chat widget's channel is here (its HTTP routes are in
//! the HTTP API); e-mail comes next.

pub mod chat;
pub mod email;
