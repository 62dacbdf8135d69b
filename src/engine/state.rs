//! What the engine remembers of a conversation between two messages. It is
//! plain data (serde), so the store can keep it as it is and a conversation
//! test can say what it must be.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::escalation::{EscalationReason, Priority};
use crate::text::Locale;

/// Where a conversation stands (contract names).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The bot is answering.
    #[default]
    Bot,
    /// The bot asked for something (a detail, an e-mail address) and waits
    /// for it.
    AwaitingDetail,
    /// A person owns the conversation: the bot only acknowledges.
    HandedOff,
    /// Finished; nothing more is answered.
    Closed,
}

impl Status {
    /// The contract name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Bot => "bot",
            Status::AwaitingDetail => "awaiting_detail",
            Status::HandedOff => "handed_off",
            Status::Closed => "closed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bot" => Ok(Status::Bot),
            "awaiting_detail" => Ok(Status::AwaitingDetail),
            "handed_off" => Ok(Status::HandedOff),
            "closed" => Ok(Status::Closed),
            other => Err(format!(
                "unknown state `{other}` (expected bot, awaiting_detail, handed_off or closed)"
            )),
        }
    }
}

/// What the bot asked and waits for. Intents are kept by id, so that a
/// conversation survives a reload of the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    /// A detail the intent needs before it is answered or escalated.
    Detail {
        /// The intent waiting for it.
        intent: String,
        /// The detail asked for.
        detail: String,
    },
    /// Which of two intents the customer means.
    Clarify {
        /// The intents offered.
        options: Vec<String>,
    },
    /// An e-mail address, before the conversation is handed off.
    Email {
        /// Why it is being handed off.
        reason: EscalationReason,
        /// How urgent it is.
        priority: Priority,
        /// The intent that led there, if any.
        intent: Option<String>,
    },
}

/// A handoff that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    /// Why.
    pub reason: EscalationReason,
    /// How urgent.
    pub priority: Priority,
    /// When.
    pub at: jiff::Timestamp,
}

/// The state of one conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationState {
    /// Where it stands.
    pub status: Status,
    /// What the bot waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// The conversation's language, once a message showed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    /// Details given so far (order number, e-mail...), the latest of each.
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    /// Fallbacks in a row, reset by an answer.
    #[serde(default)]
    pub fallbacks_in_a_row: u32,
    /// Fallbacks in all, so that the fallback text varies.
    #[serde(default)]
    pub fallbacks: u32,
    /// Negative sentiment adding up across messages (0 to -∞), fading by a
    /// fifth at each message.
    #[serde(default)]
    pub frustration: f64,
    /// The last intent that names a trouble (`late_delivery`), for
    /// apologies when a later message names none ("正直がっかりです").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trouble_intent: Option<String>,
    /// Details already asked for (by name), so each is asked once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asked: Vec<String>,
    /// Whether the e-mail address was asked for before a handoff.
    #[serde(default)]
    pub email_asked: bool,
    /// The handoff, once the conversation was handed to a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Handoff>,
    /// Messages acknowledged since the handoff.
    #[serde(default)]
    pub acknowledged: u32,
    /// Questions the bot has answered.
    #[serde(default)]
    pub answers: u32,
    /// The intents the last reply offered as quick replies: the only ones a
    /// quick reply may pick next.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offered: Vec<String>,
}

impl ConversationState {
    /// A new conversation whose customer is known by e-mail (from the
    /// widget's sign-in, or the sender of an e-mail).
    #[must_use]
    pub fn with_email(email: &str) -> Self {
        let mut state = ConversationState::default();
        state.details.insert("email".to_owned(), email.to_owned());
        state
    }

    /// Whether the last reply offered the intent `id` as a quick reply.
    #[must_use]
    pub fn offers(&self, id: &str) -> bool {
        self.offered.iter().any(|o| o == id)
    }
}
