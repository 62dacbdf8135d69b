//! Conversation tests: YAML files of turns (what the customer says, on
//! which channel, at what time) and what must come back, run through the
//! dialogue engine exactly as the service runs a conversation.
//!
//! ```yaml
//! conversations:
//!   - name: A late parcel, then anger, goes to a person
//!     at: 2026-12-01T10:00:00+09:00
//!     turns:
//!       - say: 注文した商品がまだ届きません
//!         expect: { intent: late_delivery, state: bot }
//!       - say: いい加減にしてください！
//!         expect: { reason: complaint, state: handed_off }
//! ```

mod report;
mod spec;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_saphyr::Spanned;

use crate::engine::{ConversationState, Decision, Turn, decide};
use crate::rules::{
    Channel, Diagnostic, IntentIndex, RuleSet, SourceLocation, read_yaml_file, yaml_diagnostic,
    yaml_paths,
};
use spec::{ConversationSpec, Expect, TestFile};

/// When a conversation that names no time happens: a Tuesday morning,
/// within the example shop's hours.
const DEFAULT_START: &str = "2026-12-01T10:00:00+09:00";

/// A conversation test file, read and checked.
#[derive(Debug)]
pub struct TestSuite {
    conversations: Vec<Conversation>,
}

#[derive(Debug)]
struct Conversation {
    name: String,
    location: SourceLocation,
    email: Option<String>,
    turns: Vec<TestTurn>,
}

#[derive(Debug)]
struct TestTurn {
    text: String,
    tap: Option<String>,
    location: SourceLocation,
    channel: Channel,
    at: Timestamp,
    expect: Expect,
}

/// The outcome of running the conversation tests.
#[derive(Debug)]
pub struct Outcome {
    /// Per conversation, in file order.
    pub conversations: Vec<ConversationOutcome>,
    /// The intents some turn was taken as.
    pub exercised: BTreeSet<IntentIndex>,
}

/// One conversation, run.
#[derive(Debug)]
pub struct ConversationOutcome {
    /// Its name.
    pub name: String,
    /// Where it is written.
    pub location: SourceLocation,
    /// Its turns, up to the end.
    pub turns: Vec<TurnOutcome>,
}

/// One turn, run.
#[derive(Debug)]
pub struct TurnOutcome {
    /// What the customer said.
    pub text: String,
    /// Where the turn is written.
    pub location: SourceLocation,
    /// Its channel and time.
    pub channel: Channel,
    /// When.
    pub at: Timestamp,
    /// What the bot decided.
    pub decision: Decision,
    /// The expectations it did not meet.
    pub mismatches: Vec<report::Mismatch>,
}

impl ConversationOutcome {
    /// Whether every turn met its expectations.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.turns.iter().all(|t| t.mismatches.is_empty())
    }
}

impl Outcome {
    /// Conversations that passed.
    #[must_use]
    pub fn passed(&self) -> usize {
        self.conversations.iter().filter(|c| c.passed()).count()
    }

    /// Conversations that failed.
    #[must_use]
    pub fn failed(&self) -> usize {
        self.conversations.len() - self.passed()
    }

    /// The rule set's intents no turn was taken as.
    #[must_use]
    pub fn unexercised<'a>(&self, rules: &'a RuleSet) -> Vec<&'a str> {
        (0..rules.intents().len() as IntentIndex)
            .filter(|i| !self.exercised.contains(i))
            .map(|i| rules.intent(i).id.as_str())
            .collect()
    }

    /// Writes a readable report: each failing conversation's transcript
    /// with what was expected and what came instead (with `all`, the
    /// transcripts of passing conversations too).
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_transcripts(
        &self,
        rules: &RuleSet,
        all: bool,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        for conversation in self.conversations.iter().filter(|c| all || !c.passed()) {
            report::write_conversation(rules, conversation, out)?;
        }
        Ok(())
    }
}

impl TestSuite {
    /// Reads the conversation tests under `paths` (files, or folders read
    /// recursively). Every problem is reported, each as
    /// `path:line:column: message`.
    ///
    /// # Errors
    /// The problems of files that cannot be read or are not valid tests.
    pub fn load(paths: &[&Path]) -> Result<Self, Vec<Diagnostic>> {
        let mut conversations = Vec::new();
        let mut problems = Vec::new();
        for root in paths {
            let files = match yaml_paths(root, "conversation tests") {
                Ok(files) => files,
                Err(d) => {
                    problems.push(d);
                    continue;
                }
            };
            for file in files {
                let path: Arc<str> = file.display().to_string().into();
                match read_yaml_file(&file) {
                    Ok(text) => match Self::parse(&path, &text) {
                        Ok(found) => conversations.extend(found),
                        Err(mut found) => problems.append(&mut found),
                    },
                    Err(err) => problems.push(Diagnostic::error(
                        SourceLocation::new(&path, 1, 1),
                        format!("cannot read conversation tests: {err}"),
                    )),
                }
            }
        }
        if problems.is_empty() {
            Ok(TestSuite { conversations })
        } else {
            Err(problems)
        }
    }

    /// Reads conversation tests from YAML text; `path` names it in messages.
    ///
    /// # Errors
    /// Every problem of the text.
    pub fn from_yaml(path: &str, text: &str) -> Result<Self, Vec<Diagnostic>> {
        Self::parse(&Arc::from(path), text).map(|conversations| TestSuite { conversations })
    }

    fn parse(path: &Arc<str>, text: &str) -> Result<Vec<Conversation>, Vec<Diagnostic>> {
        let file: TestFile =
            serde_saphyr::from_str(text).map_err(|err| vec![yaml_diagnostic(path, &err)])?;
        let mut problems = Vec::new();
        let conversations = file
            .conversations
            .into_iter()
            .map(|spec| conversation(path, spec, &mut problems))
            .collect();
        if problems.is_empty() {
            Ok(conversations)
        } else {
            Err(problems)
        }
    }

    /// How many conversations there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.conversations.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
    }

    /// Runs every conversation against `rules`.
    #[must_use]
    pub fn run(&self, rules: &RuleSet) -> Outcome {
        let mut exercised = BTreeSet::new();
        let conversations = self
            .conversations
            .iter()
            .map(|c| {
                let outcome = run_conversation(rules, c);
                exercised.extend(outcome.turns.iter().filter_map(|t| t.decision.intent));
                outcome
            })
            .collect();
        Outcome {
            conversations,
            exercised,
        }
    }
}

fn run_conversation(rules: &RuleSet, conversation: &Conversation) -> ConversationOutcome {
    let mut state = conversation
        .email
        .as_deref()
        .map_or_else(ConversationState::default, ConversationState::with_email);
    let mut turns = Vec::new();
    for turn in &conversation.turns {
        // The service masks card numbers before deciding: so do the tests.
        let text = crate::privacy::mask(&turn.text);
        let decision = decide(
            rules,
            &state,
            Turn {
                text: &text,
                quick_reply: turn.tap.as_deref(),
                channel: turn.channel,
                now: turn.at,
                needs_person: None,
            },
        );
        let mut mismatches = report::check(rules, &turn.expect, &decision);
        // The service refuses a quick reply the last reply did not offer.
        if let Some(tap) = &turn.tap
            && !state.offers(tap)
        {
            mismatches.insert(
                0,
                report::Mismatch {
                    what: "quick reply offered",
                    expected: tap.clone(),
                    got: state.offered.join(", "),
                },
            );
        }
        state = decision.state.clone();
        turns.push(TurnOutcome {
            text: turn.text.clone(),
            location: turn.location.clone(),
            channel: turn.channel,
            at: turn.at,
            decision,
            mismatches,
        });
    }
    ConversationOutcome {
        name: conversation.name.clone(),
        location: conversation.location.clone(),
        turns,
    }
}

fn place<T>(path: &Arc<str>, value: &Spanned<T>) -> SourceLocation {
    SourceLocation::new(path, value.referenced.line(), value.referenced.column())
}

fn conversation(
    path: &Arc<str>,
    spec: ConversationSpec,
    problems: &mut Vec<Diagnostic>,
) -> Conversation {
    let location = place(path, &spec.name);
    let mut channel = Channel::Chat;
    if let Some(c) = &spec.channel {
        channel = parse_channel(path, c, problems).unwrap_or(channel);
    }
    let default_start: Timestamp = DEFAULT_START.parse().unwrap_or(Timestamp::UNIX_EPOCH);
    let mut at = spec
        .at
        .as_ref()
        .and_then(|a| parse_time(path, a, problems))
        .unwrap_or(default_start);
    if spec.turns.is_empty() {
        problems.push(Diagnostic::error(
            location.clone(),
            "a conversation needs turns",
        ));
    }
    let mut turns = Vec::new();
    for (n, turn) in spec.turns.into_iter().enumerate() {
        if let Some(t) = &turn.at {
            at = parse_time(path, t, problems).unwrap_or(at);
        } else if n > 0 {
            at += SignedDuration::from_mins(1);
        }
        let turn_channel = turn
            .channel
            .as_ref()
            .and_then(|c| parse_channel(path, c, problems))
            .unwrap_or(channel);
        turns.push(TestTurn {
            location: place(path, &turn.say),
            text: turn.say.value,
            tap: turn.tap,
            channel: turn_channel,
            at,
            expect: turn.expect,
        });
    }
    Conversation {
        name: spec.name.value,
        location,
        email: spec.customer.and_then(|c| c.email),
        turns,
    }
}

fn parse_channel(
    path: &Arc<str>,
    value: &Spanned<String>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Channel> {
    value
        .value
        .parse()
        .map_err(|e: crate::rules::UnknownChannel| {
            problems.push(Diagnostic::error(place(path, value), e.to_string()));
        })
        .ok()
}

fn parse_time(
    path: &Arc<str>,
    value: &Spanned<String>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Timestamp> {
    value
        .value
        .parse()
        .map_err(|_| {
            problems.push(Diagnostic::error(
                place(path, value),
                format!(
                    "`{}` is not a time: use RFC 3339 with an offset, such as 2026-12-01T10:00:00+09:00",
                    value.value
                ),
            ));
        })
        .ok()
}
