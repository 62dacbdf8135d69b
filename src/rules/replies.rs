//! The dialogue's own texts: fallbacks, questions, escalation replies. The
//! built-in ones (`builtin/replies.yaml`) are replaced per name and locale
//! by the rule set's `replies:`.

use std::collections::{BTreeMap, BTreeSet};

use super::answers::{Answers, Channel, ReplyKey, TemplateScope};
use super::schema::{AnswerSpec, ReplySpec};
use super::source::ParsedFile;
use crate::diagnostic::{Diagnostics, SourceLocation};
use crate::text::Locale;

/// The names a reply template can use besides `shop.*`, `details.*`,
/// `locale` and `channel`.
pub(crate) const REPLY_VARIABLES: &[&str] = &[
    "trouble",
    "apology",
    "follow_up",
    "open",
    "by",
    "closed_for",
    "options",
    "concern",
    "ticket_id",
    "ticket_url",
];

/// A reply of the dialogue, by name. The engine asks for replies by this
/// enum, so it cannot ask for one that does not exist; the questions for
/// details (`ask_<detail>`) come on top, named after the rule set's details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyName {
    /// Did not understand; offers topics.
    Fallback,
    /// Which of two intents?
    Clarify,
    /// Is this about the one intent a generic word named out of the
    /// shop's context?
    Confirm,
    /// The "neither" quick reply of a clarification.
    Neither,
    /// May I have your e-mail address before a person takes over?
    AskEmail,
    /// An apology that names the trouble.
    Apology,
    /// Who will answer, and by when.
    FollowUp,
    /// The handoff of a complaint.
    EscalatedComplaint,
    /// The handoff the customer asked for.
    EscalatedHumanRequested,
    /// The handoff after repeated fallbacks.
    EscalatedRepeatedFallback,
    /// The handoff a rule asks for.
    EscalatedRule,
    /// The careful handoff of a safety concern.
    EscalatedSafety,
    /// The handoff of a threat of legal, regulatory or payment-dispute
    /// action.
    EscalatedThreat,
    /// A person has the conversation: acknowledged.
    HandedOff,
    /// The conversation is closed.
    Closed,
    /// The ticket system's reference.
    Ticket,
}

impl ReplyName {
    /// Every reply name, in the order `check` lists them.
    pub const ALL: [ReplyName; 16] = [
        ReplyName::Fallback,
        ReplyName::Clarify,
        ReplyName::Confirm,
        ReplyName::Neither,
        ReplyName::AskEmail,
        ReplyName::Apology,
        ReplyName::FollowUp,
        ReplyName::EscalatedComplaint,
        ReplyName::EscalatedHumanRequested,
        ReplyName::EscalatedRepeatedFallback,
        ReplyName::EscalatedRule,
        ReplyName::EscalatedSafety,
        ReplyName::EscalatedThreat,
        ReplyName::HandedOff,
        ReplyName::Closed,
        ReplyName::Ticket,
    ];

    /// The name under `replies:` in a rule file.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ReplyName::Fallback => "fallback",
            ReplyName::Clarify => "clarify",
            ReplyName::Confirm => "confirm",
            ReplyName::Neither => "neither",
            ReplyName::AskEmail => "ask_email",
            ReplyName::Apology => "apology",
            ReplyName::FollowUp => "follow_up",
            ReplyName::EscalatedComplaint => "escalated_complaint",
            ReplyName::EscalatedHumanRequested => "escalated_human_requested",
            ReplyName::EscalatedRepeatedFallback => "escalated_repeated_fallback",
            ReplyName::EscalatedRule => "escalated_rule",
            ReplyName::EscalatedSafety => "escalated_safety",
            ReplyName::EscalatedThreat => "escalated_threat",
            ReplyName::HandedOff => "handed_off",
            ReplyName::Closed => "closed",
            ReplyName::Ticket => "ticket",
        }
    }
}

/// The name of the question for detail `detail`.
pub(crate) fn question_name(detail: &str) -> String {
    format!("ask_{detail}")
}

/// Compiles the replies of the rule set's files (the first declaration of a
/// name in a locale wins; the built-in files come last). Two of the rule
/// set's own files declaring one reply in one locale is an error.
pub(crate) fn compile(
    files: &[ParsedFile],
    user_files: usize,
    locales: &[Locale],
    scope: &TemplateScope<'_>,
    answers: &mut Answers,
    d: &mut Diagnostics,
) {
    let mut declared: BTreeMap<(String, Locale), SourceLocation> = BTreeMap::new();
    for (n, file) in files.iter().enumerate() {
        let builtin = n >= user_files;
        let Some(replies) = &file.rules.replies else {
            continue;
        };
        for (name, per_locale) in &replies.value {
            if !known(name, scope.detail_names) {
                d.error(file.at_value(per_locale), unknown_message(name));
                continue;
            }
            for &locale in locales {
                let Some(reply) = per_locale.value.get(locale) else {
                    continue;
                };
                let location = file.at_value(reply);
                if let Some(first) = declared.get(&(name.clone(), locale)) {
                    if !builtin {
                        d.error(
                            location,
                            format!("reply `{name}` in `{locale}` is already declared at {first}"),
                        );
                    }
                    continue;
                }
                declared.insert((name.clone(), locale), location);
                add(
                    file,
                    name,
                    locale,
                    &reply.value,
                    &file.at_value(reply),
                    scope,
                    answers,
                    d,
                );
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn add(
    file: &ParsedFile,
    name: &str,
    locale: Locale,
    reply: &ReplySpec,
    location: &SourceLocation,
    scope: &TemplateScope<'_>,
    answers: &mut Answers,
    d: &mut Diagnostics,
) {
    let templates: Vec<(Channel, &str, SourceLocation)> = match reply {
        ReplySpec::One(AnswerSpec::Same(text)) => vec![(Channel::Chat, text, location.clone())],
        ReplySpec::One(AnswerSpec::PerChannel { chat, email }) => {
            let mut out = vec![(Channel::Chat, chat.value.as_str(), file.at_value(chat))];
            if let Some(email) = email {
                out.push((Channel::Email, email.value.as_str(), file.at_value(email)));
            }
            out
        }
        ReplySpec::Variants(texts) => {
            if texts.is_empty() {
                d.error(location.clone(), format!("reply `{name}` has no texts"));
            }
            texts
                .iter()
                .map(|t| (Channel::Chat, t.value.as_str(), file.at_value(t)))
                .collect()
        }
    };
    let mut variant = [0, 0];
    for (channel, source, location) in templates {
        if source.trim().is_empty() && name != ReplyName::Neither.as_str() {
            d.error(location, format!("reply `{name}` is empty"));
            continue;
        }
        let key = ReplyKey {
            name,
            locale,
            channel,
            variant: variant[channel as usize],
        };
        variant[channel as usize] += 1;
        if let Err(problems) = answers.add_reply(key, source, &location, scope) {
            for (location, message) in problems {
                d.error(location, message);
            }
        }
    }
}

fn known(name: &str, detail_names: &BTreeSet<String>) -> bool {
    ReplyName::ALL.iter().any(|r| r.as_str() == name)
        || name
            .strip_prefix("ask_")
            .is_some_and(|detail| detail_names.contains(detail))
}

fn unknown_message(name: &str) -> String {
    let hint = if name.starts_with("ask_") {
        "an `ask_` reply must be named after a detail the rule set extracts (`ask_order_number`)"
            .to_owned()
    } else {
        format!(
            "known replies: {}, and ask_<detail>",
            ReplyName::ALL.map(ReplyName::as_str).join(", ")
        )
    };
    format!("unknown reply `{name}`: {hint}")
}
