//! Analytics for the support team: how many conversations the bot settled
//! on its own, how often it did not understand, why conversations went to
//! a person and how soon a person answered, what customers asked, and how
//! they rated it — over a period, each figure broken down by channel and
//! locale, and each drillable to the conversations behind it.
//!
//! The figures are computed here from the stored rows of the conversations
//! started in the period ([`crate::store::AnalyticsRows`]); what the bot
//! decided is read from each message's stored decision, never by
//! classifying the text again.

mod conversation;
mod figures;

pub use conversation::{
    Conversation, Escalated, FirstReply, Outcome, SettledBy, Unmatched, analyse, date, group,
};
pub use figures::{
    CsatFigures, DayFigures, EscalationFigures, FallbackFigures, Figures, FirstReplyFigures,
    IntentCount, ReasonCount, ResolutionFigures, UnmatchedGroup, figures,
};

use std::collections::BTreeMap;

use serde::Serialize;

/// How the figures are computed.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// After a bot answer, this much silence from the customer counts as
    /// settled, in milliseconds.
    pub silence_ms: i64,
    /// A customer who comes back within this long after their question was
    /// settled reopened it, in milliseconds.
    pub reopen_ms: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            silence_ms: 30 * 60 * 1000,
            reopen_ms: 24 * 60 * 60 * 1000,
        }
    }
}

/// Which conversations a figure or listing counts.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this channel (`chat`, `email`).
    pub channel: Option<String>,
    /// Only this locale (`ja`, `en`; `unknown` for none shown yet).
    pub locale: Option<String>,
}

impl Filter {
    /// Whether `conversation` passes.
    #[must_use]
    pub fn admits(&self, conversation: &Conversation) -> bool {
        self.channel
            .as_deref()
            .is_none_or(|c| c == conversation.channel)
            && self
                .locale
                .as_deref()
                .is_none_or(|l| l == conversation.locale)
    }
}

/// The figures of a period: all conversations that pass the filter, and
/// the same figures for each channel and each locale among them.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Every conversation that passes the filter.
    pub figures: Figures,
    /// By channel.
    pub by_channel: BTreeMap<String, Figures>,
    /// By locale (`unknown` when no message showed one).
    pub by_locale: BTreeMap<String, Figures>,
}

/// The figures of `conversations` that pass `filter`, each day of `days`
/// counted even when empty.
#[must_use]
pub fn report(conversations: &[Conversation], filter: &Filter, days: &[String]) -> Report {
    let admitted: Vec<&Conversation> = conversations.iter().filter(|c| filter.admits(c)).collect();
    let mut channels: BTreeMap<String, Vec<&Conversation>> = BTreeMap::new();
    let mut locales: BTreeMap<String, Vec<&Conversation>> = BTreeMap::new();
    for conversation in &admitted {
        channels
            .entry(conversation.channel.clone())
            .or_default()
            .push(conversation);
        locales
            .entry(conversation.locale.clone())
            .or_default()
            .push(conversation);
    }
    Report {
        figures: figures(&admitted, days),
        by_channel: channels
            .into_iter()
            .map(|(k, v)| (k, figures(&v, days)))
            .collect(),
        by_locale: locales
            .into_iter()
            .map(|(k, v)| (k, figures(&v, days)))
            .collect(),
    }
}

/// What a drill-down lists: the conversations behind one figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metric {
    /// Every conversation.
    All,
    /// Settled by the bot.
    Resolved,
    /// Settled, then the customer came back.
    Reopened,
    /// Not settled by the bot (escalated, fallback after the answer, or no
    /// answer at all).
    Unresolved,
    /// With a message the bot did not understand.
    Fallback,
    /// Handed to a person, optionally for one reason and priority.
    Escalated {
        /// Only this reason.
        reason: Option<String>,
        /// Only this priority.
        priority: Option<String>,
    },
    /// With a message taken as this intent.
    Intent(String),
    /// With an unmatched message of this group.
    Unmatched(String),
    /// With feedback, optionally of this score.
    Csat(Option<i64>),
    /// With a handoff a person answered late or not yet, past the promise.
    LateReply,
}

/// Whether `conversation` counts for `metric`, and the messages that make
/// it count (their places), for context.
#[must_use]
pub fn matches(metric: &Metric, conversation: &Conversation) -> Option<Vec<i64>> {
    let all = || Some(Vec::new());
    match metric {
        Metric::All => all(),
        Metric::Resolved => conversation.outcome.is_resolved().then(Vec::new),
        Metric::Reopened => conversation.outcome.reopened.then(Vec::new),
        Metric::Unresolved => (conversation.customer_messages > 0
            && !conversation.outcome.is_resolved())
        .then(Vec::new),
        Metric::Fallback => non_empty(conversation.fallback_seqs.clone()),
        Metric::Escalated { reason, priority } => conversation
            .escalations
            .iter()
            .any(|e| {
                reason.as_deref().is_none_or(|r| r == e.reason)
                    && priority.as_deref().is_none_or(|p| p == e.priority)
            })
            .then(Vec::new),
        Metric::Intent(intent) => non_empty(
            conversation
                .intents
                .iter()
                .filter(|(_, i)| i == intent)
                .map(|(seq, _)| *seq)
                .collect(),
        ),
        Metric::Unmatched(group) => non_empty(
            conversation
                .unmatched
                .iter()
                .filter(|u| &u.group == group)
                .map(|u| u.seq)
                .collect(),
        ),
        Metric::Csat(score) => conversation
            .csat
            .iter()
            .any(|c| score.is_none_or(|s| s == *c))
            .then(Vec::new),
        Metric::LateReply => conversation
            .first_replies
            .iter()
            .any(|r| r.late)
            .then(Vec::new),
    }
}

fn non_empty(seqs: Vec<i64>) -> Option<Vec<i64>> {
    (!seqs.is_empty()).then_some(seqs)
}

/// A share from 0 to 1, `None` of nothing.
fn rate(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}
