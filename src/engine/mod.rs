//! The dialogue engine: the pure decision function of madoguchi.
//!
//! Given the rule set, the conversation's state, the customer's message, its
//! channel and the time, [`decide`] returns what to reply, the new state,
//! and whether to hand the conversation to a person. It does no I/O and
//! reads no clock, so conversation tests, `eval` and the benchmarks drive
//! it exactly as the service does.
//!
//! One message goes through these steps:
//!
//! 1. a closed conversation only says so; a handed-off one only
//!    acknowledges (a safety concern still raises the alarm);
//! 2. the message is classified, its details remembered, and the
//!    conversation's frustration updated;
//! 3. what the bot was waiting for is resolved: the customer's pick between
//!    two intents, a detail it asked for, an e-mail address before a
//!    handoff;
//! 4. a handoff, when the message or the conversation calls for one;
//! 5. otherwise an answer, a question (which intent? which order?), or a
//!    fallback that varies and offers topics.

mod reply;
mod state;

pub use reply::{QuickReply, Reply};
pub use state::{ConversationState, Handoff, Pending, Status};

use std::ops::Range;

use jiff::Timestamp;
use minijinja::Value;
use serde::Serialize;

use crate::classify::{Classification, classify};
use crate::escalation::{
    Escalation, EscalationReason, Priority, concern_name, escalation_for_message,
};
use crate::rules::{Channel, IntentIndex, ReplyName, RuleSet};
use crate::text::{Locale, normalize};
use reply::Writer;

/// How much of the conversation's frustration is left at the next message.
const FRUSTRATION_FADE: f64 = 0.8;

/// One message from the customer.
#[derive(Debug, Clone, Copy)]
pub struct Turn<'a> {
    /// What the customer wrote (a quick reply's label, when one was tapped).
    pub text: &'a str,
    /// The intent of the quick reply the customer tapped, if they tapped
    /// one: taken as it is, not classified again, when the last reply
    /// offered it (otherwise the text alone counts).
    pub quick_reply: Option<&'a str>,
    /// Where they wrote it.
    pub channel: Channel,
    /// When.
    pub now: Timestamp,
    /// A person is needed whatever the message says, for this reason: the
    /// channel saw something the message cannot show (a burst of mail in
    /// one thread).
    pub needs_person: Option<EscalationReason>,
}

/// What the bot did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Answered with the intent's answer.
    Answer,
    /// Asked which of two intents the customer means, or whether they mean
    /// the one a generic word named out of the shop's context.
    Clarify,
    /// Asked for a detail the intent needs.
    AskDetail,
    /// Asked for an e-mail address before handing off.
    AskEmail,
    /// Did not understand, and said so helpfully.
    Fallback,
    /// Handed the conversation to a person.
    Escalate,
    /// A person owns the conversation: acknowledged the message.
    Acknowledge,
    /// The conversation is closed.
    Closed,
}

/// The engine's decision on one message.
#[derive(Debug, Clone)]
pub struct Decision {
    /// What to say back.
    pub reply: Reply,
    /// What the bot did.
    pub action: Action,
    /// The intent the message was taken as (after a pick or a detail
    /// resolved what the bot asked).
    pub intent: Option<IntentIndex>,
    /// The handoff this message caused, if any.
    pub escalation: Option<Escalation>,
    /// A handoff decided but put off behind a question (the e-mail address,
    /// a detail a rule needs): the service keeps it in the outbox, due a
    /// little later, so that it happens even if the customer never answers.
    pub deferred: Option<Escalation>,
    /// The locale of the reply.
    pub locale: Locale,
    /// The message's classification: evidence, details, sentiment.
    pub classification: Classification,
    /// The conversation's state after the message.
    pub state: ConversationState,
    /// Whether the customer's question was settled: after an answer, they
    /// thanked or said goodbye (an intent tagged `closing`). The moment to
    /// ask how it went.
    pub resolved: bool,
}

/// The tag of intents that end a conversation well (thanks, goodbye).
pub const CLOSING_TAG: &str = "closing";

/// Decides what to do with one message of a conversation.
#[must_use]
pub fn decide(rules: &RuleSet, state: &ConversationState, turn: Turn<'_>) -> Decision {
    let classification = classify(rules, turn.text);
    let mut next = state.clone();
    let details = classification.details(turn.text);
    let locale = conversation_locale(rules, &classification, turn.text, state, &details);
    next.locale = Some(locale);
    next.details.extend(details);
    let score = classification.sentiment.score;
    next.frustration = (FRUSTRATION_FADE * state.frustration + score).min(0.0);
    let mut dialogue = Dialogue {
        rules,
        turn,
        locale,
        classification,
        state: next,
        deferred: None,
        resolved: false,
    };
    let (reply, action, intent, escalation) = dialogue.respond();
    dialogue.state.offered = reply
        .quick_replies
        .iter()
        .filter_map(|q| q.intent.clone())
        .collect();
    Decision {
        reply,
        action,
        intent,
        escalation,
        deferred: dialogue.deferred,
        locale,
        classification: dialogue.classification,
        state: dialogue.state,
        resolved: dialogue.resolved,
    }
}

/// The locale to answer in: the message's, unless it shows none (an order
/// number, an e-mail address, "OK"), then the conversation's.
fn conversation_locale(
    rules: &RuleSet,
    classification: &Classification,
    text: &str,
    state: &ConversationState,
    details: &std::collections::BTreeMap<String, String>,
) -> Locale {
    let previous = state.locale.unwrap_or_else(|| rules.default_locale());
    let detected = if details.is_empty() {
        classification.normalized_locale()
    } else {
        // Details are Latin letters and digits whatever the language:
        // `HM-12345678 です` is Japanese.
        normalize(&without_details(classification, text)).detected_locale()
    };
    match detected {
        Some(locale) if rules.locales().contains(&locale) => locale,
        _ => previous,
    }
}

fn without_details(classification: &Classification, text: &str) -> String {
    let mut spans: Vec<Range<usize>> = classification.detail_spans(text);
    spans.sort_by_key(|s| s.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.start >= at {
            out.push_str(text.get(at..span.start).unwrap_or_default());
            out.push(' ');
            at = span.end;
        }
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

type Response = (Reply, Action, Option<IntentIndex>, Option<Escalation>);

/// One message being decided.
struct Dialogue<'a> {
    rules: &'a RuleSet,
    turn: Turn<'a>,
    locale: Locale,
    classification: Classification,
    state: ConversationState,
    deferred: Option<Escalation>,
    resolved: bool,
}

impl Dialogue<'_> {
    fn respond(&mut self) -> Response {
        match self.state.status {
            Status::Closed => {
                let text = self.writer().reply(ReplyName::Closed, 0, Value::UNDEFINED);
                return (text_reply(text), Action::Closed, None, None);
            }
            Status::HandedOff => return self.acknowledge(),
            Status::Bot | Status::AwaitingDetail => {}
        }
        let pending = self.state.pending.take();
        self.state.status = Status::Bot;
        let chosen = self.chosen();
        // `resolved`: the intent comes from what the bot asked or offered,
        // so the message's own ambiguity no longer matters.
        let (intent, resolved) = match pending {
            Some(Pending::Email {
                reason,
                priority,
                intent,
            }) => return self.after_email_question(reason, priority, intent.as_deref()),
            _ if chosen.is_some() => (chosen, true),
            Some(Pending::Clarify { options }) => match self.pick(&options) {
                Pick::Intent(intent) => (Some(intent), true),
                Pick::Neither => return self.fallback(),
                Pick::None => (self.matched(), false),
            },
            Some(Pending::Detail { intent, .. }) => self.after_detail_question(&intent),
            None => (self.matched(), false),
        };
        if let Some(reason) = self.turn.needs_person.or_else(|| {
            escalation_for_message(
                self.rules,
                &self.classification,
                intent,
                self.state.fallbacks_in_a_row,
                self.state.frustration,
            )
        }) {
            return self.escalate(reason, intent);
        }
        let Some(intent) = intent else {
            if !resolved && let Some(named) = self.named_out_of_context() {
                return self.offer(ReplyName::Confirm, &[named]);
            }
            return self.fallback();
        };
        if !resolved && let Some(runner_up) = self.classification.outcome.runner_up() {
            return self.offer(ReplyName::Clarify, &[intent, runner_up.intent]);
        }
        if let Some(detail) = self.missing_detail(intent) {
            return self.ask_detail(intent, &detail);
        }
        self.answer(intent)
    }

    fn matched(&self) -> Option<IntentIndex> {
        self.classification.intent()
    }

    fn writer(&self) -> Writer<'_> {
        Writer {
            rules: self.rules,
            locale: self.locale,
            channel: self.turn.channel,
            now: self.turn.now,
            details: &self.state.details,
        }
    }

    /// Keeps the intent for later apologies, if it names a trouble.
    fn remember_trouble(&mut self, intent: IntentIndex) {
        if self.rules.intent(intent).trouble(self.locale).is_some() {
            self.state.trouble_intent = Some(self.id(intent));
        }
    }

    fn id(&self, intent: IntentIndex) -> String {
        self.rules.intent(intent).id.as_str().to_owned()
    }

    /// A handed-off conversation: the bot records and acknowledges; a safety
    /// concern still raises an urgent escalation for the person on it (once).
    fn acknowledge(&mut self) -> Response {
        let already_safety = self
            .state
            .handoff
            .as_ref()
            .is_some_and(|h| h.reason == EscalationReason::Safety);
        if self.classification.sentiment.safety.is_some() && !already_safety {
            let escalation = Escalation::new(EscalationReason::Safety, &self.classification, None);
            self.state.handoff = Some(Handoff {
                reason: escalation.reason,
                priority: escalation.priority,
                at: self.turn.now,
            });
            let text = self.escalation_text(EscalationReason::Safety, None);
            return (text_reply(text), Action::Escalate, None, Some(escalation));
        }
        let variant = self.state.acknowledged as usize;
        self.state.acknowledged += 1;
        let text = self
            .writer()
            .reply(ReplyName::HandedOff, variant, Value::UNDEFINED);
        (text_reply(text), Action::Acknowledge, self.matched(), None)
    }

    fn answer(&mut self, intent: IntentIndex) -> Response {
        self.state.fallbacks_in_a_row = 0;
        self.resolved = self.state.answers > 0
            && self
                .rules
                .intent(intent)
                .tags
                .iter()
                .any(|t| t == CLOSING_TAG);
        self.state.answers += 1;
        self.remember_trouble(intent);
        let answer = self
            .rules
            .render_answer(intent, self.locale, self.turn.channel, &self.state.details)
            .unwrap_or_default();
        // A complaint the bot can still answer: apologise first, unless
        // the answer itself opens with an apology (a late-delivery answer
        // does), which would then be said twice.
        let text = if self.classification.sentiment.complaint && !apologises(self.locale, &answer) {
            let apology = self
                .writer()
                .apology(self.rules.intent(intent).trouble(self.locale));
            join(self.locale, &apology, &answer)
        } else {
            answer
        };
        (text_reply(text), Action::Answer, Some(intent), None)
    }

    fn fallback(&mut self) -> Response {
        let variant = self.state.fallbacks as usize;
        self.state.fallbacks += 1;
        self.state.fallbacks_in_a_row += 1;
        let text = self
            .writer()
            .reply(ReplyName::Fallback, variant, Value::UNDEFINED);
        let quick_replies = self
            .rules
            .policy()
            .fallback
            .topics
            .iter()
            .map(|&topic| self.quick_reply(topic))
            .collect();
        let reply = Reply {
            text,
            quick_replies,
        };
        (reply, Action::Fallback, None, None)
    }

    fn quick_reply(&self, intent: IntentIndex) -> QuickReply {
        QuickReply {
            label: self.rules.intent(intent).label(self.locale).to_owned(),
            intent: Some(self.id(intent)),
        }
    }

    /// The intent a generic word named in a message out of the shop's
    /// context (the one with the most evidence), which the bot asks about
    /// instead of answering or falling back.
    fn named_out_of_context(&self) -> Option<IntentIndex> {
        let weight =
            |o: &&crate::matcher::OutOfContext| o.evidence.iter().map(|e| e.weight).sum::<f64>();
        self.classification
            .outcome
            .out_of_context
            .iter()
            .max_by(|a, b| weight(a).total_cmp(&weight(b)))
            .map(|o| o.intent)
    }

    /// Asks which of `options` the customer means (`clarify`), or whether
    /// they mean the one option (`confirm`), with a "neither" quick reply.
    fn offer(&mut self, name: ReplyName, options: &[IntentIndex]) -> Response {
        let best = options[0];
        let labels: Vec<String> = options
            .iter()
            .map(|&i| self.rules.intent(i).label(self.locale).to_owned())
            .collect();
        let writer = self.writer();
        let text = writer.reply(name, 0, minijinja::context! { options => labels });
        let neither = writer.reply(ReplyName::Neither, 0, Value::UNDEFINED);
        let mut quick_replies: Vec<QuickReply> =
            options.iter().map(|&i| self.quick_reply(i)).collect();
        if !neither.is_empty() {
            quick_replies.push(QuickReply {
                label: neither,
                intent: None,
            });
        }
        self.state.pending = Some(Pending::Clarify {
            options: options.iter().map(|&i| self.id(i)).collect(),
        });
        let reply = Reply {
            text,
            quick_replies,
        };
        // A confirmation names an intent that did not match: the decision
        // records none, as the classification does.
        let decided = (name != ReplyName::Confirm).then_some(best);
        (reply, Action::Clarify, decided, None)
    }

    /// The intent the customer picked from the last reply's quick replies:
    /// the one tapped, or the one whose label they typed.
    fn chosen(&self) -> Option<IntentIndex> {
        let offered = &self.state.offered;
        if let Some(id) = self.turn.quick_reply
            && offered.iter().any(|o| o == id)
        {
            return self.rules.intent_index(id);
        }
        let said = normalize(self.turn.text);
        let said = said.as_str().trim();
        offered
            .iter()
            .filter_map(|id| self.rules.intent_index(id))
            .find(|&i| {
                normalize(self.rules.intent(i).label(self.locale))
                    .as_str()
                    .trim()
                    == said
            })
    }

    /// The customer's answer to "which of these?" when they picked none of
    /// the quick replies: "neither", or a message that matches one of the
    /// options.
    fn pick(&self, options: &[String]) -> Pick {
        let said = normalize(self.turn.text);
        let said = said.as_str().trim();
        let offered: Vec<IntentIndex> = options
            .iter()
            .filter_map(|id| self.rules.intent_index(id))
            .collect();
        let neither = normalize(&self.writer().reply(ReplyName::Neither, 0, Value::UNDEFINED));
        if !neither.as_str().is_empty() && neither.as_str().trim() == said {
            return Pick::Neither;
        }
        // "The first one" is not understood; a message naming one of them is,
        // also when it names it again out of the shop's context (a confirm
        // answered by repeating the question must not be asked again).
        let outcome = &self.classification.outcome;
        outcome
            .candidates
            .iter()
            .take(2)
            .map(|c| c.intent)
            .chain(outcome.out_of_context.iter().map(|o| o.intent))
            .find(|i| offered.contains(i))
            .map_or(Pick::None, Pick::Intent)
    }

    /// The first detail the intent requires that the conversation does not
    /// have and the bot has not asked for yet.
    fn missing_detail(&self, intent: IntentIndex) -> Option<String> {
        self.rules
            .intent(intent)
            .requires
            .iter()
            .find(|d| !self.state.details.contains_key(*d) && !self.state.asked.contains(d))
            .cloned()
    }

    fn ask_detail(&mut self, intent: IntentIndex, detail: &str) -> Response {
        self.state.asked.push(detail.to_owned());
        self.remember_trouble(intent);
        self.state.pending = Some(Pending::Detail {
            intent: self.id(intent),
            detail: detail.to_owned(),
        });
        self.state.status = Status::AwaitingDetail;
        let writer = self.writer();
        let question = writer.question(detail);
        let text = if self.classification.sentiment.complaint {
            let apology = writer.apology(self.rules.intent(intent).trouble(self.locale));
            join(self.locale, &apology, &question)
        } else {
            question
        };
        (text_reply(text), Action::AskDetail, Some(intent), None)
    }

    /// After "which order?": the message gives the detail, or says
    /// something else. A new question of its own is taken as such; anything
    /// else goes on with the intent that asked (it was asked once).
    fn after_detail_question(&self, waiting: &str) -> (Option<IntentIndex>, bool) {
        let waiting = self.rules.intent_index(waiting);
        match self.matched() {
            Some(other) if Some(other) != waiting && !self.classification.has_details() => {
                (Some(other), false)
            }
            _ => (waiting.or(self.matched()), waiting.is_some()),
        }
    }

    fn escalate(&mut self, reason: EscalationReason, intent: Option<IntentIndex>) -> Response {
        if let Some(i) = intent {
            self.remember_trouble(i);
        }
        // A rule escalation collects what its intent needs first; an upset
        // customer or one asking for a person is not kept waiting for it.
        if reason == EscalationReason::Rule
            && let Some(intent) = intent
            && let Some(detail) = self.missing_detail(intent)
        {
            self.deferred = Some(Escalation::new(
                reason,
                &self.classification,
                Some(self.rules.intent(intent)),
            ));
            return self.ask_detail(intent, &detail);
        }
        let escalation = Escalation::new(
            reason,
            &self.classification,
            intent.map(|i| self.rules.intent(i)),
        );
        if self.should_ask_email(reason) {
            return self.ask_email(escalation, intent);
        }
        self.hand_off(escalation, intent)
    }

    fn should_ask_email(&self, reason: EscalationReason) -> bool {
        reason != EscalationReason::Safety
            && self.turn.channel == Channel::Chat
            && self.rules.policy().escalation.ask_email
            && self.rules.detail_names().contains("email")
            && !self.state.email_asked
            && !self.state.details.contains_key("email")
    }

    fn ask_email(&mut self, escalation: Escalation, intent: Option<IntentIndex>) -> Response {
        self.deferred = Some(escalation);
        self.state.email_asked = true;
        self.state.status = Status::AwaitingDetail;
        self.state.pending = Some(Pending::Email {
            reason: escalation.reason,
            priority: escalation.priority,
            intent: intent.map(|i| self.id(i)),
        });
        let apology = self.apology_for(escalation.reason, intent);
        let text = self.writer().reply(
            ReplyName::AskEmail,
            0,
            minijinja::context! { apology => apology, trouble => self.trouble(intent) },
        );
        (text_reply(text), Action::AskEmail, intent, None)
    }

    /// After "may I have your e-mail?": hand off, with the address if it
    /// came (it was asked once). A message that is itself a stronger reason
    /// (a safety concern) changes the handoff's reason.
    fn after_email_question(
        &mut self,
        reason: EscalationReason,
        priority: Priority,
        intent: Option<&str>,
    ) -> Response {
        let intent = intent.and_then(|id| self.rules.intent_index(id));
        let mut escalation = Escalation { reason, priority };
        if let Some(now) = escalation_for_message(
            self.rules,
            &self.classification,
            self.matched(),
            0,
            self.state.frustration,
        ) && now != EscalationReason::RepeatedFallback
        {
            let asked = self.matched().map(|i| self.rules.intent(i));
            escalation = escalation.stronger(Escalation::new(now, &self.classification, asked));
        }
        self.hand_off(escalation, intent)
    }

    fn hand_off(&mut self, escalation: Escalation, intent: Option<IntentIndex>) -> Response {
        self.state.status = Status::HandedOff;
        self.state.pending = None;
        self.state.fallbacks_in_a_row = 0;
        self.state.handoff = Some(Handoff {
            reason: escalation.reason,
            priority: escalation.priority,
            at: self.turn.now,
        });
        let text = self.escalation_text(escalation.reason, intent);
        (text_reply(text), Action::Escalate, intent, Some(escalation))
    }

    fn escalation_text(&self, reason: EscalationReason, intent: Option<IntentIndex>) -> String {
        let writer = self.writer();
        let (follow_up, _) = writer.follow_up();
        let apology = self.apology_for(reason, intent);
        let concern = concern_name(self.classification.sentiment.safety);
        writer.reply(
            reason.reply_name(),
            0,
            minijinja::context! {
                apology => apology,
                follow_up => follow_up,
                trouble => self.trouble(intent),
                concern => concern,
            },
        )
    }

    /// An apology for complaints (and for rule escalations of an upset
    /// customer); none when the customer just asked for a person.
    fn apology_for(&self, reason: EscalationReason, intent: Option<IntentIndex>) -> Option<String> {
        let escalation = self.rules.policy().escalation;
        let sentiment = &self.classification.sentiment;
        // Asking for a person is itself a demand to the detector: only an
        // angrier message than that earns an apology.
        let upset_message = if reason == EscalationReason::HumanRequested {
            sentiment.score <= escalation.complaint
        } else {
            sentiment.complaint
        };
        let upset = matches!(
            reason,
            EscalationReason::Complaint | EscalationReason::Threat
        ) || upset_message
            || self.state.frustration <= escalation.frustration;
        (upset && reason != EscalationReason::Safety)
            .then(|| self.writer().apology(self.trouble(intent)))
    }

    /// The trouble to name: the intent's, else the last one named.
    fn trouble(&self, intent: Option<IntentIndex>) -> Option<&str> {
        let earlier = || {
            self.state
                .trouble_intent
                .as_deref()
                .and_then(|id| self.rules.intent_index(id))
                .and_then(|i| self.rules.intent(i).trouble(self.locale))
        };
        intent
            .and_then(|i| self.rules.intent(i).trouble(self.locale))
            .or_else(earlier)
    }
}

enum Pick {
    Intent(IntentIndex),
    Neither,
    None,
}

fn text_reply(text: String) -> Reply {
    Reply {
        text,
        quick_replies: Vec::new(),
    }
}

/// Whether an answer already apologises in its first sentence.
fn apologises(locale: Locale, answer: &str) -> bool {
    let first = answer
        .split_inclusive(['。', '.', '!', '！'])
        .next()
        .unwrap_or(answer);
    match locale {
        Locale::Ja => first.contains("申し訳") || first.contains("お詫び"),
        Locale::En => {
            let lower = first.to_lowercase();
            lower.contains("sorry") || lower.contains("apolog")
        }
    }
}

/// Two sentences of a reply: Japanese runs on, English takes a space.
fn join(locale: Locale, first: &str, second: &str) -> String {
    match locale {
        Locale::Ja => format!("{first}{second}"),
        Locale::En => format!("{first} {second}"),
    }
}

#[cfg(test)]
mod tests;
