//! One automaton for every term of a rule set: intent keywords and sentiment
//! lexicon alike, so that a message is searched once.
//!
//! Matches are overlapping (`MatchKind::Standard`): a keyword inside another
//! intent's longer keyword still counts for its own intent, and the
//! sentiment scorer picks its leftmost-longest terms from the same list.

use std::collections::HashMap;
use std::ops::Range;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::text::{Normalized, is_kanji, is_word_char, word_boundary_after, word_boundary_before};

/// A term's index in the automaton.
pub type TermId = u32;

/// Collects normalized terms; the same text gets the same id.
#[derive(Debug, Default)]
pub struct TermsBuilder {
    ids: HashMap<String, TermId>,
    texts: Vec<String>,
}

impl TermsBuilder {
    /// The id of a normalized term, registering it on first sight.
    ///
    /// # Panics
    /// Past 2^32 distinct terms, far beyond what a rule set can hold.
    pub fn id(&mut self, normalized: String) -> TermId {
        if let Some(&id) = self.ids.get(&normalized) {
            return id;
        }
        let id = TermId::try_from(self.texts.len()).expect("fewer than 2^32 terms");
        self.ids.insert(normalized.clone(), id);
        self.texts.push(normalized);
        id
    }

    /// The normalized text of a registered term.
    #[must_use]
    pub fn text(&self, id: TermId) -> &str {
        &self.texts[id as usize]
    }

    /// Compiles the automaton.
    ///
    /// # Errors
    /// When the terms do not fit in one automaton.
    pub fn build(self) -> Result<Terms, aho_corasick::BuildError> {
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&self.texts)?;
        let shapes = self
            .texts
            .iter()
            .map(|t| Shape {
                latin_start: t.chars().next().is_some_and(is_word_char),
                latin_end: t.chars().next_back().is_some_and(is_word_char),
                kana_start: match t.chars().next() {
                    Some('\u{30A1}'..='\u{30FA}') if t.chars().count() < SHORT_TERM => {
                        KanaStart::Short
                    }
                    Some('\u{30A1}'..='\u{30FA}') => KanaStart::Long,
                    _ => KanaStart::No,
                },
            })
            .collect();
        Ok(Terms { automaton, shapes })
    }
}

/// How a term meets word boundaries: Latin words match whole words (so
/// `ship` does not fire inside `relationship`); Japanese has no spaces, so
/// Japanese terms match anywhere, except that a kana term must not start
/// inside another word (see [`starts_mid_word`]).
#[derive(Debug, Clone, Copy)]
struct Shape {
    latin_start: bool,
    latin_end: bool,
    kana_start: KanaStart,
}

/// Whether a term starts with kana, and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KanaStart {
    No,
    Short,
    Long,
}

/// Terms shorter than this (in characters) are the ones that meet a verb's
/// ending by accident (`エラ(ー)` in `変えられる`); longer kana terms after a
/// kanji are words of their own (`発送ありがとう`, `人と話して`).
const SHORT_TERM: usize = 4;

/// One term found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermMatch {
    /// Which term.
    pub id: TermId,
    /// Where, in bytes of the normalized text.
    pub span: Range<usize>,
    /// Whether the match ends at a word boundary (always true for
    /// Japanese); a Latin term written with a trailing `*` may also match
    /// where it does not.
    pub whole_word: bool,
    /// Whether a kana term starts inside another word here (see
    /// [`starts_mid_word`]): intent keywords do not count there, while the
    /// sentiment lexicon's suffixes (`すぎ` in `高すぎ`) do.
    pub mid_word: bool,
}

/// The compiled automaton of every term.
#[derive(Debug)]
pub struct Terms {
    automaton: AhoCorasick,
    shapes: Vec<Shape>,
}

impl Terms {
    /// Every term in `text` (the normalized form of `original`), overlapping,
    /// in order of their end.
    #[must_use]
    pub fn find(&self, text: &Normalized, original: &str) -> Vec<TermMatch> {
        let mut found = Vec::with_capacity(16);
        self.find_into(text, original, &mut found);
        found
    }

    /// [`Terms::find`] into a buffer the caller reuses (it is cleared
    /// first), to spare an allocation per message.
    pub fn find_into(&self, text: &Normalized, original: &str, found: &mut Vec<TermMatch>) {
        found.clear();
        let s = text.as_str();
        for m in self.automaton.find_overlapping_iter(s) {
            let id = m.pattern().as_usize();
            let span = m.range();
            let shape = self.shapes[id];
            if shape.latin_start && !word_boundary_before(s, span.start) {
                continue;
            }
            let mid_word = shape.kana_start != KanaStart::No
                && starts_mid_word(
                    text,
                    original,
                    span.start,
                    shape.kana_start == KanaStart::Short,
                );
            found.push(TermMatch {
                mid_word,
                id: TermId::try_from(id).unwrap_or(TermId::MAX),
                whole_word: !shape.latin_end || word_boundary_after(s, span.end),
                span,
            });
        }
    }
}

/// Whether a kana term found at `at` starts inside another word. Folding
/// hiragana to katakana lets `エラ(ー)` meet the `えら` of `変えられる` and
/// small kana to full size lets `ヤア` meet the `ゃあ` of `じゃあ`; what the
/// customer typed tells them apart: a word does not start with a small kana,
/// and hiragana right after a kanji is likely that kanji's ending
/// (okurigana) when the term is short. Katakana after a kanji
/// (`新パスワード`) is a new word.
fn starts_mid_word(text: &Normalized, original: &str, at: usize, short: bool) -> bool {
    let Some(typed) = text.original_char(original, at) else {
        return false;
    };
    let small = matches!(
        typed,
        'ぁ' | 'ぃ'
            | 'ぅ'
            | 'ぇ'
            | 'ぉ'
            | 'っ'
            | 'ゃ'
            | 'ゅ'
            | 'ょ'
            | 'ゎ'
            | 'ァ'
            | 'ィ'
            | 'ゥ'
            | 'ェ'
            | 'ォ'
            | 'ッ'
            | 'ャ'
            | 'ュ'
            | 'ョ'
            | 'ヮ'
            | 'ｧ'..='ｯ'
    );
    let hiragana = matches!(typed, '\u{3041}'..='\u{3096}');
    let after_kanji = text.as_str()[..at]
        .chars()
        .next_back()
        .is_some_and(is_kanji);
    small || (short && hiragana && after_kanji)
}
