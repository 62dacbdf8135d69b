//! The figures of a set of conversations.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::conversation::{Conversation, SettledBy};
use super::rate;

/// The most unmatched groups and intents listed.
const TOP: usize = 20;

/// The figures of a set of conversations.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// Conversations started.
    pub conversations: u32,
    /// Messages from customers.
    pub customer_messages: u32,
    /// Whether the bot settled them.
    pub resolution: ResolutionFigures,
    /// What the bot did not understand.
    pub fallback: FallbackFigures,
    /// Handoffs to a person.
    pub escalations: EscalationFigures,
    /// The intents messages were taken as, most first.
    pub intents: Vec<IntentCount>,
    /// The messages nothing matched, grouped, largest group first.
    pub unmatched: Vec<UnmatchedGroup>,
    /// Satisfaction.
    pub csat: CsatFigures,
    /// How soon a person answered a handoff, against the promise.
    pub first_reply: FirstReplyFigures,
    /// Each day of the period.
    pub daily: Vec<DayFigures>,
}

/// Whether the bot settled the conversations.
#[derive(Debug, Clone, Serialize)]
pub struct ResolutionFigures {
    /// Conversations with a customer message: the ones that could be.
    pub eligible: u32,
    /// Settled by the bot.
    pub resolved: u32,
    /// ...by the customer's thanks or goodbye.
    pub by_thanks: u32,
    /// ...by the customer's silence.
    pub by_silence: u32,
    /// Settled, then the customer came back within 24 hours.
    pub reopened: u32,
    /// `resolved / eligible`.
    pub rate: Option<f64>,
    /// `reopened / resolved`.
    pub reopen_rate: Option<f64>,
}

/// What the bot did not understand.
#[derive(Debug, Clone, Serialize)]
pub struct FallbackFigures {
    /// Customer messages the bot decided on.
    pub decided_messages: u32,
    /// Of those, not understood.
    pub messages: u32,
    /// `messages / decided_messages`.
    pub rate: Option<f64>,
    /// Conversations with a message not understood.
    pub conversations: u32,
}

/// Handoffs to a person.
#[derive(Debug, Clone, Serialize)]
pub struct EscalationFigures {
    /// Handoffs.
    pub handoffs: u32,
    /// Conversations handed off.
    pub conversations: u32,
    /// `conversations / eligible conversations`.
    pub rate: Option<f64>,
    /// Handoffs by reason, most first.
    pub by_reason: Vec<ReasonCount>,
    /// Handoffs by priority.
    pub by_priority: BTreeMap<String, u32>,
}

/// Handoffs of one reason.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonCount {
    /// The reason.
    pub reason: String,
    /// How many.
    pub count: u32,
    /// ...by priority.
    pub by_priority: BTreeMap<String, u32>,
}

/// Messages taken as one intent.
#[derive(Debug, Clone, Serialize)]
pub struct IntentCount {
    /// The intent.
    pub intent: String,
    /// Messages.
    pub messages: u32,
    /// Conversations.
    pub conversations: u32,
}

/// Unmatched messages that normalize the same.
#[derive(Debug, Clone, Serialize)]
pub struct UnmatchedGroup {
    /// The normalized text: the `group` of a drill-down.
    pub group: String,
    /// One message of the group as written.
    pub example: String,
    /// Messages.
    pub messages: u32,
    /// Conversations.
    pub conversations: u32,
}

/// Satisfaction given in feedback.
#[derive(Debug, Clone, Serialize)]
pub struct CsatFigures {
    /// Scores given.
    pub responses: u32,
    /// Their average.
    pub average: Option<f64>,
    /// How many of each score, 1 to 5.
    pub distribution: BTreeMap<String, u32>,
    /// Answers marked helpful.
    pub helpful: u32,
    /// Answers marked not helpful.
    pub not_helpful: u32,
}

/// How soon a person answered handoffs.
#[derive(Debug, Clone, Serialize)]
pub struct FirstReplyFigures {
    /// Handoffs.
    pub handoffs: u32,
    /// Answered by a person.
    pub replied: u32,
    /// Answered by the promised time.
    pub within_promise: u32,
    /// Answered after it, or not answered and it passed.
    pub late: u32,
    /// Not answered yet, the promise not passed.
    pub waiting: u32,
    /// `within_promise / (within_promise + late)`.
    pub on_time_rate: Option<f64>,
    /// The average time to the first answer, in minutes.
    pub average_minutes: Option<f64>,
    /// The median time to the first answer, in minutes.
    pub median_minutes: Option<f64>,
}

/// One day.
#[derive(Debug, Clone, Serialize)]
pub struct DayFigures {
    /// `YYYY-MM-DD`, in the business hours' time zone.
    pub date: String,
    /// Conversations started.
    pub conversations: u32,
    /// Customer messages in them.
    pub customer_messages: u32,
    /// Of them, settled by the bot.
    pub resolved: u32,
    /// Of them, handed to a person.
    pub escalated: u32,
    /// Of them, with a message not understood.
    pub fallback: u32,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The figures of `conversations`, with every day of `days`.
#[must_use]
pub fn figures(conversations: &[&Conversation], days: &[String]) -> Figures {
    let resolution = resolution(conversations);
    let escalations = escalations(conversations, resolution.eligible);
    Figures {
        conversations: count(conversations.len()),
        customer_messages: conversations.iter().map(|c| c.customer_messages).sum(),
        resolution,
        fallback: fallback(conversations),
        escalations,
        intents: intents(conversations),
        unmatched: unmatched(conversations),
        csat: csat(conversations),
        first_reply: first_reply(conversations),
        daily: daily(conversations, days),
    }
}

fn resolution(conversations: &[&Conversation]) -> ResolutionFigures {
    let eligible = count(
        conversations
            .iter()
            .filter(|c| c.customer_messages > 0)
            .count(),
    );
    let by = |how| {
        count(
            conversations
                .iter()
                .filter(|c| c.outcome.settled_by == Some(how))
                .count(),
        )
    };
    let (by_thanks, by_silence) = (by(SettledBy::Thanks), by(SettledBy::Silence));
    let resolved = by_thanks + by_silence;
    let reopened = count(conversations.iter().filter(|c| c.outcome.reopened).count());
    ResolutionFigures {
        eligible,
        resolved,
        by_thanks,
        by_silence,
        reopened,
        rate: rate(resolved, eligible),
        reopen_rate: rate(reopened, resolved),
    }
}

fn fallback(conversations: &[&Conversation]) -> FallbackFigures {
    let decided = conversations.iter().map(|c| c.decided).sum();
    let messages = conversations
        .iter()
        .map(|c| count(c.fallback_seqs.len()))
        .sum();
    FallbackFigures {
        decided_messages: decided,
        messages,
        rate: rate(messages, decided),
        conversations: count(
            conversations
                .iter()
                .filter(|c| !c.fallback_seqs.is_empty())
                .count(),
        ),
    }
}

fn escalations(conversations: &[&Conversation], eligible: u32) -> EscalationFigures {
    let mut reasons: HashMap<&str, ReasonCount> = HashMap::new();
    let mut by_priority: BTreeMap<String, u32> = BTreeMap::new();
    let mut handoffs = 0;
    for e in conversations.iter().flat_map(|c| &c.escalations) {
        handoffs += 1;
        *by_priority.entry(e.priority.clone()).or_default() += 1;
        let reason = reasons.entry(&e.reason).or_insert_with(|| ReasonCount {
            reason: e.reason.clone(),
            count: 0,
            by_priority: BTreeMap::new(),
        });
        reason.count += 1;
        *reason.by_priority.entry(e.priority.clone()).or_default() += 1;
    }
    let escalated = count(
        conversations
            .iter()
            .filter(|c| !c.escalations.is_empty())
            .count(),
    );
    let mut by_reason: Vec<ReasonCount> = reasons.into_values().collect();
    by_reason.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    EscalationFigures {
        handoffs,
        conversations: escalated,
        rate: rate(escalated, eligible),
        by_reason,
        by_priority,
    }
}

fn intents(conversations: &[&Conversation]) -> Vec<IntentCount> {
    let mut found: HashMap<&str, (u32, HashSet<&str>)> = HashMap::new();
    for c in conversations {
        for (_, intent) in &c.intents {
            let entry = found.entry(intent).or_default();
            entry.0 += 1;
            entry.1.insert(&c.id);
        }
    }
    let mut intents: Vec<IntentCount> = found
        .into_iter()
        .map(|(intent, (messages, ids))| IntentCount {
            intent: intent.to_owned(),
            messages,
            conversations: count(ids.len()),
        })
        .collect();
    intents.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.intent.cmp(&b.intent)));
    intents
}

fn unmatched(conversations: &[&Conversation]) -> Vec<UnmatchedGroup> {
    let mut found: HashMap<&str, (&str, u32, HashSet<&str>)> = HashMap::new();
    for c in conversations {
        for u in &c.unmatched {
            if u.group.is_empty() {
                continue;
            }
            let entry = found
                .entry(&u.group)
                .or_insert((&u.text, 0, HashSet::new()));
            entry.1 += 1;
            entry.2.insert(&c.id);
        }
    }
    let mut groups: Vec<UnmatchedGroup> = found
        .into_iter()
        .map(|(group, (example, messages, ids))| UnmatchedGroup {
            group: group.to_owned(),
            example: example.to_owned(),
            messages,
            conversations: count(ids.len()),
        })
        .collect();
    groups.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.group.cmp(&b.group)));
    groups.truncate(TOP);
    groups
}

fn csat(conversations: &[&Conversation]) -> CsatFigures {
    let scores: Vec<i64> = conversations
        .iter()
        .flat_map(|c| c.csat.iter().copied())
        .collect();
    let mut distribution: BTreeMap<String, u32> =
        (1..=5).map(|s: i64| (s.to_string(), 0)).collect();
    for s in &scores {
        *distribution.entry(s.to_string()).or_default() += 1;
    }
    let responses = count(scores.len());
    let total: i64 = scores.iter().sum();
    let helpful: Vec<bool> = conversations
        .iter()
        .flat_map(|c| c.helpful.iter().copied())
        .collect();
    CsatFigures {
        responses,
        average: (responses > 0)
            .then(|| i32::try_from(total).map_or(f64::NAN, f64::from) / f64::from(responses)),
        distribution,
        helpful: count(helpful.iter().filter(|h| **h).count()),
        not_helpful: count(helpful.iter().filter(|h| !**h).count()),
    }
}

fn first_reply(conversations: &[&Conversation]) -> FirstReplyFigures {
    let handoffs: Vec<_> = conversations
        .iter()
        .flat_map(|c| c.first_replies.iter())
        .collect();
    let mut minutes: Vec<f64> = handoffs
        .iter()
        .filter_map(|r| r.replied_at.map(|at| at - r.handed_off_at))
        .map(|ms| i32::try_from(ms / 1000).map_or(f64::INFINITY, f64::from) / 60.0)
        .collect();
    minutes.sort_by(f64::total_cmp);
    let replied = count(minutes.len());
    let within = count(
        handoffs
            .iter()
            .filter(|r| r.replied_at.is_some() && r.due_at.is_some() && !r.late)
            .count(),
    );
    let late = count(handoffs.iter().filter(|r| r.late).count());
    let waiting = count(
        handoffs
            .iter()
            .filter(|r| r.replied_at.is_none() && !r.late)
            .count(),
    );
    let median = match minutes.len() {
        0 => None,
        n if n % 2 == 1 => Some(minutes[n / 2]),
        n => Some(f64::midpoint(minutes[n / 2 - 1], minutes[n / 2])),
    };
    FirstReplyFigures {
        handoffs: count(handoffs.len()),
        replied,
        within_promise: within,
        late,
        waiting,
        on_time_rate: rate(within, within + late),
        average_minutes: (replied > 0).then(|| minutes.iter().sum::<f64>() / f64::from(replied)),
        median_minutes: median,
    }
}

fn daily(conversations: &[&Conversation], days: &[String]) -> Vec<DayFigures> {
    let mut by_day: BTreeMap<&str, DayFigures> =
        days.iter().map(|d| (d.as_str(), day(d))).collect();
    for c in conversations {
        let entry = by_day.entry(&c.date).or_insert_with(|| day(&c.date));
        entry.conversations += 1;
        entry.customer_messages += c.customer_messages;
        entry.resolved += u32::from(c.outcome.is_resolved());
        entry.escalated += u32::from(!c.escalations.is_empty());
        entry.fallback += u32::from(!c.fallback_seqs.is_empty());
    }
    by_day.into_values().collect()
}

fn day(date: &str) -> DayFigures {
    DayFigures {
        date: date.to_owned(),
        conversations: 0,
        customer_messages: 0,
        resolved: 0,
        escalated: 0,
        fallback: 0,
    }
}
