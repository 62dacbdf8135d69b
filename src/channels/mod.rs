//! Channels translate between a medium and the conversation service: HTTP
//! and JSON for the chat widget (e-mail comes next).

pub mod chat;
