//! Why and how urgently a conversation goes to a person: the escalation
//! policy, applied to one classified message. The engine applies it within
//! a conversation; `madoguchi classify` to a message taken alone.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::classify::{Classification, Report};
use crate::rules::{Intent, IntentIndex, ReplyName, RuleSet};
use crate::sentiment::{CueKind, SafetyConcern};

/// The id of the intent that means "I want a person".
pub const HUMAN_INTENT: &str = "human";

/// The id of the intent that means "I want someone in charge": a request
/// for a person, and a high-priority one.
pub const SUPERVISOR_INTENT: &str = "supervisor";

/// Whether `intent` is the customer asking for a person (anyone, or someone
/// in charge).
#[must_use]
pub fn asks_for_person(intent: &Intent) -> bool {
    [HUMAN_INTENT, SUPERVISOR_INTENT].contains(&intent.id.as_str())
}

/// Why a conversation is handed off (contract names).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
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
    /// A threat of legal, regulatory or payment-dispute action (a lawyer,
    /// the consumer centre, a chargeback, a public review campaign).
    Threat,
    /// Self-harm or a threat of violence: the highest priority.
    Safety,
    /// Mail kept coming in one e-mail thread faster than a person writes
    /// (a loop with another system, or a flood): automatic answers stop
    /// there and a person looks.
    MailBurst,
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
            EscalationReason::Threat => "threat",
            EscalationReason::MailBurst => "mail_burst",
        }
    }

    /// The reply that announces the handoff.
    #[must_use]
    pub const fn reply_name(self) -> ReplyName {
        match self {
            EscalationReason::Complaint => ReplyName::EscalatedComplaint,
            EscalationReason::HumanRequested => ReplyName::EscalatedHumanRequested,
            EscalationReason::RepeatedFallback => ReplyName::EscalatedRepeatedFallback,
            // No answer goes out in a mail burst; the reply is kept for
            // the record.
            EscalationReason::Rule | EscalationReason::MailBurst => ReplyName::EscalatedRule,
            EscalationReason::Safety => ReplyName::EscalatedSafety,
            EscalationReason::Threat => ReplyName::EscalatedThreat,
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
            EscalationReason::Threat,
            EscalationReason::MailBurst,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| {
            format!(
                "unknown escalation reason `{s}` (expected complaint, human_requested, repeated_fallback, rule, safety, threat or mail_burst)"
            )
        })
    }
}

/// How urgent a handoff is (contract names).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
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

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Priority {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Priority::Low,
            Priority::Normal,
            Priority::High,
            Priority::Urgent,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| format!("unknown priority `{s}` (expected low, normal, high or urgent)"))
    }
}

/// A handoff decided for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The escalation with its priority, from the reason, how upset the
    /// customer is and, for a request for a person, whom they asked for.
    #[must_use]
    pub fn new(
        reason: EscalationReason,
        classification: &Classification,
        intent: Option<&Intent>,
    ) -> Self {
        let sentiment = &classification.sentiment;
        let angry = sentiment.score <= HIGH_PRIORITY_SENTIMENT
            || sentiment
                .cues
                .iter()
                .any(|c| matches!(c.kind, CueKind::Demand | CueKind::Churn));
        let priority = match reason {
            EscalationReason::Safety => Priority::Urgent,
            EscalationReason::Threat => Priority::High,
            EscalationReason::Complaint if angry => Priority::High,
            // Someone in charge is asked for when the customer has already
            // given up on the usual way. Asking for anyone reads as a demand
            // to the detector; only real anger makes that high.
            EscalationReason::HumanRequested
                if sentiment.score <= HIGH_PRIORITY_SENTIMENT
                    || intent.is_some_and(|i| i.id.as_str() == SUPERVISOR_INTENT) =>
            {
                Priority::High
            }
            EscalationReason::Rule if sentiment.complaint => Priority::High,
            EscalationReason::Complaint
            | EscalationReason::HumanRequested
            | EscalationReason::Rule
            | EscalationReason::MailBurst => Priority::Normal,
            EscalationReason::RepeatedFallback if sentiment.complaint => Priority::Normal,
            EscalationReason::RepeatedFallback => Priority::Low,
        };
        Escalation { reason, priority }
    }

    /// Of two escalations, the one to act on: safety, then a threat, then a
    /// complaint, then the others; then the higher priority.
    #[must_use]
    pub fn stronger(self, other: Escalation) -> Escalation {
        let rank = |e: &Escalation| {
            let reason = match e.reason {
                EscalationReason::Safety => 3,
                EscalationReason::Threat => 2,
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
    // A threat of legal or payment-dispute action goes to a person even
    // inside an otherwise calm message (a refund question that names the
    // consumer centre).
    if sentiment.threat() {
        return Some(EscalationReason::Threat);
    }
    let intent = intent.map(|i| rules.intent(i));
    // A request for a person is that, however upset: the sentiment stays in
    // the decision, and the priority says how upset.
    if intent.is_some_and(asks_for_person) {
        return Some(EscalationReason::HumanRequested);
    }
    let complaint = sentiment.score <= policy.escalation.complaint
        || frustration <= policy.escalation.frustration
        || (sentiment.complaint && intent.is_none());
    if complaint {
        return Some(EscalationReason::Complaint);
    }
    if let Some(intent) = intent {
        return intent.escalate.then_some(EscalationReason::Rule);
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

/// Why `classification`, a conversation's first message with no history,
/// would be handed off, if it would.
#[must_use]
pub fn alone(rules: &RuleSet, classification: &Classification) -> Option<EscalationReason> {
    escalation_for_message(
        rules,
        classification,
        classification.intent(),
        0,
        classification.sentiment.score.min(0.0),
    )
}

/// One line of `madoguchi classify`: the classification report, and
/// whether the message taken alone is handed to a person.
#[derive(Debug, Serialize)]
pub struct MessageReport<'a> {
    /// Intent, score, evidence, sentiment.
    #[serde(flatten)]
    pub classification: Report<'a>,
    /// Whether the message, taken alone, is handed to a person.
    pub escalate: bool,
    /// Why: `complaint`, `human_requested`, `repeated_fallback`, `rule`,
    /// `safety`, `threat`, or `null`.
    pub escalation_reason: Option<EscalationReason>,
}

impl<'a> MessageReport<'a> {
    /// The report of `classification` of `text`; with `answer`, also the
    /// chat answer of the intent.
    #[must_use]
    pub fn new(
        rules: &'a RuleSet,
        classification: &'a Classification,
        text: &'a str,
        answer: bool,
    ) -> Self {
        let reason = alone(rules, classification);
        MessageReport {
            classification: classification.report(rules, text, answer),
            escalate: reason.is_some(),
            escalation_reason: reason,
        }
    }
}
