//! Rule suggestions: what customers asked that the rule set did not
//! understand, grouped, with the rule that would have caught it — keywords
//! for an intent it already has, or a new intent — and a replay of the
//! stored messages and the conversation tests with that rule added.
//!
//! Messages come in through [`Message`], a plain record: this module reads
//! nothing itself, so the store, the command line and the agent API can
//! all feed it.

mod features;
mod group;
mod replay;

pub use replay::{Decided, Flip, Replay, TestFailure, TestsSummary, replay};

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::classify::classify;
use crate::conversation_test::TestSuite;
use crate::engine::Action;
use crate::rules::{Addition, Channel, LoadError, RuleSet};
use crate::text::{Locale, normalize};
use features::{Parsed, Term};

/// A stored customer message, as suggestions read it.
#[derive(Debug, Clone)]
pub struct Message {
    /// Its conversation.
    pub conversation_id: String,
    /// Its place in the conversation.
    pub seq: i64,
    /// What the customer wrote.
    pub text: String,
    /// Where.
    pub channel: Channel,
    /// When, in milliseconds since the epoch.
    pub at: i64,
    /// The intent it was taken as.
    pub intent: Option<String>,
    /// What the bot did, when a decision is stored.
    pub action: Option<Action>,
}

impl Message {
    /// Whether the bot did not understand it: no intent, or a fallback.
    /// A message to a person (acknowledged) or to a closed conversation
    /// was not the bot's to understand.
    fn unmatched(&self) -> bool {
        match self.action {
            Some(Action::Acknowledge | Action::Closed) => false,
            Some(Action::Fallback) => true,
            _ => self.intent.is_none(),
        }
    }
}

/// What a suggestion adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Keywords for an existing intent.
    Keyword,
    /// A new intent.
    Intent,
}

/// A message a suggestion rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Example {
    /// Its conversation.
    pub conversation_id: String,
    /// What the customer wrote.
    pub text: String,
}

/// A rule the stored messages suggest.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    /// Stable for the same kind, intent (or name) and keywords.
    pub id: String,
    /// Keywords for an intent, or a new intent.
    pub kind: Kind,
    /// The intent the keywords are for (kind `keyword`).
    pub intent: Option<String>,
    /// The new intent's proposed id (kind `intent`).
    pub name: Option<String>,
    /// The locale most of its messages are written in.
    pub locale: Option<Locale>,
    /// The keywords to add.
    pub keywords: Vec<String>,
    /// How many messages it would have caught.
    pub support: usize,
    /// In how many conversations.
    pub conversations: usize,
    /// Those messages (for a new intent: its examples).
    pub messages: Vec<Example>,
}

impl Suggestion {
    /// The addition to the rule set it stands for.
    #[must_use]
    pub fn addition(&self) -> Addition {
        match self.kind {
            Kind::Keyword => Addition::Keywords {
                intent: self.intent.clone().unwrap_or_default(),
                keywords: self.keywords.clone(),
            },
            Kind::Intent => Addition::Intent {
                id: self.name.clone().unwrap_or_default(),
                keywords: self.keywords.clone(),
            },
        }
    }
}

/// How suggestions are mined.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How alike two messages must be to be grouped (Jaccard, 0 to 1).
    pub threshold: f64,
    /// The fewest messages a suggestion rests on.
    pub min_support: usize,
    /// The most suggestions returned.
    pub limit: usize,
    /// The most unmatched messages read (the latest).
    pub max_messages: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            threshold: 0.4,
            min_support: 2,
            limit: 20,
            max_messages: 5_000,
        }
    }
}

/// Decides `messages` again with `rules` and with `rules` plus
/// `suggestion`, and runs `tests` with the suggestion.
///
/// # Errors
/// A [`LoadError`] when the rule set does not compile with it (its intent
/// is gone since, say).
pub fn replay_suggestion(
    rules: &RuleSet,
    suggestion: &Suggestion,
    messages: &[Message],
    tests: Option<&TestSuite>,
) -> Result<Replay, LoadError> {
    let changed = rules.with_addition(&suggestion.addition())?;
    Ok(replay(rules, &changed, messages, tests))
}

/// In how many of a group's messages a term must appear to be proposed.
const TERM_SHARE: f64 = 0.5;
/// In how many of the other messages it may appear: a term that many
/// messages share says nothing about this group.
const BACKGROUND_SHARE: f64 = 0.1;
/// The most keywords one suggestion proposes.
const MAX_KEYWORDS: usize = 3;

/// One unmatched message, taken apart.
struct Mined<'a> {
    message: &'a Message,
    parsed: Parsed,
    terms: BTreeSet<Term>,
    locale: Option<Locale>,
}

/// Mines `messages` (every stored customer message of the period, in any
/// order) for suggestions, best supported first.
#[must_use]
pub fn suggest(rules: &RuleSet, messages: &[Message], settings: &Settings) -> Vec<Suggestion> {
    let mut ordered: Vec<&Message> = messages.iter().collect();
    ordered
        .sort_by(|a, b| (a.at, &a.conversation_id, a.seq).cmp(&(b.at, &b.conversation_id, b.seq)));
    let unmatched: Vec<&Message> = ordered.iter().copied().filter(|m| m.unmatched()).collect();
    let unmatched = &unmatched[unmatched.len().saturating_sub(settings.max_messages)..];
    let mined: Vec<Mined<'_>> = unmatched
        .iter()
        .map(|message| {
            let normalized = normalize(&message.text);
            let parsed = features::parse(&message.text, &normalized);
            Mined {
                message,
                terms: features::terms(&parsed),
                parsed,
                locale: normalized.detected_locale(),
            }
        })
        .collect();
    let sets: Vec<&[u64]> = mined.iter().map(|m| m.parsed.features.as_slice()).collect();
    let mut groups = group::group(&sets, settings.threshold);
    groups.retain(|g| g.len() >= settings.min_support);
    // Most messages first; ties in the order the groups were first seen.
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let background: Vec<BTreeSet<Term>> = ordered
        .iter()
        .map(|m| features::terms(&features::parse(&m.text, &normalize(&m.text))))
        .collect();
    let examples = ExampleFeatures::new(rules);
    let mut out: Vec<Suggestion> = Vec::new();
    for members in groups {
        if out.len() >= settings.limit {
            break;
        }
        let group: Vec<&Mined<'_>> = members.iter().map(|&i| &mined[i]).collect();
        if let Some(suggestion) = propose(rules, &group, &background, &examples, settings)
            && !out.iter().any(|s| s.id == suggestion.id)
        {
            out.push(suggestion);
        }
    }
    out.sort_by(|a, b| {
        (b.support, b.conversations)
            .cmp(&(a.support, a.conversations))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// The suggestion for one group, if its messages share a keyword.
fn propose(
    rules: &RuleSet,
    group: &[&Mined<'_>],
    background: &[BTreeSet<Term>],
    examples: &ExampleFeatures,
    settings: &Settings,
) -> Option<Suggestion> {
    let keywords = keywords(group, background);
    if keywords.is_empty() {
        return None;
    }
    let locale = majority_locale(group);
    if let Some(intent) = closest_intent(rules, group, examples) {
        let addition = Addition::Keywords {
            intent: intent.clone(),
            keywords: keywords.clone(),
        };
        if let Ok(changed) = rules.with_addition(&addition) {
            let caught: Vec<&Mined<'_>> = group
                .iter()
                .copied()
                .filter(|m| {
                    let outcome = classify(&changed, &m.message.text).outcome;
                    outcome
                        .best()
                        .is_some_and(|c| changed.intent(c.intent).id.as_str() == intent)
                })
                .collect();
            if caught.len() >= settings.min_support {
                return Some(suggestion(
                    Kind::Keyword,
                    Some(intent),
                    None,
                    locale,
                    keywords,
                    &caught,
                ));
            }
        }
    }
    let name = intent_name(rules, &keywords);
    Some(suggestion(
        Kind::Intent,
        None,
        Some(name),
        locale,
        keywords,
        group,
    ))
}

fn suggestion(
    kind: Kind,
    intent: Option<String>,
    name: Option<String>,
    locale: Option<Locale>,
    keywords: Vec<String>,
    messages: &[&Mined<'_>],
) -> Suggestion {
    let conversations: BTreeSet<&str> = messages
        .iter()
        .map(|m| m.message.conversation_id.as_str())
        .collect();
    Suggestion {
        id: suggestion_id(kind, intent.as_deref().or(name.as_deref()), &keywords),
        kind,
        intent,
        name,
        locale,
        keywords,
        support: messages.len(),
        conversations: conversations.len(),
        messages: messages
            .iter()
            .map(|m| Example {
                conversation_id: m.message.conversation_id.clone(),
                text: m.message.text.clone(),
            })
            .collect(),
    }
}

/// A hash of what the suggestion adds: the same data gives the same id.
fn suggestion_id(kind: Kind, target: Option<&str>, keywords: &[String]) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    hash.update(match kind {
        Kind::Keyword => b"keyword".as_slice(),
        Kind::Intent => b"intent".as_slice(),
    });
    for part in std::iter::once(target.unwrap_or("")).chain(keywords.iter().map(String::as_str)) {
        hash.update([0]);
        hash.update(part.as_bytes());
    }
    hex::encode(&hash.finalize()[..8])
}

/// The group's keywords: terms most of its messages share and few other
/// messages have, longest first among equals, each covering messages the
/// ones before did not (up to three).
fn keywords(group: &[&Mined<'_>], background: &[BTreeSet<Term>]) -> Vec<String> {
    let mut counts: BTreeMap<&Term, usize> = BTreeMap::new();
    for m in group {
        for term in &m.terms {
            *counts.entry(term).or_default() += 1;
        }
    }
    let needed = ((group.len() as f64 * TERM_SHARE).ceil() as usize).max(2);
    let outside = background.len().saturating_sub(group.len()).max(1);
    let mut scored: Vec<(&Term, usize)> = counts
        .into_iter()
        .filter(|(_, n)| *n >= needed)
        .filter(|(term, n)| {
            let everywhere = background.iter().filter(|t| t.contains(term)).count();
            (everywhere.saturating_sub(*n) as f64 / outside as f64) <= BACKGROUND_SHARE
        })
        .collect();
    // Most messages first, then the longest (a phrase before its words),
    // then in a fixed order.
    scored.sort_by(|(a, n), (b, m)| {
        m.cmp(n)
            .then_with(|| term_len(b).cmp(&term_len(a)))
            .then_with(|| a.cmp(b))
    });
    let mut chosen: Vec<&Term> = Vec::new();
    let mut covered: BTreeSet<usize> = BTreeSet::new();
    for (term, _) in scored {
        if chosen.len() >= MAX_KEYWORDS || covered.len() == group.len() {
            break;
        }
        if chosen.iter().any(|c| overlaps(c, term)) {
            continue;
        }
        let covers: BTreeSet<usize> = (0..group.len())
            .filter(|&i| group[i].terms.contains(term))
            .collect();
        if covers.is_subset(&covered) {
            continue;
        }
        covered.extend(covers);
        chosen.push(term);
    }
    let parsed: Vec<&Parsed> = group.iter().map(|m| &m.parsed).collect();
    chosen
        .into_iter()
        .map(|t| features::keyword(t, &parsed))
        .collect()
}

fn term_len(term: &Term) -> usize {
    match term {
        Term::Japanese(text) => text.chars().count(),
        Term::Words(words) => words.iter().map(|w| w.chars().count() + 1).sum(),
    }
}

/// Whether one term is part of the other (a shorter piece of a keyword
/// already chosen adds nothing).
fn overlaps(a: &Term, b: &Term) -> bool {
    match (a, b) {
        (Term::Japanese(a), Term::Japanese(b)) => a.contains(b.as_str()) || b.contains(a.as_str()),
        (Term::Words(a), Term::Words(b)) => {
            b.iter().all(|w| a.contains(w)) || a.iter().all(|w| b.contains(w))
        }
        _ => false,
    }
}

fn majority_locale(group: &[&Mined<'_>]) -> Option<Locale> {
    let ja = group
        .iter()
        .filter(|m| m.locale == Some(Locale::Ja))
        .count();
    let en = group
        .iter()
        .filter(|m| m.locale == Some(Locale::En))
        .count();
    match ja.cmp(&en) {
        std::cmp::Ordering::Greater => Some(Locale::Ja),
        std::cmp::Ordering::Less => Some(Locale::En),
        std::cmp::Ordering::Equal => None,
    }
}

/// The features of every intent's examples.
struct ExampleFeatures(Vec<Vec<Vec<u64>>>);

impl ExampleFeatures {
    fn new(rules: &RuleSet) -> Self {
        ExampleFeatures(
            rules
                .intents()
                .iter()
                .map(|intent| {
                    intent
                        .examples
                        .iter()
                        .map(|e| features::parse(&e.text, &normalize(&e.text)).features)
                        .collect()
                })
                .collect(),
        )
    }
}

/// The intent the group is closest to, if any: the evidence the classifier
/// found for each intent (below its threshold, or lost to a veto or a
/// runner-up) and how alike the messages are to the intent's examples.
fn closest_intent(
    rules: &RuleSet,
    group: &[&Mined<'_>],
    examples: &ExampleFeatures,
) -> Option<String> {
    let mut closeness = vec![0.0_f64; rules.intents().len()];
    for m in group {
        let outcome = classify(rules, &m.message.text).outcome;
        for candidate in &outcome.candidates {
            closeness[candidate.intent as usize] += candidate.score;
        }
        for (intent, features) in examples.0.iter().enumerate() {
            let best = features
                .iter()
                .map(|f| features::jaccard(&m.parsed.features, f))
                .fold(0.0, f64::max);
            closeness[intent] += best;
        }
    }
    let (index, best) = closeness
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.total_cmp(b).then_with(|| j.cmp(i)))?;
    // Less than a quarter of an example per message is no closeness.
    (*best >= 0.25 * group.len() as f64).then(|| rules.intents()[index].id.as_str().to_owned())
}

/// An id for a new intent from its first keyword (`gift_card`), or a
/// numbered one when the keyword is not Latin; never one the rule set has.
fn intent_name(rules: &RuleSet, keywords: &[String]) -> String {
    let first = keywords.first().map_or("", String::as_str);
    let mut slug = String::new();
    for c in first.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
    }
    let slug = slug.trim_end_matches('_');
    let base = if slug.starts_with(|c: char| c.is_ascii_lowercase()) {
        let mut s: String = slug.chars().take(48).collect();
        s.truncate(s.trim_end_matches('_').len());
        s
    } else {
        format!(
            "suggested_{}",
            &suggestion_id(Kind::Intent, None, keywords)[..6]
        )
    };
    let mut name = base.clone();
    let mut n = 2;
    while rules.intent_index(&name).is_some() {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

#[cfg(test)]
mod tests;
