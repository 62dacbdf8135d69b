//! The handoff's context bundle: everything a person needs to help at
//! once, as the `handoff.created` event (`schemas/handoff.created.json`);
//! and what the conversation adds to it later, as the `handoff.updated`
//! event (`schemas/handoff.updated.json`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::classify::CueReport;
use crate::conversation::rfc3339;
use crate::escalation::{EscalationReason, Priority};
use crate::rules::{Channel, RuleSet};
use crate::store::{
    Author, ConversationRecord, EarlierConversation, HandoffRecord, Identity, MailDirection,
    MailKind, MailRecord, MessageRecord, StoreError,
};

/// The event sent to the ticket webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Envelope {
    /// A handoff: a new ticket.
    #[serde(rename = "handoff.created")]
    Created {
        /// When the handoff was created (RFC 3339).
        timestamp: String,
        /// The handoff.
        data: Box<Handoff>,
    },
    /// More for a handoff already delivered: added to its ticket.
    #[serde(rename = "handoff.updated")]
    Updated {
        /// When the update was made (RFC 3339).
        timestamp: String,
        /// The update.
        data: Box<Update>,
    },
}

impl Envelope {
    /// The event's id: `webhook-id`, the same on every retry.
    #[must_use]
    pub fn id(&self) -> &str {
        match self {
            Envelope::Created { data, .. } => &data.handoff_id,
            Envelope::Updated { data, .. } => &data.update_id,
        }
    }
}

/// What a conversation added to its handoff after it was delivered: a
/// detail the customer gave later, and the messages since.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Update {
    /// The update's id (also `webhook-id`).
    pub update_id: String,
    /// The handoff it adds to.
    pub handoff_id: String,
    /// That handoff's ticket, as the ticket system named it.
    pub ticket_id: Option<String>,
    /// The conversation.
    pub conversation_id: String,
    /// `chat` or `email`.
    pub channel: Channel,
    /// Who the customer is, as known now.
    pub customer: Customer,
    /// `complaint`, `human_requested`, `repeated_fallback`, `rule`, `safety`,
    /// `threat`.
    pub reason: EscalationReason,
    /// `low`, `normal`, `high`, `urgent`.
    pub priority: Priority,
    /// Every detail collected so far, masked as stored.
    pub details: BTreeMap<String, String>,
    /// The details that are new or changed since the handoff.
    pub new_details: BTreeMap<String, String>,
    /// The messages after the handoff's, up to the update.
    pub transcript: Vec<TranscriptLine>,
}

/// One handoff, with its context.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Handoff {
    /// The handoff's id (also `webhook-id`).
    pub handoff_id: String,
    /// The conversation handed off.
    pub conversation_id: String,
    /// `chat` or `email`.
    pub channel: Channel,
    /// Who the customer is, and how sure that is.
    pub customer: Customer,
    /// `complaint`, `human_requested`, `repeated_fallback`, `rule`, `safety`,
    /// `threat`.
    pub reason: EscalationReason,
    /// `low`, `normal`, `high`, `urgent`.
    pub priority: Priority,
    /// The team or queue, from the intent's rule.
    pub team: Option<String>,
    /// Routing labels, from the intent's rule.
    pub tags: Vec<String>,
    /// A one-line summary.
    pub summary: String,
    /// The messages up to the handoff: all of them, or for a long
    /// conversation the first and the last, with a note where the others
    /// were.
    pub transcript: Vec<TranscriptLine>,
    /// How many messages the transcript leaves out (0: none).
    #[serde(default)]
    pub transcript_omitted: u64,
    /// Where the whole conversation is, in the agent API, when messages
    /// are left out and the service knows its public URL.
    #[serde(default)]
    pub transcript_url: Option<String>,
    /// The intents the customer's messages were taken as, in order.
    pub intents: Vec<String>,
    /// Details collected (order number, e-mail...), masked as stored.
    pub details: BTreeMap<String, String>,
    /// Each customer message's sentiment and what moved it.
    pub sentiment: Vec<MessageSentiment>,
    /// The customer's earlier conversations.
    pub earlier_conversations: Vec<Earlier>,
    /// Whether a person is there, and when the customer was promised an
    /// answer.
    pub business_hours: BusinessHours,
    /// The version of the rule set the handing-off decision was made with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_version: Option<String>,
    /// For an e-mail conversation: the mail that was handed off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailContext>,
}

/// The customer's mail behind an e-mail handoff, as the agent needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmailContext {
    /// Its Message-ID.
    pub message_id: String,
    /// The sender's address.
    pub from: Option<String>,
    /// Whether the receiving server's DMARC check passed for the sender.
    pub sender_verified: bool,
    /// The subject, masked.
    pub subject: String,
    /// The decoded body, quoted history included, masked; cut after
    /// [`MAX_ORIGINAL_CHARS`] characters (the whole is in the agent API).
    pub original: String,
    /// Whether `original` was cut.
    #[serde(default)]
    pub original_truncated: bool,
    /// The customer's new text, as classified.
    pub stripped: Option<String>,
    /// The attached files: listed, not sent.
    pub attachments: Vec<crate::store::Attachment>,
}

/// The rule-set version of the last decision before the handoff.
fn rules_version(messages: &[&MessageRecord]) -> Result<Option<String>, StoreError> {
    for message in messages.iter().rev() {
        if let Some(decision) = message.decision()? {
            return Ok(decision.rules_version);
        }
    }
    Ok(None)
}

/// The most characters of a mail's body a handoff carries: a ticket
/// system may refuse a large body, and a long thread quoted in full adds
/// nothing the agent API does not show.
pub const MAX_ORIGINAL_CHARS: usize = 20_000;

/// The customer's latest mail up to the handoff.
fn email_context(mails: &[MailRecord], seq: i64) -> Option<EmailContext> {
    let mail = mails.iter().rev().find(|m| {
        m.direction == MailDirection::In
            && m.kind == MailKind::Customer
            && m.seq.is_none_or(|s| s <= seq)
    })?;
    let truncated = mail.body.chars().count() > MAX_ORIGINAL_CHARS;
    Some(EmailContext {
        original_truncated: truncated,
        message_id: mail.message_id.clone(),
        from: mail.sender.clone(),
        sender_verified: mail.details.sender_verified,
        subject: mail.subject.clone(),
        original: mail.body.chars().take(MAX_ORIGINAL_CHARS).collect(),
        stripped: mail.details.stripped.clone(),
        attachments: mail.details.attachments.clone(),
    })
}

/// The customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Customer {
    /// Name, if given.
    pub name: Option<String>,
    /// E-mail address, if known.
    pub email: Option<String>,
    /// The conversation's language.
    pub locale: Option<String>,
    /// The shop's id of the customer, when verified.
    pub external_id: Option<String>,
    /// Whether the identity was verified by the shop (`user_hash`).
    pub verified: bool,
}

/// One message of the transcript.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TranscriptLine {
    /// Its place.
    pub seq: i64,
    /// `customer`, `bot`, `agent` or `system`.
    pub author: Author,
    /// The agent's name, for agent messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The text (masked).
    pub text: String,
    /// When (RFC 3339).
    pub at: String,
}

/// The sentiment of one customer message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageSentiment {
    /// The message's place in the transcript.
    pub seq: i64,
    /// −1 to 1.
    pub score: f64,
    /// Whether it is a complaint.
    pub complaint: bool,
    /// What moved the score.
    pub cues: Vec<CueReport<'static>>,
}

/// An earlier conversation of the customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Earlier {
    /// Its id.
    pub id: String,
    /// When it started (RFC 3339).
    pub date: String,
    /// Its one-line summary.
    pub summary: Option<String>,
    /// Whether it is linked to this customer by a verified identity.
    pub verified: bool,
}

/// Business hours at the handoff.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BusinessHours {
    /// Whether a person was there when it was handed off.
    pub open: bool,
    /// The holiday or closure, when that is why it was closed.
    pub closed_for: Option<String>,
    /// The schedule's time zone.
    pub time_zone: String,
    /// When a person is next there (RFC 3339).
    pub next_open: Option<String>,
    /// When the customer was promised an answer (RFC 3339).
    pub response_due: Option<String>,
}

/// How large a handoff may grow.
#[derive(Debug, Clone)]
pub struct Bounds {
    /// The most transcript messages it carries.
    pub max_messages: usize,
    /// Where the service is reached from outside, for the link to the whole
    /// transcript.
    pub public_url: Option<String>,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_messages: 200,
            public_url: None,
        }
    }
}

/// Builds the event for `handoff` from the conversation as stored, within
/// `bounds`.
///
/// # Errors
/// [`StoreError::Corrupt`] when a stored decision is unreadable.
pub fn build(
    rules: &RuleSet,
    handoff: &HandoffRecord,
    conversation: &ConversationRecord,
    messages: &[MessageRecord],
    earlier: &[EarlierConversation],
    mails: &[MailRecord],
    bounds: &Bounds,
) -> Result<Envelope, StoreError> {
    let messages: Vec<&MessageRecord> = messages.iter().filter(|m| m.seq <= handoff.seq).collect();
    // Every intent of the conversation, also of the messages left out.
    let intents = intents(&messages);
    let (messages, omitted) = trimmed(messages, bounds.max_messages);
    let intent = handoff
        .intent
        .as_deref()
        .and_then(|id| rules.intent_index(id))
        .map(|i| rules.intent(i));
    let data = Handoff {
        handoff_id: handoff.id.clone(),
        conversation_id: conversation.id.clone(),
        channel: conversation.channel,
        customer: customer(conversation),
        reason: handoff.reason,
        priority: handoff.priority,
        team: intent.and_then(|i| i.team.clone()),
        tags: intent.map(|i| i.tags.clone()).unwrap_or_default(),
        summary: summary(handoff, conversation),
        transcript: transcript(&messages, omitted),
        transcript_omitted: omitted.map_or(0, |(_, n)| n as u64),
        transcript_url: omitted
            .and(bounds.public_url.as_deref())
            .map(|url| format!("{url}/v1/admin/conversations/{}", conversation.id)),
        intents,
        details: conversation.state.details.clone(),
        sentiment: sentiments(&messages)?,
        earlier_conversations: earlier
            .iter()
            .map(|e| Earlier {
                id: e.id.clone(),
                date: rfc3339(e.created_at),
                summary: e.summary.clone(),
                verified: e.identity == Identity::Verified,
            })
            .collect(),
        business_hours: business_hours(rules, conversation, handoff.created_at),
        email: email_context(mails, handoff.seq),
        rules_version: rules_version(&messages)?,
    };
    Ok(Envelope::Created {
        timestamp: rfc3339(handoff.created_at),
        data: Box::new(data),
    })
}

/// Builds the event for `update`, which adds to `parent` (delivered), from
/// the conversation as stored: the messages after `since` (the parent's
/// last, or the last an earlier update of it carried), and the details
/// they brought.
///
/// # Errors
/// [`StoreError::Corrupt`] when a stored decision is unreadable.
pub fn build_update(
    update: &HandoffRecord,
    parent: &HandoffRecord,
    since: i64,
    conversation: &ConversationRecord,
    messages: &[MessageRecord],
) -> Result<Envelope, StoreError> {
    // The ticket's own reference, told to the customer, is no news to the
    // ticket system.
    let new: Vec<&MessageRecord> = messages
        .iter()
        .filter(|m| m.seq > since && m.seq <= update.seq && m.author != Author::System)
        .collect();
    let details = conversation.state.details.clone();
    let mut new_details = BTreeMap::new();
    for message in &new {
        if let Some(decision) = message.decision()? {
            new_details.extend(decision.classification.details);
        }
    }
    new_details.retain(|name, _| details.contains_key(name));
    for (name, value) in &mut new_details {
        value.clone_from(&details[name]);
    }
    let data = Update {
        update_id: update.id.clone(),
        handoff_id: parent.id.clone(),
        ticket_id: parent.ticket_id.clone(),
        conversation_id: conversation.id.clone(),
        channel: conversation.channel,
        customer: customer(conversation),
        reason: update.reason,
        priority: update.priority,
        details,
        new_details,
        transcript: new.iter().map(|m| line(m)).collect(),
    };
    Ok(Envelope::Updated {
        timestamp: rfc3339(update.created_at),
        data: Box::new(data),
    })
}

fn customer(conversation: &ConversationRecord) -> Customer {
    Customer {
        name: conversation.name.clone(),
        email: conversation.customer_email().map(str::to_owned),
        locale: conversation.state.locale.map(|l| l.as_str().to_owned()),
        external_id: conversation.external_id.clone(),
        verified: conversation.identity == Identity::Verified,
    }
}

/// `priority · reason: the conversation's summary`.
fn summary(handoff: &HandoffRecord, conversation: &ConversationRecord) -> String {
    let what = conversation.summary.as_deref().unwrap_or("(no message)");
    format!("[{}] {}: {what}", handoff.priority, handoff.reason)
}

/// The first quarter and the last of at most `max` messages, and where
/// the ones left out were (the index of the first kept after them) and how
/// many.
fn trimmed(
    messages: Vec<&MessageRecord>,
    max: usize,
) -> (Vec<&MessageRecord>, Option<(usize, usize)>) {
    if messages.len() <= max {
        return (messages, None);
    }
    let head = max / 4;
    let tail = max - head;
    let omitted = messages.len() - head - tail;
    let mut kept = messages[..head].to_vec();
    kept.extend_from_slice(&messages[messages.len() - tail..]);
    (kept, Some((head, omitted)))
}

/// The transcript lines, with a note where messages were left out.
fn transcript(messages: &[&MessageRecord], omitted: Option<(usize, usize)>) -> Vec<TranscriptLine> {
    let mut lines: Vec<TranscriptLine> = messages.iter().map(|m| line(m)).collect();
    if let Some((at, count)) = omitted {
        let next = &lines[at];
        let note = TranscriptLine {
            seq: next.seq - 1,
            author: Author::System,
            agent: None,
            text: format!(
                "({count} messages left out: the whole conversation is in the agent API)"
            ),
            at: next.at.clone(),
        };
        lines.insert(at, note);
    }
    lines
}

fn line(message: &MessageRecord) -> TranscriptLine {
    TranscriptLine {
        seq: message.seq,
        author: message.author,
        agent: message.agent.clone(),
        text: message.text.clone(),
        at: rfc3339(message.created_at),
    }
}

fn intents(messages: &[&MessageRecord]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for intent in messages.iter().filter_map(|m| m.intent.as_ref()) {
        if !seen.contains(intent) {
            seen.push(intent.clone());
        }
    }
    seen
}

/// The sentiment of each customer message, from its stored decision.
fn sentiments(messages: &[&MessageRecord]) -> Result<Vec<MessageSentiment>, StoreError> {
    let mut found = Vec::new();
    for message in messages {
        if let Some(decision) = message.decision()? {
            let classification = decision.classification;
            found.push(MessageSentiment {
                seq: message.seq,
                score: classification.sentiment,
                complaint: classification.complaint,
                cues: classification.cues,
            });
        }
    }
    Ok(found)
}

fn business_hours(rules: &RuleSet, conversation: &ConversationRecord, at: i64) -> BusinessHours {
    let policy = rules.policy();
    let now = Timestamp::from_millisecond(at).unwrap_or(Timestamp::UNIX_EPOCH);
    let availability = policy.hours.availability(now);
    let channel = conversation.channel;
    let locale = conversation
        .state
        .locale
        .unwrap_or_else(|| rules.default_locale());
    BusinessHours {
        open: availability.open,
        closed_for: availability
            .closed_for
            .as_ref()
            .and_then(|n| n.get(locale))
            .map(str::to_owned),
        time_zone: policy
            .hours
            .time_zone()
            .iana_name()
            .unwrap_or("UTC")
            .to_owned(),
        next_open: availability.next_open.map(|z| z.timestamp().to_string()),
        response_due: policy
            .hours
            .add_open_time(now, policy.escalation.response_time(channel))
            .map(|z| z.timestamp().to_string()),
    }
}

/// An update as plain text, for a help desk's comment or note.
#[must_use]
pub fn update_text(data: &Update) -> String {
    let mut out = String::from("More from the conversation since the handoff:\n\n");
    for line in &data.transcript {
        let who = match (line.author, &line.agent) {
            (Author::Agent, Some(agent)) => agent.clone(),
            (author, _) => author.as_str().to_owned(),
        };
        let _ = writeln!(out, "[{}] {who}: {}", line.at, line.text);
    }
    if !data.new_details.is_empty() {
        out.push('\n');
        for (name, value) in &data.new_details {
            let _ = writeln!(out, "{name}: {value}");
        }
    }
    out
}

/// The transcript as plain text, for help desks that take one body.
#[must_use]
pub fn transcript_text(data: &Handoff) -> String {
    let mut out = String::new();
    out.push_str(&data.summary);
    out.push_str("\n\n");
    for line in &data.transcript {
        let who = match (line.author, &line.agent) {
            (Author::Agent, Some(agent)) => agent.clone(),
            (author, _) => author.as_str().to_owned(),
        };
        let _ = writeln!(out, "[{}] {who}: {}", line.at, line.text);
    }
    if !data.details.is_empty() {
        out.push('\n');
        for (name, value) in &data.details {
            let _ = writeln!(out, "{name}: {value}");
        }
    }
    out
}
