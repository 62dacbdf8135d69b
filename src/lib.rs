//! madoguchi (窓口, "the service counter"): a rule-based support chatbot.
//!
//! The modules, from the bottom up: each uses only modules listed before
//! it (`tests/layers.rs` holds the code to that), in the order a message
//! flows through them.
//!
//! Leaves:
//! - [`text`]: normalization (width, case, kana, long vowels) and locale
//!   detection, shared by rules and messages.
//! - [`diagnostic`]: places in files and the problems found there.
//! - [`ids`]: random ids and tokens.
//! - [`secret`]: secrets that never print, and what is derived from them
//!   (token hashes, `user_hash`).
//! - [`privacy`]: masking card numbers and My Number before anything is
//!   stored or logged.
//! - [`hours`]: business hours, holidays and closures: when a person is
//!   there to answer.
//! - [`telemetry`]: the Prometheus metrics' names and the process's
//!   recorder.
//!
//! Matching:
//! - [`matcher`]: one Aho-Corasick automaton for every term and one
//!   `RegexSet`; scores the intents it is given and keeps the evidence.
//! - [`sentiment`]: complaint detection and the safety signal, from the
//!   lexicon terms the automaton found.
//!
//! Rules:
//! - [`rules`]: the YAML rule-set format, compiled into a runtime rule set
//!   with precise `path:line:column` errors.
//!
//! Deciding:
//! - [`classify`]: one message through all of the above, with its evidence.
//! - [`escalation`]: why and how urgently a message goes to a person.
//! - [`engine`]: the dialogue policy, the pure decision on each message of
//!   a conversation: answer, ask, fall back or hand off.
//! - [`check`]: loading a rule set for use: its examples must match; the
//!   lint of its patterns.
//! - [`conversation_test`]: conversation tests, run through the engine.
//! - [`eval`]: measuring a rule set on labelled messages.
//!
//! Keeping:
//! - [`store`]: all SQL, with typed records: conversations, messages,
//!   customers, feedback, handoffs, on SQLite or PostgreSQL.
//!
//! Serving:
//! - [`conversation`]: the conversation service: start, mask, load, decide,
//!   store in one transaction, tell live listeners.
//! - [`handoff`]: the context bundle, the durable outbox and its worker,
//!   the signed ticket webhook.
//! - [`channels`]: what each channel accepts and answers (chat now).
//! - [`config`]: the service's typed configuration (file, environment,
//!   flags).
//! - [`http`]: the router, its state, errors and codes, the chat and agent
//!   APIs.
//! - [`startup`]: building the application from its configuration, running
//!   it and stopping it gracefully.

pub mod text;

pub mod diagnostic;

pub mod ids;

pub mod secret;

pub mod privacy;

pub mod hours;

pub mod telemetry;

pub mod matcher;

pub mod sentiment;

pub mod rules;

pub mod classify;

pub mod escalation;

pub mod engine;

pub mod check;

pub mod conversation_test;

pub mod eval;

pub mod suggest;

pub mod store;

pub mod analytics;

pub mod conversation;

pub mod handoff;

pub mod channels;

pub mod config;

pub mod http;

pub mod startup;

pub use check::load as load_rules;
pub use classify::{Classification, classify};
pub use config::Config;
pub use engine::{ConversationState, Decision, Turn, decide};
pub use rules::RuleSet;
pub use startup::Application;
pub use store::Store;
