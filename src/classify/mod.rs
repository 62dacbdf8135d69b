//! Classifying one message: normalize, detect the locale, match, and report
//! the result with its evidence in terms of what the customer wrote.

mod stream;

pub use stream::report_lines;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::matcher::{Candidate, Evidence, MatchOutcome, PatternKind};
use crate::rules::{Channel, IntentIndex, RuleSet};
use crate::sentiment::{Cue, CueKind, SafetyConcern, Sentiment};
use crate::text::{Locale, Normalized, normalize};

/// One message, matched against a rule set.
#[derive(Debug, Clone)]
pub struct Classification {
    normalized: Normalized,
    /// The locale the message is read in (detected, or the rule set's
    /// default when the message has no letters).
    pub locale: Locale,
    /// Candidates, vetoes and extracted details.
    pub outcome: MatchOutcome,
    /// Complaint and safety signals.
    pub sentiment: Sentiment,
}

thread_local! {
    /// The terms found in the message being classified: a buffer reused
    /// from one message to the next on each thread.
    static TERMS: std::cell::RefCell<Vec<crate::matcher::TermMatch>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Classifies `text` with `rules`.
#[must_use]
pub fn classify(rules: &RuleSet, text: &str) -> Classification {
    let normalized = normalize(text);
    let locale = normalized
        .detected_locale()
        .unwrap_or_else(|| rules.default_locale());
    let (outcome, sentiment) = TERMS.with_borrow_mut(|terms| {
        rules.terms().find_into(&normalized, text, terms);
        (
            rules.matcher().find(&normalized, terms, locale),
            rules.sentiment().score(&normalized, text, terms),
        )
    });
    Classification {
        normalized,
        locale,
        outcome,
        sentiment,
    }
}

impl Classification {
    /// The matched intent, if any.
    #[must_use]
    pub fn intent(&self) -> Option<IntentIndex> {
        self.outcome.best().map(|c| c.intent)
    }

    /// The locale answers should be written in: the message's, when the rule
    /// set answers in it, else the rule set's default.
    #[must_use]
    pub fn answer_locale(&self, rules: &RuleSet) -> Locale {
        if rules.locales().contains(&self.locale) {
            self.locale
        } else {
            rules.default_locale()
        }
    }

    /// The locale the message's own letters show, if any.
    #[must_use]
    pub fn normalized_locale(&self) -> Option<Locale> {
        self.normalized.detected_locale()
    }

    /// Whether the message contains any detail (order number, e-mail...).
    #[must_use]
    pub fn has_details(&self) -> bool {
        !self.outcome.details.is_empty()
    }

    /// Where the extracted details are, in bytes of the original message.
    #[must_use]
    pub fn detail_spans(&self, original: &str) -> Vec<std::ops::Range<usize>> {
        self.outcome
            .details
            .iter()
            .map(|(_, span)| self.normalized.original_range(original, span.clone()))
            .collect()
    }

    /// The extracted details, as the customer wrote them (width-folded by
    /// NFKC, case kept: `ＡＢ－１２３` → `AB-123`). The first value found
    /// for a name wins.
    #[must_use]
    pub fn details(&self, original: &str) -> BTreeMap<String, String> {
        let mut details = BTreeMap::new();
        for (name, span) in &self.outcome.details {
            details
                .entry(name.to_string())
                .or_insert_with(|| self.original_text(original, span.clone()).nfkc().collect());
        }
        details
    }

    fn original_text<'a>(&self, original: &'a str, span: std::ops::Range<usize>) -> &'a str {
        original
            .get(self.normalized.original_range(original, span))
            .unwrap_or_default()
            .trim()
    }

    /// The report `classify` prints: intent, score, locale, details and
    /// evidence; with `answer`, also the chat answer of the intent.
    #[must_use]
    pub fn report<'a>(&'a self, rules: &'a RuleSet, original: &'a str, answer: bool) -> Report<'a> {
        let top = self.outcome.candidates.first();
        let best = self.outcome.best();
        let details = self.details(original);
        let mut chars = CharOffsets::new(original);
        let answer = best.filter(|_| answer).and_then(|c| {
            rules
                .render_answer(c.intent, self.answer_locale(rules), Channel::Chat, &details)
                .ok()
        });
        let mut evidence: Vec<EvidenceReport<'a>> = top
            .into_iter()
            .chain(self.outcome.runner_up())
            .flat_map(|c| c.evidence.iter().map(move |e| (c.intent, e)))
            .chain(self.outcome.vetoes.iter().map(|v| (v.intent, &v.evidence)))
            .map(|(intent, e)| self.evidence_report(rules, original, intent, e, &mut chars))
            .collect();
        let mut chars = CharOffsets::new(original);
        let mut unknown_words: Vec<Cow<'a, str>> = Vec::new();
        for out in &self.outcome.out_of_context {
            for e in &out.evidence {
                // A generic keyword out of the shop's context added nothing.
                let mut report = self.evidence_report(rules, original, out.intent, e, &mut chars);
                report.weight = 0.0;
                evidence.push(report);
            }
            for span in &out.unknown {
                let word = Cow::Borrowed(self.original_text(original, span.clone()));
                if !unknown_words.contains(&word) {
                    unknown_words.push(word);
                }
            }
        }
        evidence.sort_by_key(|e| e.start);
        let mut cues: Vec<CueReport<'a>> = self
            .sentiment
            .cues
            .iter()
            .map(|cue| self.cue_report(original, cue, &mut chars))
            .collect();
        // Capitals are found in the original text, the other cues in the
        // normalized one: sort them together by where they are.
        cues.sort_by_key(|c| c.start);
        Report {
            text: Cow::Borrowed(original),
            intent: best.map(|c| Cow::Borrowed(rules.intent(c.intent).id.as_str())),
            score: round(top.map_or(0.0, |c| c.score)),
            locale: self.locale,
            ambiguous: self.outcome.runner_up().is_some(),
            runner_up: self
                .outcome
                .runner_up()
                .map(|c| CandidateReport::new(rules, c)),
            details,
            evidence,
            unknown_words,
            sentiment: round(self.sentiment.score),
            complaint: self.sentiment.complaint,
            safety: self.sentiment.safety.is_some(),
            safety_concern: self.sentiment.safety,
            cues,
            answer,
        }
    }

    fn cue_report<'a>(
        &self,
        original: &'a str,
        cue: &'a Cue,
        chars: &mut CharOffsets<'_>,
    ) -> CueReport<'a> {
        let range = if cue.in_original {
            cue.span.clone()
        } else {
            self.normalized.original_range(original, cue.span.clone())
        };
        CueReport {
            kind: cue.kind,
            term: Cow::Borrowed(&cue.term),
            text: Cow::Borrowed(original.get(range.clone()).unwrap_or_default().trim()),
            start: chars.at(range.start),
            end: chars.at(range.end),
            weight: round(cue.weight),
        }
    }

    fn evidence_report<'a>(
        &self,
        rules: &'a RuleSet,
        original: &'a str,
        intent: IntentIndex,
        evidence: &Evidence,
        chars: &mut CharOffsets<'_>,
    ) -> EvidenceReport<'a> {
        let pattern = &rules.matcher().patterns()[evidence.pattern as usize];
        let source = rules.pattern_source(evidence.pattern);
        let range = self
            .normalized
            .original_range(original, evidence.span.clone());
        EvidenceReport {
            intent: Cow::Borrowed(rules.intent(intent).id.as_str()),
            kind: evidence.kind,
            pattern: Cow::Borrowed(&pattern.text),
            text: Cow::Borrowed(original.get(range.clone()).unwrap_or_default().trim()),
            start: chars.at(range.start),
            end: chars.at(range.end),
            weight: round(evidence.weight),
            source: Cow::Borrowed(&source.text),
        }
    }
}

/// The JSON form of a classification: what `madoguchi classify` prints
/// (with the escalation, `escalation::MessageReport`) and what is kept of
/// each customer message's decision.
#[derive(Debug, Clone, Serialize, Deserialize)]
// The flags are the contract's JSON fields.
#[allow(clippy::struct_excessive_bools)]
pub struct Report<'a> {
    /// The message as given.
    pub text: Cow<'a, str>,
    /// The matched intent, or `null` (fallback).
    pub intent: Option<Cow<'a, str>>,
    /// The best candidate's score, 0 to 1 (also when below the threshold).
    pub score: f64,
    /// The message's locale.
    pub locale: Locale,
    /// Whether the runner-up is too close to call.
    pub ambiguous: bool,
    /// The runner-up, when too close to call.
    pub runner_up: Option<CandidateReport<'a>>,
    /// Extracted details.
    pub details: BTreeMap<String, String>,
    /// What matched, in message order: the top candidate's patterns, the
    /// runner-up's when it is too close to call, the `not` words that
    /// vetoed intents which had evidence, and `generic` keywords that did
    /// not count (weight 0) because the message was out of the shop's
    /// context.
    pub evidence: Vec<EvidenceReport<'a>>,
    /// The words that put `generic` keywords out of the shop's context:
    /// words of the message that their intents' patterns and examples do
    /// not know (absent when there were none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_words: Vec<Cow<'a, str>>,
    /// −1 (furious) to 1 (delighted).
    pub sentiment: f64,
    /// Whether the message is a complaint.
    pub complaint: bool,
    /// Whether the message raises a safety concern (self-harm, violence).
    pub safety: bool,
    /// Which safety concern, if any.
    pub safety_concern: Option<SafetyConcern>,
    /// What moved the sentiment score, in message order.
    pub cues: Vec<CueReport<'a>>,
    /// The chat answer of the matched intent, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

/// One sentiment cue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CueReport<'a> {
    /// What kind of cue (`negative`, `demand`, `negation`, ...).
    pub kind: CueKind,
    /// The lexicon term.
    pub term: Cow<'a, str>,
    /// What the customer wrote there.
    pub text: Cow<'a, str>,
    /// Start, in characters of the message.
    pub start: usize,
    /// End (exclusive), in characters of the message.
    pub end: usize,
    /// What it added to the sum, or the factor it applied.
    pub weight: f64,
}

/// An intent and its score.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CandidateReport<'a> {
    /// The intent id.
    pub intent: Cow<'a, str>,
    /// 0 to 1.
    pub score: f64,
}

impl<'a> CandidateReport<'a> {
    fn new(rules: &'a RuleSet, candidate: &Candidate) -> Self {
        CandidateReport {
            intent: Cow::Borrowed(rules.intent(candidate.intent).id.as_str()),
            score: round(candidate.score),
        }
    }
}

/// One pattern that matched.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvidenceReport<'a> {
    /// The intent it counted for (or, for `not`, against).
    pub intent: Cow<'a, str>,
    /// `any`, `all`, `regex` or `not`.
    pub kind: PatternKind,
    /// The pattern as written in the rules.
    pub pattern: Cow<'a, str>,
    /// What the customer wrote there.
    pub text: Cow<'a, str>,
    /// Start, in characters of the message.
    pub start: usize,
    /// End (exclusive), in characters of the message.
    pub end: usize,
    /// What it added to the evidence.
    pub weight: f64,
    /// Where the pattern is written: `path:line:column`.
    pub source: Cow<'a, str>,
}

/// Byte offsets to character offsets, counting on from the previous
/// question: reports ask in nearly increasing order, so a long message is
/// counted through about once, not once per cue.
struct CharOffsets<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharOffsets<'a> {
    fn new(text: &'a str) -> Self {
        CharOffsets {
            text,
            byte: 0,
            chars: 0,
        }
    }

    fn at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        let Some(between) = self.text.get(self.byte..byte) else {
            return self.chars;
        };
        self.chars += between.chars().count();
        self.byte = byte;
        self.chars
    }
}

/// Scores are reported to three decimals: more is noise to a reader.
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
