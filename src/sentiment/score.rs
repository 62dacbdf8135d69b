//! Scoring one message.

use std::ops::Range;
use std::sync::Arc;

use super::{Cue, CueKind, Reading, SafetyConcern, Scorer, Sentiment, Term, TermKind};
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
/// How many neutral questions one message is read for.
const MAX_QUESTIONS: usize = 4;
/// How far from a repetition a word of contacting may stand, in bytes
/// (about a dozen kana or a few English words).
const CONTACT_REACH: usize = 36;
/// How far past the kana window a phrase that only looks negated may run
/// (`ないで下さい`: the kanji ends the window).
const NOT_NEGATION_OVERRUN: usize = 3;

thread_local! {
    /// The sentiment terms of the message being scored: a buffer reused
    /// from one message to the next on each thread.
    static FOUND: std::cell::RefCell<Vec<Found>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[derive(Debug, Clone)]
struct Found {
    term: usize,
    span: Range<usize>,
    /// What a valence term adds to the sum, once read in its context.
    weight: f64,
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

    fn score_found(&self, s: &str, original: &str, found: &mut [Found]) -> Sentiment {
        let mut cues = Vec::new();
        let mut questions: [Range<usize>; MAX_QUESTIONS] = Default::default();
        let mut asked = 0;
        let mut last_contrast = None;
        let mut complaining_contrast = false;
        for f in found.iter() {
            let term = self.term(f.term);
            match term.kind {
                TermKind::Contrast => {
                    last_contrast = Some(f.span.start);
                    complaining_contrast |= term.weight < 0.0;
                }
                TermKind::QuestionFrame if asked < MAX_QUESTIONS => {
                    if let Some(sentence) = question_sentence(s, &f.span, |range| {
                        found.iter().any(|g| {
                            self.term(g.term).kind == TermKind::ComplaintQuestion
                                && range.contains(&g.span.start)
                        })
                    }) {
                        cues.push(cue(CueKind::Question, term, f.span.clone(), 0.0));
                        questions[asked] = sentence;
                        asked += 1;
                    }
                }
                _ => {}
            }
        }
        let mut sum = 0.0;
        let mut safety = None;
        let mut politeness = 0;
        for index in 0..found.len() {
            let term = self.term(found[index].term);
            let span = found[index].span.clone();
            match term.kind {
                TermKind::Valence(_) | TermKind::Repeat => {
                    let mut weight = self.valence(s, found, index, last_contrast, &mut cues);
                    if weight < 0.0 && questions[..asked].iter().any(|q| q.contains(&span.start)) {
                        weight = 0.0;
                    }
                    found[index].weight = weight;
                }
                TermKind::Contrast => {
                    sum += term.weight;
                    cues.push(cue(CueKind::Contrast, term, span, term.weight));
                }
                TermKind::Politeness => {
                    politeness += 1;
                    cues.push(cue(CueKind::Politeness, term, span, POLITENESS_FACTOR));
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
                    cues.push(cue(kind, term, span, weight));
                }
                TermKind::Intensifier
                | TermKind::Neutral
                | TermKind::Concession
                | TermKind::QuestionFrame
                | TermKind::ComplaintQuestion => {}
            }
        }
        self.repetitions(s, found, complaining_contrast);
        self.sarcasm(found, last_contrast.is_some(), &mut cues);
        self.concession(s, found, &mut cues);
        for f in found.iter() {
            let term = self.term(f.term);
            let kind = match term.kind {
                TermKind::Valence(kind) => kind,
                TermKind::Repeat => CueKind::Waiting,
                _ => continue,
            };
            sum += f.weight;
            cues.push(cue(kind, term, f.span.clone(), f.weight));
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

    /// A repetition (`何度も`, `many times`) complains beside another sign
    /// of dissatisfaction or a word of contacting (`何度も電話したのに`,
    /// `called many times`); in praise (`何度も利用しています`) it is none.
    fn repetitions(&self, s: &str, found: &mut [Found], complaining_contrast: bool) {
        let upset = complaining_contrast
            || found
                .iter()
                .any(|f| f.weight < 0.0 && matches!(self.term(f.term).kind, TermKind::Valence(_)));
        if upset {
            return;
        }
        for f in found.iter_mut() {
            if self.term(f.term).kind != TermKind::Repeat || f.weight >= 0.0 {
                continue;
            }
            let from = floor_char_boundary(s, f.span.start.saturating_sub(CONTACT_REACH));
            let to = ceil_char_boundary(s, f.span.end + CONTACT_REACH);
            if !self.contact.is_match(&s[from..to]) {
                f.weight = 0.0;
            }
        }
    }

    /// Praise beside a reported failure, with no contrast that would make it
    /// sincere (`素晴らしい、また欠航です`, `great, charged twice`): the
    /// praise turns around. Only the words listed as sarcastic do, and only
    /// when no other praise stands beside them.
    fn sarcasm(&self, found: &mut [Found], contrast: bool, cues: &mut Vec<Cue>) {
        if contrast {
            return;
        }
        let mut failure = false;
        let mut sarcastic = false;
        for f in found.iter() {
            let term = self.term(f.term);
            match term.kind {
                TermKind::Valence(CueKind::Positive) if f.weight > 0.0 => {
                    if term.reading != Reading::Sarcastic {
                        return;
                    }
                    sarcastic = true;
                }
                TermKind::Valence(_) | TermKind::Repeat => failure |= f.weight < 0.0,
                _ => {}
            }
        }
        if !(failure && sarcastic) {
            return;
        }
        for f in found.iter_mut() {
            let term = self.term(f.term);
            if term.reading == Reading::Sarcastic && f.weight > 0.0 {
                f.weight = -f.weight;
                cues.push(cue(CueKind::Sarcasm, term, f.span.clone(), -1.0));
            }
        }
    }

    /// A concession the writer withdraws (`不満と言えば不満ですが、許容範囲
    /// です`, `if I had to complain..., but it's fine`): when what follows
    /// the connective after it accepts (praise and no complaint), the
    /// complaints of its sentence before the connective count nothing. A
    /// contrast the other way (`良かったのですが、〜が最悪`) has no
    /// concession and keeps its complaint.
    fn concession(&self, s: &str, found: &mut [Found], cues: &mut Vec<Cue>) {
        let Some(at) = found
            .iter()
            .position(|f| self.term(f.term).kind == TermKind::Concession)
        else {
            return;
        };
        let concession = found[at].span.clone();
        let Some(connective) = self
            .connectives
            .find_iter(&s[concession.end..])
            .map(|m| concession.end + m.start()..concession.end + m.end())
            .find(|m| whole_word(s, m))
        else {
            return;
        };
        let mut accepted = 0.0;
        let mut praise = false;
        for f in found.iter().filter(|f| f.span.start >= connective.end) {
            if matches!(
                self.term(f.term).kind,
                TermKind::Valence(_) | TermKind::Repeat
            ) {
                accepted += f.weight;
                praise |= f.weight > 0.0;
            }
        }
        if !praise || accepted < 0.0 {
            return;
        }
        let sentence_start = s[..concession.start]
            .rfind(is_sentence_break)
            .map_or(0, |i| i + 1);
        for f in found.iter_mut() {
            if f.span.start >= sentence_start && f.span.start < connective.start && f.weight < 0.0 {
                f.weight = 0.0;
            }
        }
        cues.push(cue(
            CueKind::Concession,
            self.term(found[at].term),
            concession,
            0.0,
        ));
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
                weight: 0.0,
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
        let negatable = term.reading != Reading::NegationIncluded
            && !matches!(
                term.kind,
                TermKind::Valence(CueKind::Waiting) | TermKind::Repeat
            );
        if let Some((span, prohibitive)) = self.negation(s, term, &f.span).filter(|_| negatable) {
            // A prohibitive (`ふざけないでください`, `don't waste my time`)
            // forbids what the term names: it stays what it was.
            let (kind, factor) = match term.kind {
                _ if prohibitive => (CueKind::Prohibitive, 1.0),
                // "I won't cancel", "not demanding anything", "I'm not
                // suing anyone": no threat.
                TermKind::Valence(CueKind::Churn | CueKind::Demand | CueKind::Threat) => {
                    (CueKind::Negation, 0.0)
                }
                _ => (CueKind::Negation, NEGATION_FACTOR),
            };
            weight *= factor;
            cues.push(Cue {
                kind,
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
    /// `問題はありません`), before it in English (`not happy`, `didn't like`),
    /// and whether it is a prohibitive (`ふざけないでください`, `don't waste
    /// my time`), which does not turn the term around.
    fn negation(&self, s: &str, term: &Term, span: &Range<usize>) -> Option<(Range<usize>, bool)> {
        if term.japanese {
            let after = &s[span.end..];
            let window_end = negation_window_end(after);
            // A phrase that only looks negated may run on past the kana
            // (`ないで下さい`).
            let overrun = window_end
                + after[window_end..]
                    .chars()
                    .take_while(|&c| !is_clause_break(c))
                    .take(NOT_NEGATION_OVERRUN)
                    .map(char::len_utf8)
                    .sum::<usize>();
            // A question mark ends the clause but belongs to a rhetorical
            // question (`ひどくない？`).
            let overrun = overrun + usize::from(after[overrun..].starts_with('?'));
            if let Some(m) = self.not_negations.find(&after[..overrun]) {
                let prohibitive = m.start() == 0 && after.starts_with(PROHIBITIVE);
                return prohibitive.then(|| (span.end..span.end + m.end(), true));
            }
            self.japanese_negators
                .find(&after[..window_end])
                .map(|m| (span.end + m.start()..span.end + m.end(), false))
        } else {
            // Three words back is never far: look no further than this, so
            // that a long message costs in proportion to its length.
            let mut from = span.start.saturating_sub(ENGLISH_NEGATION_REACH);
            while !s.is_char_boundary(from) {
                from -= 1;
            }
            let before = &s[from..span.start];
            let clause_break = before.rfind(is_clause_break);
            let clause_start = clause_break.map_or(0, |i| i + 1);
            let mut end = before.len();
            for word in before[clause_start..]
                .split(' ')
                .rev()
                .filter(|w| !w.is_empty())
                .take(ENGLISH_NEGATION_WORDS)
            {
                let start = before[..end].rfind(word).unwrap_or(clause_start);
                if word.ends_with("n't") || self.english_negators.iter().any(|n| n == word) {
                    let known_start = from == 0 || clause_break.is_some();
                    let prohibitive =
                        known_start && is_imperative(word, &before[clause_start..start]);
                    return Some((from + start..from + start + word.len(), prohibitive));
                }
                end = start;
            }
            None
        }
    }
}

/// The normalized start of a Japanese prohibitive (`ないでください`,
/// `ないで下さい`, `ないでよ`): `ないで`.
const PROHIBITIVE: &str = "ナイデ";

/// Whether an English negation opens an imperative: `don't`, `do not` or
/// `never` first in its clause, after at most a softener (`please don't`,
/// `just don't`).
fn is_imperative(negation: &str, before: &str) -> bool {
    let before = before.trim_end();
    let before = match negation {
        "don't" | "dont" | "never" => before,
        "not" => match before.strip_suffix("do") {
            Some(rest) if rest.is_empty() || rest.ends_with(' ') => rest.trim_end(),
            _ => return false,
        },
        _ => return false,
    };
    matches!(
        before.trim(),
        "" | "please" | "just" | "and" | "so" | "please just"
    )
}

/// The sentence around a neutral question's frame, if it asks (ends in
/// `?` or `か`) and no word of its makes it a complaint (`why`, `なぜ`).
fn question_sentence(
    s: &str,
    frame: &Range<usize>,
    complains: impl Fn(&Range<usize>) -> bool,
) -> Option<Range<usize>> {
    let start = s[..frame.start]
        .rfind(is_sentence_break)
        .map_or(0, |i| i + 1);
    // The sentence runs to its mark, which it keeps (`?`).
    let end = s[frame.end..]
        .find(is_sentence_break)
        .map_or(s.len(), |i| frame.end + i + 1);
    let sentence = s[start..end].trim_end_matches([' ', '.', '!']);
    let asks = sentence.ends_with('?') || sentence.ends_with('カ') || sentence.ends_with("カネ");
    let range = start..end;
    (asks && !complains(&range)).then_some(range)
}

/// Whether a match is a word of its own when it is a Latin word (`but`,
/// not `butter`); Japanese matches always are.
fn whole_word(s: &str, m: &Range<usize>) -> bool {
    if !s[m.clone()].starts_with(|c: char| c.is_ascii_alphabetic()) {
        return true;
    }
    let before = s[..m.start].chars().next_back();
    let after = s[m.end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

fn is_sentence_break(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '\n')
}

fn floor_char_boundary(s: &str, mut at: usize) -> usize {
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char_boundary(s: &str, mut at: usize) -> usize {
    at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at += 1;
    }
    at
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
