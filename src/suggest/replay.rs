//! What a suggestion would change: every stored conversation decided again
//! with the rule set as it is and with the suggestion added, turn by turn
//! as the service decides them, and the conversation tests run with it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Message;
use crate::conversation_test::{Outcome, TestSuite};
use crate::engine::{ConversationState, Decision, Turn, decide};
use crate::rules::RuleSet;

/// What the bot did with a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Decided {
    /// The intent it was taken as.
    pub intent: Option<String>,
    /// What the bot did (`answer`, `fallback`, `clarify`...).
    pub outcome: String,
}

/// A message decided differently with the suggestion.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Flip {
    /// Its conversation.
    pub conversation_id: String,
    /// Its place there.
    pub seq: i64,
    /// What the customer wrote.
    pub text: String,
    /// Without the suggestion.
    pub before: Decided,
    /// With it.
    pub after: Decided,
}

/// A conversation test that fails with the suggestion.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestFailure {
    /// The conversation's name.
    pub name: String,
    /// Where it is written and what went wrong first.
    pub message: String,
    /// Whether it passes without the suggestion (the suggestion breaks it).
    pub regression: bool,
}

/// The conversation tests with the suggestion.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct TestsSummary {
    /// Conversations that pass.
    pub passed: usize,
    /// Those that fail.
    pub failed: Vec<TestFailure>,
}

/// What the suggestion would change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Replay {
    /// The messages decided differently, in conversation order.
    pub flipped: Vec<Flip>,
    /// How many messages were decided again.
    pub replayed: usize,
    /// The conversation tests with the suggestion.
    pub conversation_tests: TestsSummary,
}

/// Decides `messages` (any order) again with `before` and `after`, and
/// runs `tests` with `after`.
#[must_use]
pub fn replay(
    before: &RuleSet,
    after: &RuleSet,
    messages: &[Message],
    tests: Option<&TestSuite>,
) -> Replay {
    let mut conversations: BTreeMap<&str, Vec<&Message>> = BTreeMap::new();
    for message in messages {
        conversations
            .entry(message.conversation_id.as_str())
            .or_default()
            .push(message);
    }
    let mut flipped = Vec::new();
    for turns in conversations.values_mut() {
        turns.sort_by_key(|m| m.seq);
        let mut states = (ConversationState::default(), ConversationState::default());
        for message in &*turns {
            let was = decide_again(before, &states.0, message);
            let now = decide_again(after, &states.1, message);
            let (was_decided, now_decided) = (decided(before, &was), decided(after, &now));
            if was_decided != now_decided {
                flipped.push(Flip {
                    conversation_id: message.conversation_id.clone(),
                    seq: message.seq,
                    text: message.text.clone(),
                    before: was_decided,
                    after: now_decided,
                });
            }
            states = (was.state, now.state);
        }
    }
    Replay {
        flipped,
        replayed: messages.len(),
        conversation_tests: tests
            .map(|t| run_tests(before, after, t))
            .unwrap_or_default(),
    }
}

fn decide_again(rules: &RuleSet, state: &ConversationState, message: &Message) -> Decision {
    let now = jiff::Timestamp::from_millisecond(message.at).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    decide(
        rules,
        state,
        Turn {
            text: &message.text,
            quick_reply: None,
            channel: message.channel,
            now,
            needs_person: None,
        },
    )
}

fn decided(rules: &RuleSet, decision: &Decision) -> Decided {
    Decided {
        intent: decision
            .intent
            .map(|i| rules.intent(i).id.as_str().to_owned()),
        outcome: serde_json::to_value(decision.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    }
}

fn run_tests(before: &RuleSet, after: &RuleSet, tests: &TestSuite) -> TestsSummary {
    let was = tests.run(before);
    let now = tests.run(after);
    let passed_before = |name: &str, at: &str| {
        was.conversations
            .iter()
            .any(|c| c.name == name && c.location.to_string() == at && c.passed())
    };
    TestsSummary {
        passed: now.passed(),
        failed: failures(&now)
            .into_iter()
            .map(|(name, at, message)| TestFailure {
                regression: passed_before(&name, &at),
                name,
                message,
            })
            .collect(),
    }
}

/// Each failing conversation: its name, its place, and its first failing
/// turn's first unmet expectation.
fn failures(outcome: &Outcome) -> Vec<(String, String, String)> {
    outcome
        .conversations
        .iter()
        .filter(|c| !c.passed())
        .map(|c| {
            let at = c.location.to_string();
            let message = c
                .turns
                .iter()
                .find_map(|t| {
                    t.mismatches.first().map(|m| {
                        format!(
                            "{}: “{}”: {}: expected {}, got {}",
                            t.location, t.text, m.what, m.expected, m.got
                        )
                    })
                })
                .unwrap_or_else(|| at.clone());
            (c.name.clone(), at, message)
        })
        .collect()
}
