//! madoguchi (窓口, "the service counter"): a rule-based support chatbot.
//!
//! The modules, in the order a message flows through them:
//!
//! - [`text`]: normalization (width, case, kana, long vowels) and locale
//!   detection, shared by rules and messages.
//! - [`rules`]: the YAML rule-set format, loading with precise
//!   `path:line:column` errors, and compilation into a runtime rule set.
//! - [`matcher`]: one Aho-Corasick automaton and one `RegexSet` for all
//!   intents; scores candidates and keeps the evidence.
//! - [`classify`]: the result of matching one message, as the CLI and the
//!   API report it.

pub mod classify;
pub mod eval;
pub mod matcher;
pub mod rules;
pub mod sentiment;
pub mod text;
