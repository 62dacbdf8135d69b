//! The e-mail channel: the support inbox. Mail comes in raw (from an MTA
//! pipe, an inbound-mail provider or the IMAP poller), is decoded, stripped
//! of quoted history, checked for loops, threaded and decided on like a
//! chat message; answers go out through the mail outbox and an SMTP relay.

pub mod autoreply;
pub mod imap;
pub mod inbound;
pub mod parse;
pub mod poll;
pub mod quote;
pub mod send;
pub mod thread;

pub use inbound::{Inbox, MailSettings, Receipt};
