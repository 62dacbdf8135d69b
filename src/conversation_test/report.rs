//! Checking a decision against a turn's expectations, and writing a failing
//! conversation as a transcript with what was expected and what came.

use std::io::{self, Write};

use super::ConversationOutcome;
use super::spec::{Expect, ExpectedIntent};
use crate::engine::{Action, Decision};
use crate::rules::RuleSet;

/// One expectation a turn did not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What was checked (`intent`, `reply contains`...).
    pub what: &'static str,
    /// What the test expects.
    pub expected: String,
    /// What came instead.
    pub got: String,
}

fn action_name(action: Action) -> String {
    serde_json::to_value(action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn or_none(value: Option<&str>) -> String {
    value.unwrap_or("null").to_owned()
}

/// Every expectation of `expect` that `decision` does not meet.
pub(crate) fn check(rules: &RuleSet, expect: &Expect, decision: &Decision) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut compare = |what: &'static str, expected: Option<String>, got: String| {
        if let Some(expected) = expected
            && expected != got
        {
            out.push(Mismatch {
                what,
                expected,
                got,
            });
        }
    };
    let intent = decision.intent.map(|i| rules.intent(i).id.as_str());
    compare(
        "intent",
        expect.intent.as_ref().map(|i| match i {
            ExpectedIntent::Id(id) => id.clone(),
            ExpectedIntent::None => "null".to_owned(),
        }),
        or_none(intent),
    );
    compare(
        "action",
        expect.action.clone(),
        action_name(decision.action),
    );
    let escalation = decision.escalation;
    let escalate = expect.escalate.or(expect.reason.as_ref().map(|_| true));
    compare(
        "escalate",
        escalate.map(|e| e.to_string()),
        escalation.is_some().to_string(),
    );
    compare(
        "reason",
        expect.reason.clone(),
        or_none(escalation.map(|e| e.reason.as_str())),
    );
    compare(
        "priority",
        expect.priority.clone(),
        escalation.map_or_else(
            || "null".to_owned(),
            |e| {
                serde_json::to_value(e.priority)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            },
        ),
    );
    compare(
        "state",
        expect.state.clone(),
        decision.state.status.as_str().to_owned(),
    );
    compare(
        "complaint",
        expect.complaint.map(|c| c.to_string()),
        decision.classification.sentiment.complaint.to_string(),
    );
    compare(
        "locale",
        expect.locale.clone(),
        decision.locale.as_str().to_owned(),
    );
    let reply = &decision.reply.text;
    for text in &expect.reply_contains {
        if !reply.contains(text.as_str()) {
            out.push(Mismatch {
                what: "reply contains",
                expected: text.clone(),
                got: reply.clone(),
            });
        }
    }
    for text in &expect.reply_lacks {
        if reply.contains(text.as_str()) {
            out.push(Mismatch {
                what: "reply lacks",
                expected: text.clone(),
                got: reply.clone(),
            });
        }
    }
    let labels: Vec<&str> = decision
        .reply
        .quick_replies
        .iter()
        .map(|q| q.label.as_str())
        .collect();
    for label in &expect.quick_replies {
        if !labels.contains(&label.as_str()) {
            out.push(Mismatch {
                what: "quick reply",
                expected: label.clone(),
                got: format!("[{}]", labels.join(", ")),
            });
        }
    }
    for (name, value) in &expect.details {
        let got = decision.state.details.get(name);
        if got != Some(value) {
            out.push(Mismatch {
                what: "detail",
                expected: format!("{name} = {value}"),
                got: format!("{name} = {}", or_none(got.map(String::as_str))),
            });
        }
    }
    out
}

/// A conversation as a transcript: each turn (of a failing one, up to the
/// last failing turn) with the customer's words, the bot's reply and what
/// it decided, and under a failing turn `- expected` and `+ got` lines.
pub(crate) fn write_conversation(
    rules: &RuleSet,
    conversation: &ConversationOutcome,
    out: &mut impl Write,
) -> io::Result<()> {
    let verdict = if conversation.passed() {
        "PASSED"
    } else {
        "FAILED"
    };
    writeln!(
        out,
        "{verdict} {}: {}",
        conversation.location, conversation.name
    )?;
    // A failing conversation is shown up to its last failing turn.
    let last_failing = conversation
        .turns
        .iter()
        .rposition(|t| !t.mismatches.is_empty())
        .unwrap_or(conversation.turns.len().saturating_sub(1));
    for (n, turn) in conversation.turns.iter().take(last_failing + 1).enumerate() {
        let decision = &turn.decision;
        let local = rules.policy().hours.local(turn.at);
        writeln!(
            out,
            "  {}. [{} {}] customer: {}",
            n + 1,
            turn.channel,
            local.strftime("%Y-%m-%d %H:%M %:z"),
            turn.text
        )?;
        let intent = decision
            .intent
            .map_or("no intent", |i| rules.intent(i).id.as_str());
        let escalation = decision
            .escalation
            .map(|e| format!(", escalate: {}", e.reason))
            .unwrap_or_default();
        writeln!(
            out,
            "     bot ({}, {intent}{escalation}, state {}): {}",
            action_name(decision.action),
            decision.state.status,
            decision.reply.text.replace('\n', " ")
        )?;
        for m in &turn.mismatches {
            writeln!(out, "     at {}: {}", turn.location, m.what)?;
            writeln!(out, "     - expected: {}", m.expected)?;
            writeln!(out, "     + got:      {}", m.got.replace('\n', " "))?;
        }
    }
    writeln!(out)
}
