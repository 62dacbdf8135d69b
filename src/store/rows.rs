//! What the store reads and writes, and the raw rows behind them.

use std::str::FromStr;

use serde::Serialize;

use super::{StoreError, StoredDecision};
use crate::engine::{ConversationState, Status};
use crate::escalation::{EscalationReason, Priority};
use crate::rules::Channel;

/// A stored name read back as its type; a name that does not parse means
/// the database holds what madoguchi never wrote.
pub(super) fn stored<T: FromStr<Err = E>, E: std::fmt::Display>(
    column: &str,
    value: &str,
) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// How the customer's identity was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// An `external_id` sent with a valid `user_hash`: the shop vouches.
    Verified,
    /// An e-mail address the customer typed: not checked.
    Email,
    /// Nothing known.
    Anonymous,
    /// The From address of an e-mail: unchecked unless the receiving
    /// server's DMARC check passed (recorded with the mail).
    EmailSender,
}

impl Identity {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Identity::Verified => "verified",
            Identity::Email => "email",
            Identity::Anonymous => "anonymous",
            Identity::EmailSender => "email_sender",
        }
    }
}

impl FromStr for Identity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Identity::Verified,
            Identity::Email,
            Identity::Anonymous,
            Identity::EmailSender,
        ]
        .into_iter()
        .find(|i| i.as_str() == s)
        .ok_or_else(|| format!("unknown identity `{s}`"))
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The customer.
    Customer,
    /// The bot.
    Bot,
    /// A person of the support team.
    Agent,
    /// The service itself (a ticket reference, say).
    System,
}

impl Author {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Author::Customer => "customer",
            Author::Bot => "bot",
            Author::Agent => "agent",
            Author::System => "system",
        }
    }
}

impl FromStr for Author {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Author::Customer, Author::Bot, Author::Agent, Author::System]
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown author `{s}`"))
    }
}

/// A conversation to create.
#[derive(Debug, Clone)]
pub struct NewConversation {
    /// Its id.
    pub id: String,
    /// SHA-256 of its bearer token (the token itself is never stored).
    pub token_hash: String,
    /// The id for a new customer (an existing one with the same verified
    /// external id is reused).
    pub customer_id: String,
    /// The shop's id of the customer, when verified.
    pub external_id: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// How the identity was established.
    pub identity: Identity,
    /// Where it happens.
    pub channel: Channel,
    /// The engine's initial state.
    pub state: ConversationState,
    /// When, in milliseconds since the epoch.
    pub at: i64,
}

/// A message to append.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Who wrote it.
    pub author: Author,
    /// The agent's name, for agent messages.
    pub agent: Option<String>,
    /// The text (masked).
    pub text: String,
    /// The intent it was taken as (customer messages).
    pub intent: Option<String>,
    /// The decision behind a customer message, as stored
    /// ([`StoredDecision::to_json`]).
    pub decision: Option<String>,
}

/// A stored conversation with its customer.
#[derive(Debug, Clone)]
pub struct ConversationRecord {
    /// Its id.
    pub id: String,
    /// SHA-256 of its token.
    pub token_hash: String,
    /// Its customer.
    pub customer_id: String,
    /// Where it happens.
    pub channel: Channel,
    /// How the customer's identity was established.
    pub identity: Identity,
    /// The engine's state.
    pub state: ConversationState,
    /// Incremented by each write.
    pub version: i64,
    /// How many messages it holds.
    pub message_count: i64,
    /// Its last event's id (0: none yet); the next events follow it.
    pub event_count: i64,
    /// A one-line summary.
    pub summary: Option<String>,
    /// Created, in milliseconds.
    pub created_at: i64,
    /// Last changed, in milliseconds.
    pub updated_at: i64,
    /// The customer's external id.
    pub external_id: Option<String>,
    /// The customer's e-mail.
    pub email: Option<String>,
    /// The customer's name.
    pub name: Option<String>,
}

impl ConversationRecord {
    /// The customer's e-mail address: the one given at the start, else the
    /// one typed in the conversation. The agent API and the handoff show
    /// the same.
    #[must_use]
    pub fn customer_email(&self) -> Option<&str> {
        self.email
            .as_deref()
            .or_else(|| self.state.details.get("email").map(String::as_str))
    }
}

/// One stored message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageRecord {
    /// Its place in the conversation, from 1.
    pub seq: i64,
    /// Who wrote it.
    pub author: Author,
    /// The agent, for agent messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The text.
    pub text: String,
    /// The intent, for customer messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// The decision behind it, as stored; read with
    /// [`MessageRecord::decision`].
    #[serde(skip)]
    pub decision_json: Option<String>,
    /// When, in milliseconds.
    #[serde(skip)]
    pub created_at: i64,
}

impl MessageRecord {
    /// The decision behind a customer message.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the stored decision is unreadable.
    pub fn decision(&self) -> Result<Option<StoredDecision<'static>>, StoreError> {
        self.decision_json
            .as_deref()
            .map(StoredDecision::from_json)
            .transpose()
    }
}

/// A conversation in a listing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationSummary {
    /// Its id.
    pub id: String,
    /// `chat` or `email`.
    pub channel: Channel,
    /// How the customer is known.
    pub identity: Identity,
    /// Its state.
    pub state: Status,
    /// A one-line summary.
    pub summary: Option<String>,
    /// Created, in milliseconds.
    #[serde(skip)]
    pub created_at: i64,
    /// Last changed, in milliseconds.
    #[serde(skip)]
    pub updated_at: i64,
    /// The customer's e-mail.
    pub email: Option<String>,
    /// The customer's name.
    pub name: Option<String>,
}

/// One of the customer's earlier conversations.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EarlierConversation {
    /// Its id.
    pub id: String,
    /// Whether the identity that links it to this customer was verified.
    pub identity: Identity,
    /// A one-line summary.
    pub summary: Option<String>,
    /// Created, in milliseconds.
    #[serde(skip)]
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct ConversationRow {
    pub(super) id: String,
    pub(super) token_hash: String,
    pub(super) customer_id: String,
    pub(super) channel: String,
    pub(super) identity: String,
    pub(super) state: String,
    pub(super) version: i64,
    pub(super) message_count: i64,
    pub(super) event_count: i64,
    pub(super) summary: Option<String>,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
    pub(super) external_id: Option<String>,
    pub(super) email: Option<String>,
    pub(super) name: Option<String>,
}

impl ConversationRow {
    pub(super) fn into_record(self) -> Result<ConversationRecord, StoreError> {
        let state: ConversationState =
            serde_json::from_str(&self.state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(ConversationRecord {
            id: self.id,
            token_hash: self.token_hash,
            customer_id: self.customer_id,
            channel: stored("channel", &self.channel)?,
            identity: stored("identity", &self.identity)?,
            state,
            version: self.version,
            message_count: self.message_count,
            event_count: self.event_count,
            summary: self.summary,
            created_at: self.created_at,
            updated_at: self.updated_at,
            external_id: self.external_id,
            email: self.email,
            name: self.name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CustomerMessageRow {
    pub(super) conversation_id: String,
    pub(super) seq: i64,
    pub(super) text: String,
    pub(super) intent: Option<String>,
    pub(super) decision: Option<String>,
    pub(super) created_at: i64,
    pub(super) channel: String,
}

/// A customer's message with what the bot did with it: what rule
/// suggestions are mined from.
#[derive(Debug, Clone)]
pub struct CustomerMessage {
    /// Its conversation.
    pub conversation_id: String,
    /// Its place there.
    pub seq: i64,
    /// What the customer wrote.
    pub text: String,
    /// The conversation's channel.
    pub channel: Channel,
    /// The intent it was taken as.
    pub intent: Option<String>,
    /// What the bot did, when a decision is stored.
    pub action: Option<crate::engine::Action>,
    /// When, in milliseconds.
    pub created_at: i64,
}

impl TryFrom<CustomerMessageRow> for CustomerMessage {
    type Error = StoreError;

    fn try_from(r: CustomerMessageRow) -> Result<Self, StoreError> {
        /// Only the action is read of the stored decision.
        #[derive(serde::Deserialize)]
        struct Acted {
            action: crate::engine::Action,
        }
        let action = r
            .decision
            .as_deref()
            .map(serde_json::from_str::<Acted>)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("decision: {e}")))?
            .map(|a| a.action);
        Ok(CustomerMessage {
            channel: stored("channel", &r.channel)?,
            conversation_id: r.conversation_id,
            seq: r.seq,
            text: r.text,
            intent: r.intent,
            action,
            created_at: r.created_at,
        })
    }
}

impl From<CustomerMessage> for crate::suggest::Message {
    fn from(m: CustomerMessage) -> Self {
        crate::suggest::Message {
            conversation_id: m.conversation_id,
            seq: m.seq,
            text: m.text,
            channel: m.channel,
            at: m.created_at,
            intent: m.intent,
            action: m.action,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    pub(super) seq: i64,
    pub(super) author: String,
    pub(super) agent: Option<String>,
    pub(super) text: String,
    pub(super) intent: Option<String>,
    pub(super) decision: Option<String>,
    pub(super) created_at: i64,
}

impl TryFrom<MessageRow> for MessageRecord {
    type Error = StoreError;

    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        Ok(MessageRecord {
            seq: r.seq,
            author: stored("author", &r.author)?,
            agent: r.agent,
            text: r.text,
            intent: r.intent,
            decision_json: r.decision,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SummaryRow {
    pub(super) id: String,
    pub(super) channel: String,
    pub(super) identity: String,
    pub(super) status: String,
    pub(super) summary: Option<String>,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
    pub(super) email: Option<String>,
    pub(super) name: Option<String>,
}

impl TryFrom<SummaryRow> for ConversationSummary {
    type Error = StoreError;

    fn try_from(r: SummaryRow) -> Result<Self, StoreError> {
        Ok(ConversationSummary {
            id: r.id,
            channel: stored("channel", &r.channel)?,
            identity: stored("identity", &r.identity)?,
            state: stored("status", &r.status)?,
            summary: r.summary,
            created_at: r.created_at,
            updated_at: r.updated_at,
            email: r.email,
            name: r.name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct EarlierRow {
    pub(super) id: String,
    pub(super) identity: String,
    pub(super) summary: Option<String>,
    pub(super) created_at: i64,
}

impl TryFrom<EarlierRow> for EarlierConversation {
    type Error = StoreError;

    fn try_from(r: EarlierRow) -> Result<Self, StoreError> {
        Ok(EarlierConversation {
            id: r.id,
            identity: stored("identity", &r.identity)?,
            summary: r.summary,
            created_at: r.created_at,
        })
    }
}

/// A handoff to create with the escalation that causes it.
#[derive(Debug, Clone)]
pub struct NewHandoff {
    /// Its id: also the webhook's `webhook-id`, the same on every retry.
    pub id: String,
    /// Why.
    pub reason: EscalationReason,
    /// How urgent.
    pub priority: Priority,
    /// The intent that led there, if any.
    pub intent: Option<String>,
    /// When its first attempt is due (milliseconds): now, or a little later
    /// when the bot first asks the customer for an e-mail address.
    pub due: i64,
    /// Whether it is a handoff of its own or adds to the conversation's.
    pub kind: HandoffKind,
}

/// How a new handoff relates to the conversation's earlier one. Whatever
/// the kind, a handoff of the conversation not attempted yet takes in the
/// new one (its transcript and details are read when it is sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffKind {
    /// A new escalation: a handoff of its own.
    New,
    /// The escalation the bot put off behind a question, now answered: an
    /// update of the handoff already sent for it, if one was; otherwise a
    /// handoff of its own.
    Resumed,
    /// More for the handoff already made (a detail given later): an update
    /// of it, or nothing when the conversation has none.
    Update,
}

impl HandoffKind {
    /// The name the statements take it by.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            HandoffKind::New => "new",
            HandoffKind::Resumed => "resumed",
            HandoffKind::Update => "update",
        }
    }
}

/// A live event to keep with a write, numbered in its conversation.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Its id: the conversation's `event_count` as read, plus one for each
    /// event before it in the write.
    pub id: i64,
    /// What kind (`message`, `state`, `ticket`).
    pub kind: &'static str,
    /// The event as its listeners read it (JSON).
    pub body: String,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredEvent {
    /// Its id in the conversation.
    pub id: i64,
    /// What kind.
    pub kind: String,
    /// The event (JSON).
    pub body: String,
}

/// Where a handoff's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoffStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The ticket system took it.
    Delivered,
    /// Given up: listed for operators, retried by hand.
    Dead,
}

impl HandoffStatus {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            HandoffStatus::Pending => "pending",
            HandoffStatus::Delivered => "delivered",
            HandoffStatus::Dead => "dead",
        }
    }
}

impl FromStr for HandoffStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            HandoffStatus::Pending,
            HandoffStatus::Delivered,
            HandoffStatus::Dead,
        ]
        .into_iter()
        .find(|h| h.as_str() == s)
        .ok_or_else(|| {
            format!("unknown handoff status `{s}` (expected pending, delivered or dead)")
        })
    }
}

/// A stored handoff.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HandoffRecord {
    /// Its id.
    pub id: String,
    /// The conversation handed off.
    pub conversation_id: String,
    /// The last message that belongs to it.
    #[serde(skip)]
    pub seq: i64,
    /// Why.
    pub reason: EscalationReason,
    /// How urgent.
    pub priority: Priority,
    /// The intent that led there.
    pub intent: Option<String>,
    /// Where its delivery stands.
    pub status: HandoffStatus,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When the next attempt is due (milliseconds).
    #[serde(skip)]
    pub next_attempt_at: i64,
    /// What went wrong last.
    pub last_error: Option<String>,
    /// The body sent, once built.
    #[serde(skip)]
    pub payload: Option<String>,
    /// The ticket system's reference.
    pub ticket_id: Option<String>,
    /// A link to the ticket.
    pub ticket_url: Option<String>,
    /// The handoff this one adds to (`handoff.updated`), if it is an
    /// update rather than a handoff of its own.
    pub updates: Option<String>,
    /// Created (milliseconds).
    #[serde(skip)]
    pub created_at: i64,
    /// Last changed (milliseconds).
    #[serde(skip)]
    pub updated_at: i64,
}

/// A handoff's row, as the database returns it.
#[derive(sqlx::FromRow)]
pub(super) struct HandoffRow {
    pub(super) id: String,
    pub(super) conversation_id: String,
    pub(super) seq: i64,
    pub(super) reason: String,
    pub(super) priority: String,
    pub(super) intent: Option<String>,
    pub(super) status: String,
    pub(super) attempts: i64,
    pub(super) next_attempt_at: i64,
    pub(super) last_error: Option<String>,
    pub(super) payload: Option<String>,
    pub(super) ticket_id: Option<String>,
    pub(super) ticket_url: Option<String>,
    pub(super) updates: Option<String>,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
}

impl TryFrom<HandoffRow> for HandoffRecord {
    type Error = StoreError;

    fn try_from(r: HandoffRow) -> Result<Self, StoreError> {
        Ok(HandoffRecord {
            id: r.id,
            conversation_id: r.conversation_id,
            seq: r.seq,
            reason: stored("reason", &r.reason)?,
            priority: stored("priority", &r.priority)?,
            intent: r.intent,
            status: stored("status", &r.status)?,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            payload: r.payload,
            ticket_id: r.ticket_id,
            ticket_url: r.ticket_url,
            updates: r.updates,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}
