//! Measuring a rule set on labelled messages: intent accuracy, per-intent
//! precision and recall, out-of-scope acceptance, complaint detection.
//!
//! A labelled line is `{"text": ..., "intent": ..., "complaint": ...}`. An
//! absent (or, for `complaint`, null) key means unlabelled; `"intent": null`
//! means out of scope: the right answer is no intent. Dataset intent names
//! are mapped to the rule set's ids with a map file; a name that is neither
//! mapped nor an intent of the rule set is one the rule set does not cover,
//! so the right answer for it is no intent either (reported apart).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::classify::classify;
use crate::rules::RuleSet;
use crate::text::Locale;

/// A labelled evaluation file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A line is not a valid labelled message.
    #[error("{path}:{line}: {message}")]
    Line {
        /// The file.
        path: String,
        /// The line number, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The map names an intent the rule set does not have.
    #[error("the map sends `{name}` to `{intent}`, which is not an intent of the rule set")]
    UnknownTarget {
        /// The dataset's name.
        name: String,
        /// The missing intent id.
        intent: String,
    },
    /// Reading failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Dataset intent names → the rule set's intent ids (`null`: the rule set
/// should not answer it).
pub type IntentMap = BTreeMap<String, Option<String>>;

/// Scores of one intent.
#[derive(Debug, Clone, Serialize)]
pub struct IntentScores {
    /// The rule set's intent id.
    pub intent: String,
    /// Lines expected to be this intent.
    pub support: usize,
    /// Its scores.
    #[serde(flatten)]
    pub scores: Scores,
}

/// How often lines that should get no answer got one.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Acceptance {
    /// Lines in the group.
    pub lines: usize,
    /// Of those, lines that matched an intent.
    pub answered: usize,
    /// `answered / lines`.
    pub rate: f64,
}

/// A frequent mistake.
#[derive(Debug, Clone, Serialize)]
pub struct Confusion {
    /// The right answer (`null`: no intent).
    pub expected: Option<String>,
    /// What the rule set said.
    pub predicted: Option<String>,
    /// How often.
    pub count: usize,
}

/// Everything `eval` measures.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Lines read.
    pub lines: usize,
    /// Lines with an intent label (out of scope included).
    pub intent_lines: usize,
    /// Share of intent-labelled lines classified right.
    pub accuracy: f64,
    /// Per intent of the rule set that was expected or predicted.
    pub intents: Vec<IntentScores>,
    /// Out-of-scope lines (`"intent": null`) that got an answer.
    pub out_of_scope: Acceptance,
    /// Lines whose dataset intent the rule set does not cover (mapped to
    /// `null`, or neither mapped nor an intent id) that got an answer.
    pub uncovered: Acceptance,
    /// Complaint detection, over all complaint-labelled lines.
    pub complaint: Option<Scores>,
    /// Complaint detection per language (the line's `lang`, else detected).
    pub complaint_by_locale: BTreeMap<Locale, Scores>,
    /// Safety detection, over safety-labelled lines.
    pub safety: Option<Scores>,
    /// The most frequent intent mistakes.
    pub confusions: Vec<Confusion>,
}

/// Evaluates `rules` on `items`; `progress` is called after each line.
///
/// # Errors
/// [`EvalError::UnknownTarget`] when the map names a missing intent.
pub fn evaluate(
    rules: &RuleSet,
    items: &[Labelled],
    map: &IntentMap,
    mut progress: impl FnMut(),
) -> Result<EvalReport, EvalError> {
    for (name, target) in map {
        if let Some(intent) = target
            && rules.intent_index(intent).is_none()
        {
            return Err(EvalError::UnknownTarget {
                name: name.clone(),
                intent: intent.clone(),
            });
        }
    }
    let mut tally = Tally::default();
    for item in items {
        let result = classify(rules, &item.text);
        let predicted = result.intent().map(|i| rules.intent(i).id.to_string());
        tally.intent(rules, map, item, predicted.as_ref());
        let locale = item.lang.unwrap_or(result.locale);
        if let Some(expected) = item.complaint {
            tally.complaint.add(expected, result.sentiment.complaint);
            tally
                .complaint_by_locale
                .entry(locale)
                .or_default()
                .add(expected, result.sentiment.complaint);
        }
        if let Some(expected) = item.safety {
            tally
                .safety
                .add(expected, result.sentiment.safety.is_some());
        }
        progress();
    }
    Ok(tally.report(items.len()))
}

#[derive(Default)]
struct Tally {
    intent_lines: usize,
    correct: usize,
    per_intent: BTreeMap<String, (usize, Counts)>,
    out_of_scope: Acceptance,
    uncovered: Acceptance,
    complaint: Counts,
    complaint_by_locale: BTreeMap<Locale, Counts>,
    safety: Counts,
    confusions: HashMap<(Option<String>, Option<String>), usize>,
}

impl Tally {
    fn intent(
        &mut self,
        rules: &RuleSet,
        map: &IntentMap,
        item: &Labelled,
        predicted: Option<&String>,
    ) {
        let predicted = predicted.cloned();
        let expected = match &item.intent {
            Expected::Unlabelled => return,
            Expected::OutOfScope => {
                count(&mut self.out_of_scope, predicted.is_some());
                None
            }
            Expected::Intent(name) => {
                let target = match map.get(name) {
                    Some(target) => target.clone(),
                    None if rules.intent_index(name).is_some() => Some(name.clone()),
                    None => None,
                };
                if target.is_none() {
                    count(&mut self.uncovered, predicted.is_some());
                }
                target
            }
        };
        self.intent_lines += 1;
        if expected == predicted {
            self.correct += 1;
        } else {
            *self
                .confusions
                .entry((expected.clone(), predicted.clone()))
                .or_default() += 1;
        }
        for intent in expected
            .iter()
            .chain(predicted.iter().filter(|p| Some(*p) != expected.as_ref()))
        {
            let (support, counts) = self.per_intent.entry(intent.clone()).or_default();
            let is_expected = expected.as_ref() == Some(intent);
            *support += usize::from(is_expected);
            counts.add(is_expected, predicted.as_ref() == Some(intent));
        }
    }

    fn report(self, lines: usize) -> EvalReport {
        let mut confusions: Vec<Confusion> = self
            .confusions
            .into_iter()
            .map(|((expected, predicted), count)| Confusion {
                expected,
                predicted,
                count,
            })
            .collect();
        confusions.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.expected.cmp(&b.expected))
                .then_with(|| a.predicted.cmp(&b.predicted))
        });
        confusions.truncate(10);
        let labelled_complaints =
            self.complaint.tp + self.complaint.fp + self.complaint.fn_ + self.complaint.tn;
        let labelled_safety = self.safety.tp + self.safety.fp + self.safety.fn_ + self.safety.tn;
        EvalReport {
            lines,
            intent_lines: self.intent_lines,
            accuracy: round(ratio(self.correct, self.intent_lines)),
            intents: self
                .per_intent
                .into_iter()
                .map(|(intent, (support, counts))| IntentScores {
                    intent,
                    support,
                    scores: counts.scores(),
                })
                .collect(),
            out_of_scope: finish(self.out_of_scope),
            uncovered: finish(self.uncovered),
            complaint: (labelled_complaints > 0).then(|| self.complaint.scores()),
            complaint_by_locale: self
                .complaint_by_locale
                .into_iter()
                .map(|(l, c)| (l, c.scores()))
                .collect(),
            safety: (labelled_safety > 0).then(|| self.safety.scores()),
            confusions,
        }
    }
}

fn count(group: &mut Acceptance, answered: bool) {
    group.lines += 1;
    group.answered += usize::from(answered);
}

fn finish(mut group: Acceptance) -> Acceptance {
    group.rate = round(ratio(group.answered, group.lines));
    group
}

mod labelled;
mod metrics;
mod text;

pub use labelled::{Expected, Labelled, read_labelled};
pub use metrics::{Counts, Scores};
use metrics::{ratio, round};

#[cfg(test)]
mod tests;
