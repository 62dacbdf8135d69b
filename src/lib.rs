//! madoguchi (窓口, "the service counter"): a rule-based support chatbot.
//!
//! The modules, in the order a message flows through them:
//!
//! - [`text`]: normalization (width, case, kana, long vowels) and locale
//!   detection, shared by rules and messages.
//! - [`rules`]: the YAML rule-set format, loading with precise
//!   `path:line:column` errors, and compilation into a runtime rule set.
//! - [`matcher`]: one Aho-Corasick automaton for every term (intent
//!   keywords and sentiment lexicon) and one `RegexSet`; scores candidate
//!   intents and keeps the evidence.
//! - [`sentiment`]: complaint detection and the safety signal, from the
//!   lexicon terms the matcher found.
//! - [`classify`]: one message through all of the above, as the CLI and
//!   the API report it, and streams of messages on every core.
//! - [`hours`]: business hours, holidays and closures: when a person is
//!   there to answer.
//! - [`engine`]: the dialogue policy, the pure decision on each message of
//!   a conversation: answer, ask, fall back or hand off.
//! - [`conversation_test`]: conversation tests, run through the engine.
//! - [`privacy`]: masking card numbers and My Number before anything is
//!   stored or logged.
//! - [`store`]: all SQL: conversations, messages, customers, feedback, on
//!   SQLite or PostgreSQL.
//! - [`conversation`]: the conversation service: mask, load, decide,
//!   store in one transaction, tell live listeners.
//! - [`channels`]: the chat API (HTTP, JSON, Server-Sent Events).
//! - [`handoff`]: the context bundle, the durable outbox and its worker,
//!   the signed ticket webhook.
//! - [`http`]: the router, the agent API, errors, start and graceful stop.
//! - [`config`]: the service's typed configuration (file, environment,
//!   flags).
//! - [`ids`]: random ids and tokens.
//! - [`eval`]: measuring a rule set on labelled messages.

pub mod text;

pub mod rules;

pub mod matcher;

pub mod sentiment;

pub mod classify;

pub mod hours;

pub mod engine;

pub mod conversation_test;

pub mod privacy;

pub mod store;

pub mod conversation;

pub mod channels;

pub mod handoff;

pub mod http;

pub mod config;

pub mod ids;

pub mod eval;
