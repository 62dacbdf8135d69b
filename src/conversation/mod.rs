//! The conversation service: what happens to a message between the channel
//! that received it and the store. It masks what must not be kept, loads
//! the conversation, lets the engine decide, and writes the messages and the
//! new state in one transaction (deciding again if another message changed
//! the conversation meanwhile). Live listeners hear of agent messages and
//! state changes through the [`Events`] hub.

mod events;
mod start;

pub use events::{Event, Events, Listener, Numbered, relay_other_replicas};
pub use start::{Start, Started, start};

use crate::engine::{ConversationState, Decision, Status, Turn, decide};
use crate::escalation::Escalation;
use crate::privacy::mask;
use crate::rules::{Channel, ReplyName, RuleSet};
use crate::store::{
    Author, ConversationRecord, HandoffKind, NewHandoff, NewMail, NewMessage, Planned, Store,
    StoreError, StoredDecision,
};

/// A customer message, decided and stored.
#[derive(Debug)]
pub struct Answered {
    /// The engine's decision.
    pub decision: Decision,
    /// The rule set's id of the intent, if any.
    pub intent: Option<String>,
}

/// Why a message could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The conversation is closed.
    #[error("the conversation is closed")]
    Closed,
    /// The conversation was deleted meanwhile (its customer's data, on
    /// request).
    #[error("the conversation no longer exists")]
    Gone,
    /// A quick reply the conversation's last reply did not offer.
    #[error("`quick_reply` `{picked}` was not offered by the last reply (offered: {})", if offered.is_empty() { "none".to_owned() } else { offered.join(", ") })]
    NotOffered {
        /// The intent sent back.
        picked: String,
        /// The intents the last reply offered.
        offered: Vec<String>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Milliseconds since the epoch, as the store keeps time.
#[must_use]
pub fn millis(at: jiff::Timestamp) -> i64 {
    at.as_millisecond()
}

/// A stored time (milliseconds) as RFC 3339, as the APIs show it.
#[must_use]
pub fn rfc3339(millis: i64) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// What a write did.
struct Written<T> {
    /// What the plan returned besides the write.
    outcome: T,
    /// The transcript's last place afterwards.
    seq: i64,
    /// The live events it kept, numbered: published once it is stored.
    events: Vec<Numbered>,
}

/// A plan's write, the live events it raises besides a change of state
/// (which is added by itself), and what the caller gets back.
type Plan<T> = (Planned, Vec<Event>, T);

/// The plan's write with its events numbered after the conversation's last
/// and kept with it: a change of state first, then the plan's own.
fn numbered<T>(record: &ConversationRecord, plan: Plan<T>) -> (Planned, (Vec<Numbered>, T)) {
    let (mut write, raised, outcome) = plan;
    let mut events = Vec::with_capacity(raised.len() + 1);
    if write.state.status != record.state.status {
        events.push(Event::State {
            state: write.state.status,
        });
    }
    events.extend(raised);
    let events: Vec<Numbered> = (record.event_count + 1..)
        .zip(events)
        .map(|(id, event)| Numbered { id, event })
        .collect();
    write.events = events.iter().map(Numbered::to_new).collect();
    (write, (events, outcome))
}

/// Plans a write from the conversation and stores it. When another message
/// changed the conversation meanwhile (a version conflict), plans again on
/// the conversation as it is now, holding it in the database this time, so
/// that racing messages take turns rather than retry against each other:
/// each is decided on the state the one before left. The plan is pure, so
/// deciding again loses nothing.
async fn write_planned<T: Send>(
    store: &Store,
    conversation: ConversationRecord,
    now: jiff::Timestamp,
    plan: impl FnMut(&ConversationRecord) -> Plan<T> + Send,
) -> Result<Written<T>, MessageError> {
    write_planned_in(store, conversation, now, false, plan).await
}

/// [`write_planned`], also to a closed conversation when `closed_too`.
async fn write_planned_in<T: Send>(
    store: &Store,
    conversation: ConversationRecord,
    now: jiff::Timestamp,
    closed_too: bool,
    mut plan: impl FnMut(&ConversationRecord) -> Plan<T> + Send,
) -> Result<Written<T>, MessageError> {
    if conversation.state.status == Status::Closed && !closed_too {
        return Err(MessageError::Closed);
    }
    let (write, (events, outcome)) = numbered(&conversation, plan(&conversation));
    let stored = store
        .record(
            &conversation.id,
            conversation.version,
            &write.as_write(),
            millis(now),
        )
        .await;
    match stored {
        Ok(seq) => {
            return Ok(Written {
                outcome,
                seq,
                events,
            });
        }
        Err(StoreError::Conflict) => {}
        Err(other) => return Err(other.into()),
    }
    let serialized = store
        .record_serialized(&conversation.id, millis(now), |current| {
            if current.state.status == Status::Closed && !closed_too {
                return Err(MessageError::Closed);
            }
            Ok(numbered(current, plan(current)))
        })
        .await?;
    let (seq, (events, outcome)) = serialized.ok_or(MessageError::Gone)?;
    Ok(Written {
        outcome,
        seq,
        events,
    })
}

/// Tells the conversation's live listeners what a write kept.
fn publish<T>(events: &Events, id: &str, written: &Written<T>) {
    for event in &written.events {
        events.publish(id, event.clone());
    }
}

/// What the customer sent: a text, or a quick reply tapped (its label and
/// the intent it stands for).
#[derive(Debug, Clone, Copy)]
pub struct Said<'a> {
    /// The text, or the tapped quick reply's label.
    pub text: &'a str,
    /// The intent of the tapped quick reply.
    pub quick_reply: Option<&'a str>,
    /// A person is needed whatever the text says (see [`Turn`]).
    pub needs_person: Option<crate::escalation::EscalationReason>,
}

impl<'a> Said<'a> {
    /// A text the customer typed.
    #[must_use]
    pub fn typed(text: &'a str) -> Self {
        Said {
            text,
            quick_reply: None,
            needs_person: None,
        }
    }
}

/// Decides and stores a customer's message in `conversation`.
///
/// # Errors
/// [`MessageError::NotOffered`] for a quick reply the last reply did not
/// offer, [`MessageError::Closed`] for a closed conversation,
/// [`MessageError::Gone`] for one deleted meanwhile, or a store failure.
pub async fn customer_message(
    store: &Store,
    rules: &RuleSet,
    events: &Events,
    conversation: ConversationRecord,
    said: Said<'_>,
    now: jiff::Timestamp,
) -> Result<Answered, MessageError> {
    customer_message_with(store, rules, events, conversation, said, now, &|_, _| {
        Vec::new()
    })
    .await
}

/// The mails a channel keeps with a customer's message, made from the
/// decision and the masked text: the mail it came in and the mail that
/// answers it, written in the same transaction.
pub type MailsOf<'a> = &'a (dyn Fn(&Decision, &str) -> Vec<NewMail> + Send + Sync);

/// [`customer_message`], keeping the channel's `mails` with it.
///
/// # Errors
/// As [`customer_message`].
#[tracing::instrument(name = "customer_message", skip_all, fields(conversation = %conversation.id))]
pub async fn customer_message_with(
    store: &Store,
    rules: &RuleSet,
    events: &Events,
    conversation: ConversationRecord,
    said: Said<'_>,
    now: jiff::Timestamp,
    mails: MailsOf<'_>,
) -> Result<Answered, MessageError> {
    if let Some(picked) = said.quick_reply
        && !conversation.state.offers(picked)
    {
        return Err(MessageError::NotOffered {
            picked: picked.to_owned(),
            offered: conversation.state.offered.clone(),
        });
    }
    let text = mask(said.text);
    let channel = conversation.channel;
    let id = conversation.id.clone();
    let written = write_planned(store, conversation, now, |conversation| {
        let decision = decide(
            rules,
            &conversation.state,
            Turn {
                text: &text,
                quick_reply: said.quick_reply,
                channel,
                now,
                needs_person: said.needs_person,
            },
        );
        let intent = decision
            .intent
            .map(|i| rules.intent(i).id.as_str().to_owned());
        let handoff = handoff(&conversation.state, &decision, intent.as_deref(), now);
        // An escalation counts once, when its handoff is made (a put-off
        // one is made at once, due later; its resumption is the same).
        let escalated = handoff
            .as_ref()
            .filter(|h| h.kind == HandoffKind::New)
            .map(|h| (h.reason, h.priority));
        let write = Planned {
            messages: vec![
                NewMessage {
                    author: Author::Customer,
                    agent: None,
                    text: text.clone().into_owned(),
                    intent: intent.clone(),
                    decision: Some(stored_decision(rules, &decision, &text)),
                },
                NewMessage {
                    author: Author::Bot,
                    agent: None,
                    text: decision.reply.text.clone(),
                    intent: None,
                    decision: None,
                },
            ],
            state: decision.state.clone(),
            summary: conversation
                .summary
                .is_none()
                .then(|| summary(rules, &decision, &text)),
            handoff,
            events: Vec::new(),
            mails: mails(&decision, &text),
        };
        (
            write,
            Vec::new(),
            (Answered { decision, intent }, escalated),
        )
    })
    .await?;
    publish(events, &id, &written);
    let (answered, escalated) = written.outcome;
    let decision = &answered.decision;
    tracing::info!(
        intent = answered.intent.as_deref().unwrap_or("-"),
        action = ?decision.action,
        escalation = decision.escalation.map(|e| e.reason.as_str()),
        "message"
    );
    count(channel, decision, answered.intent.as_deref(), escalated);
    Ok(answered)
}

/// Counts a decided message for the metrics.
fn count(
    channel: Channel,
    decision: &Decision,
    intent: Option<&str>,
    escalated: Option<(
        crate::escalation::EscalationReason,
        crate::escalation::Priority,
    )>,
) {
    use crate::telemetry::{ESCALATIONS, FALLBACKS, INTENTS, MESSAGES};
    metrics::counter!(
        MESSAGES,
        "channel" => channel.as_str(),
        "locale" => decision.locale.as_str()
    )
    .increment(1);
    if let Some(intent) = intent {
        metrics::counter!(INTENTS, "intent" => intent.to_owned()).increment(1);
    }
    if decision.action == crate::engine::Action::Fallback {
        metrics::counter!(FALLBACKS, "channel" => channel.as_str()).increment(1);
    }
    if let Some((reason, priority)) = escalated {
        metrics::counter!(
            ESCALATIONS,
            "reason" => reason.as_str(),
            "priority" => priority.as_str()
        )
        .increment(1);
    }
}

/// How long a handoff put off behind a question waits for the answer
/// before it goes to the ticket system anyway.
const DEFERRED_HANDOFF: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// The handoff a decision writes to the outbox: due now when the
/// conversation is handed off, a little later when the bot first asks a
/// question (an answer in time takes its place). One escalation is one
/// handoff, whatever the timing: the answer to a question that came after
/// the put-off handoff went out, and a detail given once a person has the
/// conversation, are updates of it.
fn handoff(
    before: &ConversationState,
    decision: &Decision,
    intent: Option<&str>,
    now: jiff::Timestamp,
) -> Option<NewHandoff> {
    let (escalation, due, kind) = match (decision.escalation, decision.deferred) {
        (Some(escalation), _) if before.status == Status::AwaitingDetail => {
            (escalation, now, HandoffKind::Resumed)
        }
        (Some(escalation), _) => (escalation, now, HandoffKind::New),
        // Put off again behind a second question (an order number, then
        // the address): still the same escalation.
        (None, Some(escalation)) => (
            escalation,
            now.checked_add(DEFERRED_HANDOFF).unwrap_or(now),
            if before.status == Status::AwaitingDetail {
                HandoffKind::Resumed
            } else {
                HandoffKind::New
            },
        ),
        (None, None) => {
            let handed_off = decision.state.handoff.as_ref()?;
            if before.status != Status::HandedOff || decision.state.details == before.details {
                return None;
            }
            let escalation = Escalation {
                reason: handed_off.reason,
                priority: handed_off.priority,
            };
            (escalation, now, HandoffKind::Update)
        }
    };
    Some(NewHandoff {
        id: crate::ids::new_id(),
        reason: escalation.reason,
        priority: escalation.priority,
        // An update is about the handoff's intent, not this message's.
        intent: intent
            .filter(|_| kind != HandoffKind::Update)
            .map(str::to_owned),
        due: due.as_millisecond(),
        kind,
    })
}

/// What is kept of a decision for the agent and the handoff: the action,
/// the escalation that happened, and the classification report (intent,
/// evidence, sentiment, cues).
fn stored_decision(rules: &RuleSet, decision: &Decision, text: &str) -> String {
    StoredDecision {
        action: decision.action,
        escalation: decision.escalation,
        classification: decision.classification.report(rules, text, false),
        rules_version: Some(rules.version().to_owned()),
        resolved: decision.resolved,
    }
    .to_json()
}

/// A one-line summary from the first message: its intent's label and what
/// the customer wrote, shortened.
fn summary(rules: &RuleSet, decision: &Decision, text: &str) -> String {
    const LENGTH: usize = 60;
    let mut short: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if short.chars().count() > LENGTH {
        short = short.chars().take(LENGTH).collect::<String>() + "…";
    }
    match decision.intent {
        Some(intent) => format!("{}: {short}", rules.intent(intent).label(decision.locale)),
        None => short,
    }
}

/// Adds an agent's message: the conversation is a person's from now on.
/// Returns the message's place in the transcript.
///
/// # Errors
/// [`MessageError::Closed`] for a closed conversation,
/// [`MessageError::Gone`] for one deleted meanwhile, or a store failure.
pub async fn agent_message(
    store: &Store,
    events: &Events,
    conversation: ConversationRecord,
    agent: &str,
    text: &str,
    now: jiff::Timestamp,
) -> Result<i64, MessageError> {
    agent_message_with(store, events, conversation, agent, text, now, &|_| {
        Vec::new()
    })
    .await
}

/// [`agent_message`], keeping the mails the channel sends it as (made from
/// the masked text) in the same transaction.
///
/// # Errors
/// As [`agent_message`].
pub async fn agent_message_with(
    store: &Store,
    events: &Events,
    conversation: ConversationRecord,
    agent: &str,
    text: &str,
    now: jiff::Timestamp,
    mails: &(dyn Fn(&str) -> Vec<NewMail> + Send + Sync),
) -> Result<i64, MessageError> {
    let text = mask(text).into_owned();
    let id = conversation.id.clone();
    let written = write_planned(store, conversation, now, |conversation| {
        let mut state = conversation.state.clone();
        state.status = Status::HandedOff;
        state.pending = None;
        let message = NewMessage {
            author: Author::Agent,
            agent: Some(agent.to_owned()),
            text: text.clone(),
            intent: None,
            decision: None,
        };
        let event = Event::Message {
            seq: conversation.message_count + 1,
            author: Author::Agent,
            agent: Some(agent.to_owned()),
            text: text.clone(),
            at: now.to_string(),
        };
        let write = Planned {
            messages: vec![message],
            state,
            summary: None,
            handoff: None,
            events: Vec::new(),
            mails: mails(&text),
        };
        (write, vec![event], ())
    })
    .await?;
    publish(events, &id, &written);
    Ok(written.seq)
}

/// Closes a conversation; closing a closed one changes nothing.
///
/// # Errors
/// [`MessageError::Gone`] for a conversation deleted meanwhile, or a store
/// failure.
pub async fn close(
    store: &Store,
    events: &Events,
    conversation: ConversationRecord,
    now: jiff::Timestamp,
) -> Result<(), MessageError> {
    let id = conversation.id.clone();
    let closing = write_planned(store, conversation, now, |conversation| {
        let mut state = conversation.state.clone();
        state.status = Status::Closed;
        state.pending = None;
        let write = Planned {
            messages: Vec::new(),
            state,
            summary: None,
            handoff: None,
            events: Vec::new(),
            mails: Vec::new(),
        };
        (write, Vec::new(), ())
    })
    .await;
    match closing {
        Ok(written) => {
            publish(events, &id, &written);
            Ok(())
        }
        Err(MessageError::Closed) => Ok(()),
        Err(err) => Err(err),
    }
}

/// A handoff the ticket system took: why and how urgent, and the ticket's
/// reference if the system gave one.
#[derive(Debug, Clone, Copy)]
pub struct Delivered<'a> {
    /// The escalation handed off.
    pub escalation: Escalation,
    /// The ticket's id.
    pub ticket_id: Option<&'a str>,
    /// A link to the ticket.
    pub url: Option<&'a str>,
}

/// A handoff reached the ticket system: the conversation is with a person
/// now (one put off behind a question the customer has not answered moves
/// to `handed_off`, so that a late answer adds to the ticket instead of
/// opening another), and the customer is told the ticket's reference, if
/// there is one: a message in the transcript, and live.
///
/// # Errors
/// A store failure (a conversation deleted meanwhile is no error).
pub async fn handoff_delivered(
    store: &Store,
    rules: &RuleSet,
    events: &Events,
    conversation_id: &str,
    delivered: Delivered<'_>,
    now: jiff::Timestamp,
) -> Result<(), StoreError> {
    let Some(conversation) = store.conversation(conversation_id).await? else {
        return Ok(());
    };
    let text = delivered
        .ticket_id
        .map(|ticket_id| ticket_text(rules, &conversation, ticket_id, delivered.url));
    let moves =
        |state: &ConversationState| matches!(state.status, Status::Bot | Status::AwaitingDetail);
    if text.is_none() && !moves(&conversation.state) {
        return Ok(());
    }
    // A closed conversation still records its ticket.
    let written = write_planned_in(store, conversation, now, true, |conversation| {
        let mut state = conversation.state.clone();
        if moves(&state) {
            state.status = Status::HandedOff;
            state.pending = None;
            state.offered.clear();
            state.handoff.get_or_insert(crate::engine::Handoff {
                reason: delivered.escalation.reason,
                priority: delivered.escalation.priority,
                at: now,
            });
        }
        let messages = text
            .iter()
            .map(|text| NewMessage {
                author: Author::System,
                agent: None,
                text: text.clone(),
                intent: None,
                decision: None,
            })
            .collect();
        let ticket = delivered
            .ticket_id
            .zip(text.as_ref())
            .map(|(ticket_id, text)| Event::Ticket {
                ticket_id: ticket_id.to_owned(),
                url: delivered.url.map(str::to_owned),
                text: text.clone(),
            });
        let write = Planned {
            messages,
            state,
            summary: None,
            handoff: None,
            events: Vec::new(),
            mails: Vec::new(),
        };
        (write, ticket.into_iter().collect(), ())
    })
    .await;
    match written {
        Ok(written) => publish(events, conversation_id, &written),
        // (A quick reply is not checked here: a system message has none.)
        Err(MessageError::Closed | MessageError::Gone | MessageError::NotOffered { .. }) => {}
        Err(MessageError::Store(err)) => return Err(err),
    }
    Ok(())
}

/// The `ticket` reply: the customer's reference for their handoff.
fn ticket_text(
    rules: &RuleSet,
    conversation: &ConversationRecord,
    ticket_id: &str,
    url: Option<&str>,
) -> String {
    let locale = conversation
        .state
        .locale
        .unwrap_or_else(|| rules.default_locale());
    rules
        .render_reply(
            ReplyName::Ticket,
            locale,
            conversation.channel,
            0,
            &conversation.state.details,
            minijinja::context! { ticket_id => ticket_id, ticket_url => url },
        )
        .unwrap_or_else(|_| ticket_id.to_owned())
}
