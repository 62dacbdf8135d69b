//! Complaint detection: a lexicon-and-rules scorer tuned for support
//! messages, with its cues.
//!
//! The scorer reads the normalized text (the same width and kana folding as
//! the rules). Its terms live in the rule set's one term automaton, beside
//! the intents' keywords, so a message is searched once; of the terms found
//! it keeps the leftmost-longest (`問題ない` wins over `問題` inside it) and
//! adds up their weights:
//! dissatisfaction, demands, churn threats and complaints about waiting pull
//! the score down, satisfaction and thanks pull it up. Around each term it
//! looks for negation (`悪くない`, `not happy`), intensifiers (`本当に`,
//! `very`) and contrast (`けど`, `but`: what follows counts more); repeated
//! `!?` and shouted words strengthen a negative message, polite formulas
//! soften it. The sum `s` becomes a score in (−1, 1) by `s / √(s² + 15)`,
//! and the message is a complaint when the score is at or below the rule
//! set's threshold. Self-harm and threats of violence are a separate
//! safety signal.

mod build;
mod lexicon;
mod score;

pub use build::{ScorerBuilder, SentimentError};
pub use lexicon::LexiconSpec;

use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;

/// What moved the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CueKind {
    /// A word of dissatisfaction.
    Negative,
    /// A word of satisfaction or thanks.
    Positive,
    /// An explicit demand.
    Demand,
    /// A threat to leave.
    Churn,
    /// A threat of legal, regulatory or payment-dispute action (a lawyer,
    /// the consumer centre, a chargeback, a public review campaign).
    Threat,
    /// A complaint about waiting or being ignored.
    Waiting,
    /// A negation that turned a term around.
    Negation,
    /// An intensifier that strengthened a term.
    Intensifier,
    /// A contrast marker: what follows it counts more.
    Contrast,
    /// A polite formula that softened the message.
    Politeness,
    /// Repeated `!` or `?`.
    Punctuation,
    /// Words written in capitals.
    Caps,
    /// A prohibitive (`ふざけないでください`, `don't waste my time`): the
    /// negation it holds does not turn the term around.
    Prohibitive,
    /// A withdrawn concession (`不満と言えば不満ですが、許容範囲です`): the
    /// clause before the connective counts nothing.
    Concession,
    /// A neutral question (`しても大丈夫ですか`, `is it bad to`): the
    /// negative words of its sentence count nothing.
    Question,
    /// A positive word beside a reported failure, read as sarcasm: the
    /// factor turns it around.
    Sarcasm,
    /// Words of self-harm.
    SelfHarm,
    /// A threat of violence.
    Violence,
}

/// The kind of safety concern in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyConcern {
    /// The customer may harm themselves.
    SelfHarm,
    /// The customer threatens violence.
    Violence,
}

/// One thing that moved the score, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// What kind of cue.
    pub kind: CueKind,
    /// The lexicon term (or the marks, for punctuation and capitals).
    pub term: Arc<str>,
    /// Where, in bytes of the normalized text (of the original text, for
    /// capitals).
    pub span: Range<usize>,
    /// For terms: what it added to the sum (negative = upset). For
    /// modifiers: the factor it applied.
    pub weight: f64,
    /// Whether `span` is in the original text rather than the normalized.
    pub in_original: bool,
}

/// The sentiment of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentiment {
    /// −1 (furious) to 1 (delighted); 0 is neutral.
    pub score: f64,
    /// Whether the message is a complaint (score at or below the threshold).
    pub complaint: bool,
    /// A safety concern, reported apart from complaints.
    pub safety: Option<SafetyConcern>,
    /// What moved the score, in message order.
    pub cues: Vec<Cue>,
}

impl Sentiment {
    /// Whether the message threatens legal, regulatory or payment-dispute
    /// action (a threat term that no negation turned off).
    #[must_use]
    pub fn threat(&self) -> bool {
        self.cues
            .iter()
            .any(|c| c.kind == CueKind::Threat && c.weight < 0.0)
    }
}

/// Thresholds of the scorer, set in the rule set.
#[derive(Debug, Clone, Copy)]
pub struct SentimentSettings {
    /// A message whose score is at or below this is a complaint.
    pub complaint_threshold: f64,
}

impl Default for SentimentSettings {
    fn default() -> Self {
        SentimentSettings {
            complaint_threshold: -0.2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TermKind {
    Valence(CueKind),
    Neutral,
    Intensifier,
    Contrast,
    Politeness,
    Safety(SafetyConcern),
    /// A repetition: a waiting cue that needs company.
    Repeat,
    Concession,
    QuestionFrame,
    ComplaintQuestion,
}

#[derive(Debug, Clone)]
struct Term {
    text: Arc<str>,
    kind: TermKind,
    /// Signed weight for valence and contrast terms, factor for
    /// intensifiers.
    weight: f64,
    japanese: bool,
    /// A Latin term matches whole words only (unless written with `*`).
    bounded_end: bool,
    reading: Reading,
}

/// How a term reads beyond its kind and weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Plain,
    /// A positive word that turns sarcastic beside a failure.
    Sarcastic,
    /// A Japanese complaint term written with an adverb that only goes
    /// with a negation and ending in a verb's stem before it (`全く進ま`
    /// for 全く進まない): the negation after it is part of what the term
    /// means, not a turn of it.
    NegationIncluded,
}

/// A compiled sentiment lexicon.
#[derive(Debug)]
pub struct Scorer {
    /// By term id of the rule set's automaton: the sentiment term, if the
    /// id is one.
    terms: Vec<Option<Term>>,
    /// Normalized Japanese negations, searched after a term.
    japanese_negators: aho_corasick::AhoCorasick,
    /// Normalized English negations, searched before a term.
    english_negators: Vec<String>,
    /// Normalized Japanese phrases that contain a negation but do not
    /// negate.
    not_negations: aho_corasick::AhoCorasick,
    /// Normalized words of contacting, searched near a repetition.
    contact: aho_corasick::AhoCorasick,
    /// Normalized connectives that end a concession (`ですが`, `but`).
    connectives: aho_corasick::AhoCorasick,
    settings: SentimentSettings,
}

impl Scorer {
    /// The thresholds.
    #[must_use]
    pub fn settings(&self) -> SentimentSettings {
        self.settings
    }
}

#[cfg(test)]
mod tests;
