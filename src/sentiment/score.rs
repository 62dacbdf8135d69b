//! Scoring one message.

use std::ops::Range;
use std::sync::Arc;

use super::{Cue, CueKind, SafetyConcern, Scorer, Sentiment, Term, TermKind};
use crate::matcher::TermMatch;
use crate::text::Normalized;

/// VADER's normalization constant: a sum of about −4 (two strong words)
/// gives −0.72; the score approaches ±1 without reaching it.
const ALPHA: f64 = 15.0;
/// A negated sentiment word turns around at reduced strength (`not bad` is
/// mildly good, not great).
const NEGATION_FACTOR: f64 = -0.6;
/// Before a contrast marker a term counts half, after it one and a half.
const BEFORE_CONTRAST: f64 = 0.5;
const AFTER_CONTRAST: f64 = 1.5;
/// How far a Japanese negation may follow its term, in characters
/// (`怒っているわけではない`: `ない` nine characters on). The window holds
/// only kana (and the kanji of `出来`, `無い`): a negation attaches to its
/// word through okurigana and auxiliaries, so a kanji starts the next word
/// (`遅いし来ない` does not negate `遅い`).
const JAPANESE_NEGATION_WINDOW: usize = 10;
/// How many words before an English term a negation may stand
/// (`not really that happy`).
const ENGLISH_NEGATION_WORDS: usize = 3;
/// How many bytes before an English term the negation search reads.
const ENGLISH_NEGATION_REACH: usize = 64;
/// How far an intensifier may stand before its term, in characters.
const INTENSIFIER_GAP: usize = 8;
/// The dissatisfaction a threat of violence carries.
const VIOLENCE_WEIGHT: f64 = 3.0;
/// Each polite formula softens a negative message by this factor (at most
/// three times): politeness tempers a complaint but does not undo it.
const POLITENESS_FACTOR: f64 = 0.85;

thread_local! {
    /// The sentiment terms of the message being scored: a buffer reused
    /// from one message to the next on each thread.
    static FOUND: std::cell::RefCell<Vec<Found>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[derive(Debug, Clone)]
struct Found {
    term: usize,
    span: Range<usize>,
}

impl Scorer {
    /// Scores a message: `text` is its normalized form, `original` what the
    /// customer wrote (for capitals, which normalization folds away),
    /// `terms` what the rule set's term automaton found in it.
    #[must_use]
    pub fn score(&self, text: &Normalized, original: &str, terms: &[TermMatch]) -> Sentiment {
        FOUND.with_borrow_mut(|found| {
            self.own_terms(terms, found);
            self.score_found(text.as_str(), original, found)
        })
    }

    fn score_found(&self, s: &str, original: &str, found: &[Found]) -> Sentiment {
        let last_contrast = found
            .iter()
            .filter(|f| self.term(f.term).kind == TermKind::Contrast)
            .map(|f| f.span.start)
            .next_back();
        let mut cues = Vec::new();
        let mut sum = 0.0;
        let mut safety = None;
        let mut politeness = 0;
        for (index, f) in found.iter().enumerate() {
            let term = self.term(f.term);
            match term.kind {
                TermKind::Valence(kind) => {
                    let weight = self.valence(s, found, index, last_contrast, &mut cues);
                    sum += weight;
                    cues.push(cue(kind, term, f.span.clone(), weight));
                }
                TermKind::Contrast => {
                    sum += term.weight;
                    cues.push(cue(CueKind::Contrast, term, f.span.clone(), term.weight));
                }
                TermKind::Politeness => {
                    politeness += 1;
                    cues.push(cue(
                        CueKind::Politeness,
                        term,
                        f.span.clone(),
                        POLITENESS_FACTOR,
                    ));
                }
                TermKind::Safety(concern) => {
                    // The first concern found is reported; either kind
                    // escalates at the highest priority. A threat is also
                    // anger at whoever it is aimed at; self-harm is not.
                    safety = Some(safety.unwrap_or(concern));
                    let (kind, weight) = match concern {
                        SafetyConcern::SelfHarm => (CueKind::SelfHarm, 0.0),
                        SafetyConcern::Violence => (CueKind::Violence, -VIOLENCE_WEIGHT),
                    };
                    sum += weight;
                    cues.push(cue(kind, term, f.span.clone(), weight));
                }
                TermKind::Intensifier | TermKind::Neutral => {}
            }
        }
        sum += shouting(s, original, &mut cues, sum);
        if sum < 0.0 {
            let factor = POLITENESS_FACTOR.powi(politeness.min(3));
            sum *= factor;
        }
        cues.sort_by_key(|c| (c.in_original, c.span.start));
        let score = sum / (sum * sum + ALPHA).sqrt();
        Sentiment {
            score,
            complaint: score <= self.settings.complaint_threshold,
            safety,
            cues,
        }
    }

    fn term(&self, index: usize) -> &Term {
        self.terms[index]
            .as_ref()
            .expect("found terms are sentiment terms")
    }

    /// The sentiment terms among the matches, leftmost-longest: at each
    /// place the longest term wins, and terms inside it do not count.
    fn own_terms(&self, terms: &[TermMatch], own: &mut Vec<Found>) {
        own.clear();
        own.extend(terms.iter().filter_map(|m| {
            let term = self.terms.get(m.id as usize)?.as_ref()?;
            (m.whole_word || !term.bounded_end).then(|| Found {
                term: m.id as usize,
                span: m.span.clone(),
            })
        }));
        own.sort_by(|a, b| {
            a.span
                .start
                .cmp(&b.span.start)
                .then(b.span.end.cmp(&a.span.end))
        });
        let mut end = 0;
        own.retain(|f| {
            let keep = f.span.start >= end;
            if keep {
                end = f.span.end;
            }
            keep
        });
    }

    /// The weight of the valence term at `index`, after negation,
    /// intensifiers and contrast; modifiers that applied become cues.
    fn valence(
        &self,
        s: &str,
        found: &[Found],
        index: usize,
        last_contrast: Option<usize>,
        cues: &mut Vec<Cue>,
    ) -> f64 {
        let f = &found[index];
        let term = self.term(f.term);
        let mut weight = term.weight;
        // Waiting phrases carry their own negation (`音沙汰なし`, `no
        // reply`); another one nearby does not turn them around.
        let negatable = term.kind != TermKind::Valence(CueKind::Waiting);
        if let Some(span) = self.negation(s, term, &f.span).filter(|_| negatable) {
            let factor = match term.kind {
                // "I won't cancel", "not demanding anything", "I'm not
                // suing anyone": no threat.
                TermKind::Valence(CueKind::Churn | CueKind::Demand | CueKind::Threat) => 0.0,
                _ => NEGATION_FACTOR,
            };
            weight *= factor;
            cues.push(Cue {
                kind: CueKind::Negation,
                term: Arc::from(&s[span.clone()]),
                span,
                weight: factor,
                in_original: false,
            });
        }
        for before in found[..index].iter().rev().take(2) {
            let intensifier = self.term(before.term);
            let gap = &s[before.span.end.min(f.span.start)..f.span.start];
            if intensifier.kind == TermKind::Intensifier
                && gap.chars().count() <= INTENSIFIER_GAP
                && !gap.contains(is_clause_break)
            {
                weight *= intensifier.weight;
                cues.push(cue(
                    CueKind::Intensifier,
                    intensifier,
                    before.span.clone(),
                    intensifier.weight,
                ));
            }
        }
        if let Some(contrast) = last_contrast {
            weight *= if f.span.start < contrast {
                BEFORE_CONTRAST
            } else {
                AFTER_CONTRAST
            };
        }
        weight
    }

    /// A negation of the term: after it in Japanese (`悪くない`,
    /// `問題はありません`), before it in English (`not happy`, `didn't like`).
    fn negation(&self, s: &str, term: &Term, span: &Range<usize>) -> Option<Range<usize>> {
        if term.japanese {
            let after = &s[span.end..];
            let window_end = negation_window_end(after);
            let window = &after[..window_end];
            if self.not_negations.is_match(window) {
                return None;
            }
            self.japanese_negators
                .find(window)
                .map(|m| span.end + m.start()..span.end + m.end())
        } else {
            // Three words back is never far: look no further than this, so
            // that a long message costs in proportion to its length.
            let mut from = span.start.saturating_sub(ENGLISH_NEGATION_REACH);
            while !s.is_char_boundary(from) {
                from -= 1;
            }
            let before = &s[from..span.start];
            let clause_start = before.rfind(is_clause_break).map_or(0, |i| i + 1);
            let mut end = before.len();
            for word in before[clause_start..]
                .split(' ')
                .rev()
                .filter(|w| !w.is_empty())
                .take(ENGLISH_NEGATION_WORDS)
            {
                let start = before[..end].rfind(word).unwrap_or(clause_start);
                if word.ends_with("n't") || self.english_negators.iter().any(|n| n == word) {
                    return Some(from + start..from + start + word.len());
                }
                end = start;
            }
            None
        }
    }
}

fn cue(kind: CueKind, term: &Term, span: Range<usize>, weight: f64) -> Cue {
    Cue {
        kind,
        term: Arc::clone(&term.text),
        span,
        weight,
        in_original: false,
    }
}

/// The end of the text a Japanese negation may sit in after a term: at
/// most [`JAPANESE_NEGATION_WINDOW`] characters of kana, `無` (`無い`) and
/// `出来` (`出来ない`).
fn negation_window_end(after: &str) -> usize {
    let mut chars = after.char_indices().peekable();
    let mut taken = 0;
    while let Some((at, c)) = chars.next() {
        if taken == JAPANESE_NEGATION_WINDOW {
            return at;
        }
        let continues = match c {
            '\u{30A0}'..='\u{30FF}' | '無' => true,
            '出' => chars.next_if(|&(_, next)| next == '来').is_some(),
            _ => false,
        };
        if !continues {
            return at;
        }
        taken += 1;
    }
    after.len()
}

fn is_clause_break(c: char) -> bool {
    matches!(c, '.' | ',' | '!' | '?' | ';' | ':' | '\n')
}

/// Repeated `!`/`?` and words in capitals: they strengthen a message that is
/// already negative, and on their own (`WHERE IS MY ORDER???`) they show
/// annoyance. Returns what they add to the sum.
fn shouting(s: &str, original: &str, cues: &mut Vec<Cue>, sum: f64) -> f64 {
    let mut added = 0.0;
    let mut marks = 0usize;
    let bytes = s.as_bytes();
    // Most messages have neither repeated marks nor capitals: one cheap
    // scan each decides whether the closer looks are needed.
    let mut at = memchr::memchr2(b'!', b'?', bytes).unwrap_or(bytes.len());
    while at < bytes.len() {
        if matches!(bytes[at], b'!' | b'?') {
            let start = at;
            while at < bytes.len() && matches!(bytes[at], b'!' | b'?') {
                at += 1;
            }
            let run = &s[start..at];
            let exasperated = run.len() >= 3 || (run.contains('!') && run.contains('?'));
            if exasperated {
                marks += run.len() - 1;
                cues.push(Cue {
                    kind: CueKind::Punctuation,
                    term: Arc::from(run),
                    span: start..at,
                    weight: -0.5,
                    in_original: false,
                });
                added -= 0.5;
            }
        } else {
            at += 1;
        }
    }
    let mut shouted = 0;
    let words = if has_capital_run(original) {
        Some(words_with_offsets(original))
    } else {
        None
    };
    for (start, word) in words.into_iter().flatten() {
        let letters = word.chars().filter(char::is_ascii_alphabetic).count();
        if letters >= 4 && word.chars().all(|c| !c.is_ascii_lowercase()) {
            shouted += 1;
            cues.push(Cue {
                kind: CueKind::Caps,
                term: Arc::from(word),
                span: start..start + word.len(),
                weight: -0.4,
                in_original: true,
            });
        }
    }
    added -= 0.4 * f64::from(shouted.min(3));
    if sum < 0.0 {
        // Strengthen what is already there: 10% per extra mark, 15% per
        // shouted word, each capped.
        let factor = (1.0 + 0.1 * marks.min(4) as f64) * (1.0 + 0.15 * f64::from(shouted.min(3)));
        added += sum * (factor - 1.0);
    }
    added
}

/// Whether `text` has four capital letters in a row, the least a shouted
/// word has.
fn has_capital_run(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        run = if b.is_ascii_uppercase() { run + 1 } else { 0 };
        if run == 4 {
            return true;
        }
    }
    false
}

fn words_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}
