//! The YAML form of conversation tests.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

/// One file of conversation tests.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The conversations, each a test.
    pub conversations: Vec<ConversationSpec>,
}

/// One conversation: who, where, when, and its turns.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationSpec {
    /// What the conversation shows, as a sentence.
    pub name: Spanned<String>,
    /// `chat` (the default) or `email`, for every turn that names none.
    pub channel: Option<Spanned<String>>,
    /// When the first turn happens (RFC 3339, with its offset); each later
    /// turn comes a minute after the one before unless it says `at`.
    pub at: Option<Spanned<String>>,
    /// What is known of the customer from the start.
    pub customer: Option<CustomerSpec>,
    /// What the customer says, and what must come back.
    pub turns: Vec<TurnSpec>,
}

/// What is known of the customer before the first message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerSpec {
    /// Their e-mail address (signed in on the widget, or the sender of an
    /// e-mail).
    pub email: Option<String>,
}

/// One message of the customer and the expectations on the bot's answer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnSpec {
    /// What the customer writes (a tapped quick reply's label).
    pub say: Spanned<String>,
    /// The intent of the quick reply tapped, if the customer tapped one.
    pub tap: Option<String>,
    /// When (RFC 3339).
    pub at: Option<Spanned<String>>,
    /// `chat` or `email`.
    pub channel: Option<Spanned<String>>,
    /// What must come back.
    #[serde(default)]
    pub expect: Expect,
}

/// What must be true of the bot's decision; absent keys are not checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The intent id; `null` for no intent.
    #[serde(default, deserialize_with = "present")]
    pub intent: Option<ExpectedIntent>,
    /// What the bot did: `answer`, `clarify`, `ask_detail`, `ask_email`,
    /// `fallback`, `escalate`, `acknowledge`, `closed`.
    pub action: Option<String>,
    /// Texts the reply must contain.
    #[serde(default, deserialize_with = "one_or_many")]
    pub reply_contains: Vec<String>,
    /// Texts the reply must not contain.
    #[serde(default, deserialize_with = "one_or_many")]
    pub reply_lacks: Vec<String>,
    /// Labels the quick replies must include.
    #[serde(default, deserialize_with = "one_or_many")]
    pub quick_replies: Vec<String>,
    /// Whether this message hands the conversation off.
    pub escalate: Option<bool>,
    /// The handoff's reason (implies `escalate: true`).
    pub reason: Option<String>,
    /// The handoff's priority.
    pub priority: Option<String>,
    /// The conversation's state afterwards.
    pub state: Option<String>,
    /// Details the conversation must have by now.
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    /// Whether the message is a complaint.
    pub complaint: Option<bool>,
    /// The reply's locale.
    pub locale: Option<String>,
}

/// The intent a turn must be taken as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedIntent {
    /// This intent.
    Id(String),
    /// No intent (`intent: null`).
    None,
}

/// Tells an absent key (`None`) from an explicit `null`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ExpectedIntent>, D::Error> {
    Option::<String>::deserialize(d)
        .map(|id| Some(id.map_or(ExpectedIntent::None, ExpectedIntent::Id)))
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}
