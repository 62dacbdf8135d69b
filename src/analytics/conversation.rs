//! What the analytics know of one conversation, read from its stored rows.

use std::collections::HashMap;

use jiff::tz::TimeZone;
use serde::Serialize;

use super::Settings;
use crate::engine::Action;
use crate::escalation::EscalationReason;
use crate::store::{
    AnalyticsConversation, AnalyticsFeedback, AnalyticsHandoff, AnalyticsMessage, AnalyticsRows,
    Author, StoredDecision,
};

/// How the bot settled a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettledBy {
    /// After an answer, the customer thanked or said goodbye.
    Thanks,
    /// After an answer, the customer said nothing more for the silence
    /// window.
    Silence,
}

/// Whether the bot settled a conversation.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Outcome {
    /// How, when it did.
    pub settled_by: Option<SettledBy>,
    /// When, in milliseconds: the thanks, or the end of the silence.
    pub settled_at: Option<i64>,
    /// Whether the customer came back within the reopening window after.
    pub reopened: bool,
}

impl Outcome {
    /// Whether the bot settled it.
    #[must_use]
    pub fn is_resolved(&self) -> bool {
        self.settled_by.is_some()
    }
}

/// A customer message nothing matched.
#[derive(Debug, Clone)]
pub struct Unmatched {
    /// Its place.
    pub seq: i64,
    /// Its normalized form, which groups it with the same question asked
    /// in other words of case, width or kana.
    pub group: String,
    /// What the customer wrote.
    pub text: String,
}

/// A handoff of the conversation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Escalated {
    /// Why.
    pub reason: String,
    /// How urgent.
    pub priority: String,
}

/// How soon a person answered a handoff.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FirstReply {
    /// When it was handed off, in milliseconds.
    pub handed_off_at: i64,
    /// When a person first answered after it, if one did.
    pub replied_at: Option<i64>,
    /// When the customer was promised an answer, if known.
    pub due_at: Option<i64>,
    /// Answered after the promise, or not answered and the promise passed.
    pub late: bool,
}

/// One conversation as the analytics see it.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// Its id.
    pub id: String,
    /// `chat` or `email`.
    pub channel: String,
    /// Its locale, `unknown` before a message showed one.
    pub locale: String,
    /// Its one-line summary.
    pub summary: Option<String>,
    /// When it started, in milliseconds.
    pub created_at: i64,
    /// The day it started, in the business hours' time zone.
    pub date: String,
    /// Messages from the customer.
    pub customer_messages: u32,
    /// Customer messages the bot decided on (not acknowledged for a
    /// person, not after closing).
    pub decided: u32,
    /// Places of the messages the bot did not understand.
    pub fallback_seqs: Vec<i64>,
    /// The intents messages were taken as, with their places.
    pub intents: Vec<(i64, String)>,
    /// Messages nothing matched.
    pub unmatched: Vec<Unmatched>,
    /// Its handoffs.
    pub escalations: Vec<Escalated>,
    /// How soon a person answered each handoff.
    pub first_replies: Vec<FirstReply>,
    /// Satisfaction scores given.
    pub csat: Vec<i64>,
    /// Helpful / not helpful answers given.
    pub helpful: Vec<bool>,
    /// Whether the bot settled it.
    pub outcome: Outcome,
    /// The texts of its messages by place, for context in drill-downs.
    pub texts: HashMap<i64, String>,
}

/// One customer message with what the bot did.
struct Turn {
    at: i64,
    action: Option<Action>,
    escalation: Option<EscalationReason>,
    resolved: bool,
}

impl Turn {
    fn is_answer(&self) -> bool {
        self.action == Some(Action::Answer)
    }

    fn is_fallback(&self) -> bool {
        self.action == Some(Action::Fallback)
            || self.escalation == Some(EscalationReason::RepeatedFallback)
    }

    fn escalates(&self) -> bool {
        self.action == Some(Action::Escalate) || self.escalation.is_some()
    }
}

/// The conversations of `rows`, as of `now`: `due` tells when a handoff of
/// a channel made at a time was promised an answer, for handoffs whose
/// stored body does not say.
pub fn analyse(
    rows: &AnalyticsRows,
    settings: Settings,
    now: i64,
    time_zone: &TimeZone,
    due: &dyn Fn(&str, i64) -> Option<i64>,
) -> Vec<Conversation> {
    let mut messages: HashMap<&str, Vec<&AnalyticsMessage>> = HashMap::new();
    for m in &rows.messages {
        messages.entry(&m.conversation_id).or_default().push(m);
    }
    let mut handoffs: HashMap<&str, Vec<&AnalyticsHandoff>> = HashMap::new();
    for h in &rows.handoffs {
        handoffs.entry(&h.conversation_id).or_default().push(h);
    }
    let mut feedback: HashMap<&str, Vec<&AnalyticsFeedback>> = HashMap::new();
    for f in &rows.feedback {
        feedback.entry(&f.conversation_id).or_default().push(f);
    }
    // A customer who comes back in a new conversation came back too.
    let mut by_customer: HashMap<&str, Vec<i64>> = HashMap::new();
    for c in &rows.conversations {
        by_customer
            .entry(&c.customer_id)
            .or_default()
            .push(c.created_at);
    }
    rows.conversations
        .iter()
        .map(|c| {
            let id = c.id.as_str();
            let mut conversation = Conversation::new(c, time_zone);
            let messages = messages.remove(id).unwrap_or_default();
            let handoffs = handoffs.remove(id).unwrap_or_default();
            let turns = conversation.read_messages(&messages);
            conversation.read_handoffs(&handoffs, &messages, now, due);
            for f in feedback.remove(id).unwrap_or_default() {
                conversation.csat.extend(f.csat);
                conversation.helpful.extend(f.helpful);
            }
            let later: Vec<i64> = by_customer
                .get(c.customer_id.as_str())
                .into_iter()
                .flatten()
                .copied()
                .filter(|&at| at > c.created_at)
                .collect();
            conversation.outcome = outcome(&turns, &handoffs, &later, settings, now);
            conversation
        })
        .collect()
}

impl Conversation {
    fn new(c: &AnalyticsConversation, time_zone: &TimeZone) -> Self {
        Conversation {
            id: c.id.clone(),
            channel: c.channel.clone(),
            locale: c.locale.clone().unwrap_or_else(|| "unknown".to_owned()),
            summary: c.summary.clone(),
            created_at: c.created_at,
            date: date(c.created_at, time_zone),
            customer_messages: 0,
            decided: 0,
            fallback_seqs: Vec::new(),
            intents: Vec::new(),
            unmatched: Vec::new(),
            escalations: Vec::new(),
            first_replies: Vec::new(),
            csat: Vec::new(),
            helpful: Vec::new(),
            outcome: Outcome::default(),
            texts: HashMap::new(),
        }
    }

    fn read_messages(&mut self, messages: &[&AnalyticsMessage]) -> Vec<Turn> {
        let mut turns = Vec::new();
        for m in messages {
            self.texts.insert(m.seq, m.text.clone());
            if m.author != Author::Customer {
                continue;
            }
            self.customer_messages += 1;
            // A decision madoguchi cannot read counts as a message without
            // one: the figures go on without it.
            let decision = m
                .decision
                .as_deref()
                .and_then(|d| StoredDecision::from_json(d).ok());
            let turn = Turn {
                at: m.created_at,
                action: decision.as_ref().map(|d| d.action),
                escalation: decision
                    .as_ref()
                    .and_then(|d| d.escalation.map(|e| e.reason)),
                resolved: decision.as_ref().is_some_and(|d| d.resolved),
            };
            if let Some(decision) = &decision {
                let bot_decided = !matches!(decision.action, Action::Acknowledge | Action::Closed);
                if bot_decided {
                    self.decided += 1;
                    match &decision.classification.intent {
                        Some(intent) => self.intents.push((m.seq, intent.to_string())),
                        None => self.unmatched.push(Unmatched {
                            seq: m.seq,
                            group: group(&m.text),
                            text: m.text.clone(),
                        }),
                    }
                }
            }
            if turn.is_fallback() {
                self.fallback_seqs.push(m.seq);
            }
            turns.push(turn);
        }
        turns
    }

    fn read_handoffs(
        &mut self,
        handoffs: &[&AnalyticsHandoff],
        messages: &[&AnalyticsMessage],
        now: i64,
        due: &dyn Fn(&str, i64) -> Option<i64>,
    ) {
        for h in handoffs {
            self.escalations.push(Escalated {
                reason: h.reason.clone(),
                priority: h.priority.clone(),
            });
            let replied_at = messages
                .iter()
                .find(|m| m.author == Author::Agent && m.created_at >= h.created_at)
                .map(|m| m.created_at);
            let due_at = promised(h).or_else(|| due(&self.channel, h.created_at));
            let late = due_at.is_some_and(|due| replied_at.unwrap_or(now) > due);
            self.first_replies.push(FirstReply {
                handed_off_at: h.created_at,
                replied_at,
                due_at,
                late,
            });
        }
    }
}

/// The answer time promised in a handoff's body, as sent to the help desk.
fn promised(handoff: &AnalyticsHandoff) -> Option<i64> {
    let payload: serde_json::Value = serde_json::from_str(handoff.payload.as_deref()?).ok()?;
    let due = payload
        .pointer("/business_hours/response_due")?
        .as_str()?
        .parse::<jiff::Timestamp>()
        .ok()?;
    Some(due.as_millisecond())
}

/// The first moment the bot settled the conversation, and whether the
/// customer came back within the reopening window after it; nothing when a
/// fallback or a handoff came after that moment.
fn outcome(
    turns: &[Turn],
    handoffs: &[&AnalyticsHandoff],
    later_conversations: &[i64],
    settings: Settings,
    now: i64,
) -> Outcome {
    let settled = turns.iter().enumerate().find_map(|(i, turn)| {
        if !turn.is_answer() {
            return None;
        }
        if turn.resolved {
            return Some((SettledBy::Thanks, turn.at));
        }
        let silent_until = turns.get(i + 1).map_or(now, |next| next.at);
        (silent_until - turn.at >= settings.silence_ms)
            .then_some((SettledBy::Silence, turn.at + settings.silence_ms))
    });
    let Some((how, at)) = settled else {
        return Outcome::default();
    };
    let undone = turns
        .iter()
        .any(|t| t.at >= at && (t.is_fallback() || t.escalates()))
        || handoffs.iter().any(|h| h.created_at >= at);
    if undone {
        return Outcome::default();
    }
    let window = at..=at.saturating_add(settings.reopen_ms);
    let came_back = turns.iter().any(|t| t.at > at && window.contains(&t.at))
        || later_conversations.iter().any(|c| window.contains(c));
    Outcome {
        settled_by: Some(how),
        settled_at: Some(at),
        reopened: came_back,
    }
}

/// The day of `millis` in `time_zone`, as `YYYY-MM-DD`.
#[must_use]
pub fn date(millis: i64, time_zone: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map(|t| t.to_zoned_datetime(time_zone.clone()).date().to_string())
        .unwrap_or_default()
}

/// The group of an unmatched message: its normalized text (width, case,
/// kana), without punctuation and with single spaces.
#[must_use]
pub fn group(text: &str) -> String {
    let normalized = crate::text::normalize(text);
    normalized
        .as_str()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::group;

    #[test]
    fn unmatched_messages_group_across_width_case_and_punctuation() {
        assert_eq!(group("Ｈｅｌｌｏ,  World!!"), group("hello world"));
        assert_eq!(group("ぱすわーど？"), group("パスワード"));
        assert_ne!(group("hello world"), group("hello there"));
    }
}
