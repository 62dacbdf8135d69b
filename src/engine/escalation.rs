//! Why and how urgently a conversation goes to a person.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::classify::Classification;
use crate::matcher::IntentIndex;
use crate::rules::RuleSet;
use crate::sentiment::{CueKind, SafetyConcern};

/// The id of the intent that means "I want a person".
pub const HUMAN_INTENT: &str = "human";

/// Why a conversation is handed off (contract names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// The customer asked for a person.
    HumanRequested,
    /// The bot failed to understand several times in a row.
    RepeatedFallback,
    /// The intent is marked to always go to a person.
    Rule,
    /// The message, or frustration building over the conversation, passed
    /// the rule set's thresholds.
    Complaint,
    /// Self-harm or a threat of violence: the highest priority.
    Safety,
}

impl EscalationReason {
    /// The contract name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            EscalationReason::Complaint => "complaint",
            EscalationReason::HumanRequested => "human_requested",
            EscalationReason::RepeatedFallback => "repeated_fallback",
            EscalationReason::Rule => "rule",
            EscalationReason::Safety => "safety",
        }
    }

    /// The name of the reply that announces the handoff.
    #[must_use]
    pub(crate) fn reply_name(self) -> &'static str {
        match self {
            EscalationReason::Complaint => "escalated_complaint",
            EscalationReason::HumanRequested => "escalated_human_requested",
            EscalationReason::RepeatedFallback => "escalated_repeated_fallback",
            EscalationReason::Rule => "escalated_rule",
            EscalationReason::Safety => "escalated_safety",
        }
    }
}

impl fmt::Display for EscalationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EscalationReason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            EscalationReason::Complaint,
            EscalationReason::HumanRequested,
            EscalationReason::RepeatedFallback,
            EscalationReason::Rule,
            EscalationReason::Safety,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| {
            format!(
                "unknown escalation reason `{s}` (expected complaint, human_requested, repeated_fallback, rule or safety)"
            )
        })
    }
}

/// How urgent a handoff is (contract names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Whenever someone is free.
    Low,
    /// In the promised response time.
    Normal,
    /// An upset customer: before the others.
    High,
    /// Safety: at once.
    Urgent,
}

impl Priority {
    /// The contract name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

/// A handoff decided for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Escalation {
    /// Why.
    pub reason: EscalationReason,
    /// How urgent.
    pub priority: Priority,
}

/// Sentiment at or below this, or a demand or churn threat, makes a
/// complaint handoff high priority.
const HIGH_PRIORITY_SENTIMENT: f64 = -0.6;

impl Escalation {
    /// The escalation with its priority, from the reason and how upset the
    /// customer is.
    #[must_use]
    pub fn new(reason: EscalationReason, classification: &Classification) -> Self {
        let sentiment = &classification.sentiment;
        let angry = sentiment.score <= HIGH_PRIORITY_SENTIMENT
            || sentiment
                .cues
                .iter()
                .any(|c| matches!(c.kind, CueKind::Demand | CueKind::Churn));
        let priority = match reason {
            EscalationReason::Safety => Priority::Urgent,
            EscalationReason::Complaint if angry => Priority::High,
            // Asking for a person reads as a demand to the detector; only
            // real anger makes it urgent.
            EscalationReason::HumanRequested if sentiment.score <= HIGH_PRIORITY_SENTIMENT => {
                Priority::High
            }
            EscalationReason::Rule if sentiment.complaint => Priority::High,
            EscalationReason::Complaint
            | EscalationReason::HumanRequested
            | EscalationReason::Rule => Priority::Normal,
            EscalationReason::RepeatedFallback if sentiment.complaint => Priority::Normal,
            EscalationReason::RepeatedFallback => Priority::Low,
        };
        Escalation { reason, priority }
    }

    /// Of two escalations, the one to act on: safety over complaint over
    /// the others, then the higher priority.
    #[must_use]
    pub fn stronger(self, other: Escalation) -> Escalation {
        let rank = |e: &Escalation| {
            let reason = match e.reason {
                EscalationReason::Safety => 2,
                EscalationReason::Complaint => 1,
                _ => 0,
            };
            (reason, e.priority)
        };
        if rank(&other) > rank(&self) {
            other
        } else {
            self
        }
    }
}

/// Why a message taken alone (a conversation's first, with no history)
/// would be handed off, if it would: a safety concern, a request for a
/// person, an intent marked to escalate, a complaint past the rule set's
/// escalation threshold or one the bot has no answer for, or a fallback when
/// the rule set hands off at the first.
#[must_use]
pub fn escalation_for_message(
    rules: &RuleSet,
    classification: &Classification,
    intent: Option<IntentIndex>,
    fallbacks_before: u32,
    frustration: f64,
) -> Option<EscalationReason> {
    let policy = rules.policy();
    let sentiment = &classification.sentiment;
    if sentiment.safety.is_some() {
        return Some(EscalationReason::Safety);
    }
    let complaint = sentiment.score <= policy.escalation.complaint
        || frustration <= policy.escalation.frustration
        || (sentiment.complaint && intent.is_none());
    if complaint {
        return Some(EscalationReason::Complaint);
    }
    if let Some(intent) = intent.map(|i| rules.intent(i)) {
        if intent.id.as_str() == HUMAN_INTENT {
            return Some(EscalationReason::HumanRequested);
        }
        if intent.escalate {
            return Some(EscalationReason::Rule);
        }
        return None;
    }
    (fallbacks_before + 1 >= policy.fallback.escalate_after)
        .then_some(EscalationReason::RepeatedFallback)
}

/// The concern a safety escalation is about, for the careful reply.
#[must_use]
pub fn concern_name(concern: Option<SafetyConcern>) -> Option<&'static str> {
    concern.map(|c| match c {
        SafetyConcern::SelfHarm => "self_harm",
        SafetyConcern::Violence => "violence",
    })
}
