//! Compiling lexicons into a [`Scorer`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::OnceLock;

use super::lexicon::{BUILTIN, LexiconSpec, VADER_EN, vader_lexicon};
use super::{CueKind, Reading, SafetyConcern, Scorer, SentimentSettings, Term, TermKind};
use aho_corasick::AhoCorasick;

use crate::matcher::{Terms, TermsBuilder};
use crate::text::{is_japanese, is_word_char, normalize};

/// Adverbs that only go with a negation (全然 〜ない, 全く 〜ない): a
/// complaint term written with one and ending in a verb's irrealis stem
/// (`全く進ま`, `全然合わ`) already means the negated predicate.
const NEGATIVE_POLARITY: &[&str] = &[
    "全然",
    "全く",
    "まったく",
    "ぜんぜん",
    "一切",
    "少しも",
    "ちっとも",
    "全っ然",
];

/// Whether a normalized term ends the way a verb does before `ない`:
/// an a-row kana (`進ま`, `合わ`, `書か`).
fn is_irrealis_ending(c: char) -> bool {
    "カガサザタダナバパマラワ".contains(c)
}

/// The largest weight a term may carry: one term should not outweigh a
/// whole message.
const MAX_WEIGHT: f64 = 10.0;

/// A lexicon entry that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SentimentError {
    /// The term is empty once normalized.
    #[error("sentiment term `{0}` is empty once normalized")]
    EmptyTerm(String),
    /// The weight is out of range.
    #[error("sentiment term `{term}` has weight {weight}: use 0 (to remove it) up to 10")]
    BadWeight {
        /// The term.
        term: String,
        /// Its weight.
        weight: f64,
    },
    /// An automaton could not be built.
    #[error("the sentiment lexicon does not fit in an automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
    /// An intensifier factor is out of range.
    #[error(
        "intensifier `{term}` has factor {factor}: use a factor between 1 and 3 (0 removes it)"
    )]
    BadFactor {
        /// The term.
        term: String,
        /// Its factor.
        factor: f64,
    },
}

/// Collects lexicons; a later lexicon overrides terms of an earlier one.
#[derive(Debug, Default, Clone)]
pub struct ScorerBuilder {
    terms: BTreeMap<String, Term>,
    negators: BTreeSet<String>,
    not_negations: BTreeSet<String>,
    contact: BTreeSet<String>,
    sarcasm: BTreeSet<String>,
}

/// Connectives after which a concession is withdrawn or kept
/// (`気になりますが問題ないです`, `but it's fine`).
const CONNECTIVES: &[&str] = &[
    "ますが",
    "ですが",
    "ましたが",
    "でしたが",
    "だが",
    "たが",
    "けど",
    "けれど",
    "が、",
    "but",
    "however",
    "though",
];

impl ScorerBuilder {
    /// A builder holding the built-in Japanese and English lexicons.
    ///
    /// # Panics
    /// When a built-in lexicon is invalid: they are part of the crate and
    /// tested, so that is a bug in the build, not in the user's rules.
    #[must_use]
    pub fn with_builtin() -> Self {
        // Parsed once per process: every load of a rule set (and, later,
        // every reload) starts from the same built-in terms.
        static BUILTIN_TERMS: OnceLock<ScorerBuilder> = OnceLock::new();
        BUILTIN_TERMS
            .get_or_init(|| {
                let mut builder = ScorerBuilder::default();
                let (name, text) = VADER_EN;
                let vader = vader_lexicon(text).unwrap_or_else(|line| {
                    panic!("built-in lexicon {name} is invalid at line {line}")
                });
                if let Err(errors) = builder.add(&vader) {
                    panic!("built-in lexicon {name} is invalid: {errors:?}");
                }
                for (name, text) in BUILTIN {
                    let spec: LexiconSpec = serde_saphyr::from_str(text)
                        .unwrap_or_else(|e| panic!("built-in lexicon {name} is invalid: {e}"));
                    if let Err(errors) = builder.add(&spec) {
                        panic!("built-in lexicon {name} is invalid: {errors:?}");
                    }
                }
                builder
            })
            .clone()
    }

    /// Adds (or, with weight 0, removes) the terms of a lexicon.
    ///
    /// # Errors
    /// Every entry that cannot be used; the others are added.
    pub fn add(&mut self, spec: &LexiconSpec) -> Result<(), Vec<SentimentError>> {
        let mut errors = Vec::new();
        let valence = [
            (&spec.negative, CueKind::Negative, -1.0),
            (&spec.positive, CueKind::Positive, 1.0),
            (&spec.demand, CueKind::Demand, -1.0),
            (&spec.churn, CueKind::Churn, -1.0),
            (&spec.threat, CueKind::Threat, -1.0),
            (&spec.waiting, CueKind::Waiting, -1.0),
        ];
        for (entries, kind, sign) in valence {
            for (term, &weight) in entries {
                if !(0.0..=MAX_WEIGHT).contains(&weight) {
                    errors.push(SentimentError::BadWeight {
                        term: term.clone(),
                        weight,
                    });
                    continue;
                }
                self.put(term, TermKind::Valence(kind), sign * weight, &mut errors);
            }
        }
        for (term, &weight) in &spec.contrast {
            if !(0.0..=MAX_WEIGHT).contains(&weight) {
                errors.push(SentimentError::BadWeight {
                    term: term.clone(),
                    weight,
                });
                continue;
            }
            // A contrast marker stays a marker at weight 0; only its own
            // dissatisfaction is 0.
            self.insert(term, TermKind::Contrast, -weight, &mut errors);
        }
        for (term, &factor) in &spec.intensifiers {
            if factor != 0.0 && !(1.0..=3.0).contains(&factor) {
                errors.push(SentimentError::BadFactor {
                    term: term.clone(),
                    factor,
                });
                continue;
            }
            self.put(term, TermKind::Intensifier, factor, &mut errors);
        }
        for term in &spec.neutral {
            self.insert(term, TermKind::Neutral, 0.0, &mut errors);
        }
        for (term, &weight) in &spec.repeat {
            if !(0.0..=MAX_WEIGHT).contains(&weight) {
                errors.push(SentimentError::BadWeight {
                    term: term.clone(),
                    weight,
                });
                continue;
            }
            self.put(term, TermKind::Repeat, -weight, &mut errors);
        }
        for term in &spec.concession {
            self.insert(term, TermKind::Concession, 0.0, &mut errors);
        }
        for term in &spec.neutral_question {
            self.insert(term, TermKind::QuestionFrame, 0.0, &mut errors);
        }
        for term in &spec.complaint_question {
            self.insert(term, TermKind::ComplaintQuestion, 0.0, &mut errors);
        }
        for (list, set) in [
            (&spec.contact, &mut self.contact),
            (&spec.sarcasm, &mut self.sarcasm),
        ] {
            for term in list {
                let normalized = normalize(term).as_str().to_owned();
                if normalized.is_empty() {
                    errors.push(SentimentError::EmptyTerm(term.clone()));
                } else {
                    set.insert(normalized);
                }
            }
        }
        for term in &spec.not_negations {
            let normalized = normalize(term).as_str().to_owned();
            if normalized.is_empty() {
                errors.push(SentimentError::EmptyTerm(term.clone()));
            } else {
                self.not_negations.insert(normalized);
            }
        }
        for term in &spec.politeness {
            self.insert(term, TermKind::Politeness, 1.0, &mut errors);
        }
        for term in &spec.self_harm {
            self.insert(
                term,
                TermKind::Safety(SafetyConcern::SelfHarm),
                0.0,
                &mut errors,
            );
        }
        for term in &spec.violence {
            self.insert(
                term,
                TermKind::Safety(SafetyConcern::Violence),
                0.0,
                &mut errors,
            );
        }
        for term in &spec.negators {
            let normalized = normalize(term).as_str().to_owned();
            if normalized.is_empty() {
                errors.push(SentimentError::EmptyTerm(term.clone()));
            } else {
                self.negators.insert(normalized);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Inserts a weighted term; weight 0 removes it.
    fn put(&mut self, term: &str, kind: TermKind, weight: f64, errors: &mut Vec<SentimentError>) {
        if weight == 0.0 {
            self.terms.remove(normalize(term).as_str());
        } else {
            self.insert(term, kind, weight, errors);
        }
    }

    fn insert(
        &mut self,
        term: &str,
        kind: TermKind,
        weight: f64,
        errors: &mut Vec<SentimentError>,
    ) {
        let (word, prefix) = match term.trim().strip_suffix('*') {
            Some(stem) => (stem, true),
            None => (term, false),
        };
        let normalized = normalize(word).as_str().to_owned();
        if normalized.is_empty() {
            errors.push(SentimentError::EmptyTerm(term.to_owned()));
            return;
        }
        let entry = Term {
            text: Arc::from(term),
            kind,
            weight,
            japanese: normalized.chars().any(is_japanese),
            bounded_end: !prefix && normalized.chars().next_back().is_some_and(is_word_char),
            // Only complaints: in praise (`全然大丈夫`) the adverb is a mere
            // intensifier and a negation after it still turns it around.
            // A term that ends in a complete predicate (`全然違`, `全くダメ`)
            // is turned around too (`全然ダメじゃない`).
            reading: if matches!(kind, TermKind::Valence(_))
                && weight < 0.0
                && normalized
                    .chars()
                    .next_back()
                    .is_some_and(is_irrealis_ending)
                && NEGATIVE_POLARITY
                    .iter()
                    .any(|adverb| normalized.contains(normalize(adverb).as_str()))
            {
                Reading::NegationIncluded
            } else {
                Reading::Plain
            },
        };
        self.terms.insert(normalized, entry);
    }

    /// Registers the terms in the rule set's term automaton (still to be
    /// built) and returns the scorer that reads its matches.
    ///
    /// # Errors
    /// When the negations do not fit in an automaton.
    pub fn build(
        self,
        settings: SentimentSettings,
        terms: &mut TermsBuilder,
    ) -> Result<Scorer, SentimentError> {
        let mut by_id: Vec<Option<Term>> = Vec::new();
        for (text, mut term) in self.terms {
            if term.kind == TermKind::Valence(CueKind::Positive) && self.sarcasm.contains(&text) {
                term.reading = Reading::Sarcastic;
            }
            let id = terms.id(text) as usize;
            if by_id.len() <= id {
                by_id.resize(id + 1, None);
            }
            by_id[id] = Some(term);
        }
        let (japanese_negators, english_negators): (Vec<String>, Vec<String>) = self
            .negators
            .into_iter()
            .partition(|n| n.chars().any(is_japanese));
        // Searched in a few characters after every Japanese term: small
        // automata beat looking for each negation in turn.
        let not_negations: Vec<String> = self.not_negations.into_iter().collect();
        Ok(Scorer {
            terms: by_id,
            japanese_negators: AhoCorasick::new(&japanese_negators)?,
            english_negators,
            not_negations: AhoCorasick::new(&not_negations)?,
            contact: AhoCorasick::new(&self.contact)?,
            connectives: AhoCorasick::new(
                CONNECTIVES.iter().map(|c| normalize(c).as_str().to_owned()),
            )?,
            settings,
        })
    }

    /// A scorer with an automaton of its own, for use without a rule set.
    ///
    /// # Errors
    /// When the lexicon does not fit in one automaton.
    pub fn build_standalone(
        self,
        settings: SentimentSettings,
    ) -> Result<(Scorer, Terms), SentimentError> {
        let mut terms = TermsBuilder::default();
        let scorer = self.build(settings, &mut terms)?;
        Ok((scorer, terms.build()?))
    }
}
