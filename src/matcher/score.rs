//! From raw pattern hits to scored candidates with their evidence.
//!
//! An intent's evidence adds up: each `any` keyword once (a keyword inside a
//! longer keyword of the same intent does not count twice), each complete
//! all-of group with the weights of all its words, each regex 1. The sum is
//! scaled by the intent's priority and mapped to a score between 0 and 1 by
//! `1 − e^(−evidence)`, so one solid keyword gives about 0.6, two about 0.85,
//! and more evidence keeps raising the score without ever reaching 1.

use std::ops::Range;
use std::sync::Arc;

use super::{IntentTag, KeywordTarget, Matcher, PatternKind, Role};

/// The evidence a regex gives its intent.
const REGEX_WEIGHT: f64 = 1.0;

/// One pattern found in the message.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pattern: u32,
    intent: IntentTag,
    role: HitRole,
    weight: f64,
    span: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HitRole {
    Keyword(Role),
    Regex,
}

impl Hit {
    pub(crate) fn keyword(target: &KeywordTarget, span: Range<usize>) -> Self {
        Hit {
            pattern: target.pattern,
            intent: target.intent,
            role: HitRole::Keyword(target.role),
            weight: target.weight,
            span,
        }
    }

    pub(crate) fn regex(pattern: u32, intent: IntentTag, span: Range<usize>) -> Self {
        Hit {
            pattern,
            intent,
            role: HitRole::Regex,
            weight: REGEX_WEIGHT,
            span,
        }
    }

    fn evidence(&self) -> Evidence {
        let kind = match self.role {
            HitRole::Keyword(Role::Any) => PatternKind::Any,
            HitRole::Keyword(Role::Generic) => PatternKind::Generic,
            HitRole::Keyword(Role::Context) => PatternKind::Context,
            HitRole::Keyword(Role::AllMember { .. }) => PatternKind::All,
            HitRole::Keyword(Role::Not) => PatternKind::Not,
            HitRole::Regex => PatternKind::Regex,
        };
        Evidence {
            pattern: self.pattern,
            kind,
            span: self.span.clone(),
            weight: self.weight,
        }
    }
}

/// One pattern that counted for (or against) an intent.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Index into [`Matcher::patterns`].
    pub pattern: u32,
    /// The pattern's role.
    pub kind: PatternKind,
    /// Where it matched, in bytes of the normalized text.
    pub span: Range<usize>,
    /// What it added to the evidence sum.
    pub weight: f64,
}

/// An intent the message may be.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The intent.
    pub intent: IntentTag,
    /// 0 to 1.
    pub score: f64,
    /// The evidence sum behind the score, scaled by priority.
    pub strength: f64,
    /// Why, in message order.
    pub evidence: Vec<Evidence>,
}

/// An intent ruled out by one of its `not` words.
#[derive(Debug, Clone, PartialEq)]
pub struct Veto {
    /// The intent.
    pub intent: IntentTag,
    /// The word that vetoed it.
    pub evidence: Evidence,
}

/// An intent whose only evidence was `generic` keywords, in a message that
/// names nothing of the shop's context and says too much the intent's
/// patterns and examples do not know.
#[derive(Debug, Clone, PartialEq)]
pub struct OutOfContext {
    /// The intent.
    pub intent: IntentTag,
    /// Its generic keywords, which did not count.
    pub evidence: Vec<Evidence>,
    /// The words the intent does not know, in bytes of the normalized text.
    pub unknown: Vec<Range<usize>>,
}

/// What scoring needs to know of the message besides its hits.
pub(crate) struct Context<'a> {
    /// The normalized text.
    pub(crate) text: &'a str,
    /// Whether a word of the shop's context was found.
    pub(crate) named: bool,
}

/// Everything one message matched.
#[derive(Debug, Clone)]
pub struct MatchOutcome {
    /// Intents with evidence, best first (score, then priority, then the
    /// order of declaration).
    pub candidates: Vec<Candidate>,
    /// Intents vetoed by a `not` word.
    pub vetoes: Vec<Veto>,
    /// Intents that had only `generic` keywords, out of the shop's context.
    pub out_of_context: Vec<OutOfContext>,
    /// Extracted details: name and span in the normalized text, in the order
    /// of the rule set's regexes.
    pub details: Vec<(Arc<str>, Range<usize>)>,
    min_score: f64,
    ambiguity_margin: f64,
}

impl MatchOutcome {
    /// The matched intent, if its score reaches the rule set's minimum.
    #[must_use]
    pub fn best(&self) -> Option<&Candidate> {
        self.candidates
            .first()
            .filter(|c| c.score >= self.min_score)
    }

    /// The second candidate, when its evidence is within the ambiguity
    /// margin of the best's: too close to call.
    #[must_use]
    pub fn runner_up(&self) -> Option<&Candidate> {
        let best = self.best()?;
        self.candidates.get(1).filter(|c| {
            c.score >= self.min_score && c.strength >= best.strength * (1.0 - self.ambiguity_margin)
        })
    }
}

pub(crate) fn score(
    matcher: &Matcher,
    hits: &mut Vec<Hit>,
    details: Vec<(Arc<str>, Range<usize>)>,
    context: &Context<'_>,
) -> MatchOutcome {
    // Sorting by pattern keeps the words of one all-of group together, since
    // they are registered one after another.
    hits.sort_unstable_by_key(|h| (h.intent, h.pattern, h.span.start));
    // A pattern counts once, at its first place; the words of all-of groups
    // keep every place, since the group needs them found apart.
    hits.dedup_by(|b, a| {
        a.intent == b.intent
            && a.pattern == b.pattern
            && !matches!(a.role, HitRole::Keyword(Role::AllMember { .. }))
    });

    let mut candidates = Vec::new();
    let mut vetoes = Vec::new();
    let mut out_of_context = Vec::new();
    for chunk in hits.chunk_by(|a, b| a.intent == b.intent) {
        let intent = chunk[0].intent;
        let shape = &matcher.intents[intent as usize];
        let mut evidence = Vec::new();
        collect_keywords(chunk, &mut evidence);
        collect_groups(chunk, &shape.group_sizes, &mut evidence);
        evidence.extend(
            chunk
                .iter()
                .filter(|h| h.role == HitRole::Regex)
                .map(Hit::evidence),
        );
        if evidence.is_empty() {
            continue;
        }
        // A veto is worth reporting only for an intent that had a case.
        if let Some(veto) = chunk.iter().find(|h| h.role == HitRole::Keyword(Role::Not)) {
            vetoes.push(Veto {
                intent,
                evidence: veto.evidence(),
            });
            continue;
        }
        evidence.sort_by_key(|e| e.span.start);
        if let Some(unknown) = out_of_shop_context(matcher, intent, &evidence, &details, context) {
            out_of_context.push(OutOfContext {
                intent,
                evidence,
                unknown,
            });
            continue;
        }
        let strength = evidence.iter().map(|e| e.weight).sum::<f64>() * shape.priority_factor;
        candidates.push(Candidate {
            intent,
            score: 1.0 - (-strength).exp(),
            strength,
            evidence,
        });
    }
    candidates.sort_by(|a, b| {
        let priority = |c: &Candidate| matcher.intents[c.intent as usize].priority;
        b.score
            .total_cmp(&a.score)
            .then_with(|| priority(b).cmp(&priority(a)))
            .then_with(|| a.intent.cmp(&b.intent))
    });
    let settings = matcher.settings;
    MatchOutcome {
        candidates,
        vetoes,
        out_of_context,
        details,
        min_score: settings.min_score,
        ambiguity_margin: settings.ambiguity_margin,
    }
}

/// When the evidence is only `generic` keywords and the message names
/// nothing of the shop's context: the words the intent does not know, if
/// there are enough of them for the message to be about something else.
fn out_of_shop_context(
    matcher: &Matcher,
    intent: IntentTag,
    evidence: &[Evidence],
    details: &[(Arc<str>, Range<usize>)],
    context: &Context<'_>,
) -> Option<Vec<Range<usize>>> {
    if context.named || evidence.iter().any(|e| e.kind != PatternKind::Generic) {
        return None;
    }
    // Extracted details (an order number, an e-mail address) are no words.
    let spans: Vec<Range<usize>> = evidence
        .iter()
        .map(|e| e.span.clone())
        .chain(details.iter().map(|(_, span)| span.clone()))
        .collect();
    let unknown = matcher
        .vocabulary
        .unknown_words(intent, context.text, &spans);
    (unknown.len() >= matcher.settings.unknown_words).then_some(unknown)
}

/// `any` and `generic` keywords, skipping one found inside a longer keyword
/// of the same intent (`パスワード` inside `パスワードを忘れ` is one piece of
/// evidence).
fn collect_keywords(chunk: &[Hit], evidence: &mut Vec<Evidence>) {
    let keyword = |h: &Hit| matches!(h.role, HitRole::Keyword(Role::Any | Role::Generic));
    for hit in chunk.iter().filter(|h| keyword(h)) {
        let inside_longer = chunk.iter().any(|other| {
            keyword(other)
                && other.span.len() > hit.span.len()
                && other.span.start <= hit.span.start
                && hit.span.end <= other.span.end
        });
        if !inside_longer {
            evidence.push(hit.evidence());
        }
    }
}

/// Complete all-of groups: every word of the group was found. The words of
/// one group are registered one after another, so in a chunk sorted by
/// pattern their hits are next to each other.
fn collect_groups(chunk: &[Hit], group_sizes: &[u8], evidence: &mut Vec<Evidence>) {
    let member_of = |h: &Hit| match h.role {
        HitRole::Keyword(Role::AllMember { group, member }) => Some((group, member)),
        _ => None,
    };
    let mut at = 0;
    while at < chunk.len() {
        let Some((group, _)) = member_of(&chunk[at]) else {
            at += 1;
            continue;
        };
        let start = at;
        let mut distinct = 0;
        let mut previous = None;
        while let Some((g, member)) = chunk.get(at).and_then(member_of) {
            if g != group {
                break;
            }
            if previous != Some(member) {
                distinct += 1;
                previous = Some(member);
            }
            at += 1;
        }
        // Words of a group must be found apart: `[電話, 話したい]` is not
        // complete in `電話したい`, where they share `話`.
        let complete = distinct == usize::from(group_sizes[usize::from(group)]);
        if complete && let Some(chosen) = found_apart(&chunk[start..at]) {
            evidence.extend(chosen.into_iter().map(Hit::evidence));
        }
    }
}

/// One place for each word of a group (its hits, sorted by word and then by
/// place) such that no two places overlap, if there is such a choice.
fn found_apart(hits: &[Hit]) -> Option<Vec<&Hit>> {
    let words: Vec<&[Hit]> = hits.chunk_by(|a, b| a.pattern == b.pattern).collect();
    let mut chosen = Vec::with_capacity(words.len());
    choose_apart(&words, &mut chosen).then_some(chosen)
}

fn choose_apart<'a>(words: &[&'a [Hit]], chosen: &mut Vec<&'a Hit>) -> bool {
    let Some((places, rest)) = words.split_first() else {
        return true;
    };
    for place in *places {
        let apart = chosen
            .iter()
            .all(|c| c.span.end <= place.span.start || place.span.end <= c.span.start);
        if apart {
            chosen.push(place);
            if choose_apart(rest, chosen) {
                return true;
            }
            chosen.pop();
        }
    }
    false
}
