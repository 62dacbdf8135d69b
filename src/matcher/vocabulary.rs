//! The words each intent is written with, for telling whether a message
//! talks about something the rule set does not know.
//!
//! A `generic` keyword (`return`, `points`, `返金`) names an intent only in
//! the shop's context: "return my order" is the shop's business, "return
//! a library book" and "the return on a bond" are not. When such a keyword
//! is all the evidence an intent has and the message names nothing of the
//! shop's own (`matching.context`), the words of the message decide: a
//! message made of words the intent is written with, or of words common to
//! many intents ("how", "can", "教えて"), is about the intent; one that
//! brings words no pattern or example of the intent holds ("tax", "comet",
//! "図書館") is about something else.
//!
//! Words are what the normalized text makes easy to see without a
//! segmenter: Latin words, and in Japanese runs of kanji, known by their
//! pairs of adjacent kanji (the kana are all katakana after normalization,
//! so their words run together; kanji compounds carry most of a Japanese
//! message's content).

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use super::IntentTag;
use crate::text::is_kanji;

/// English function words ("the", "would", "i'm" through "i"): every
/// intent knows them.
static FUNCTION_WORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| stop_words::get("en").iter().copied().collect());

/// A word written in this many intents' patterns and examples or more is
/// common: it says nothing about which intent a message is about ("how",
/// "my", "教え").
const COMMON_IN_INTENTS: usize = 5;

/// Which intents are written with a word.
#[derive(Debug, Clone, Default)]
struct Known {
    /// The first intents seen with it, up to [`COMMON_IN_INTENTS`]; at that
    /// many the word is common and the list is no longer consulted.
    intents: Vec<IntentTag>,
}

impl Known {
    fn add(&mut self, intent: IntentTag) {
        if self.intents.len() < COMMON_IN_INTENTS && !self.intents.contains(&intent) {
            self.intents.push(intent);
        }
    }

    fn knows(&self, intent: IntentTag) -> bool {
        self.intents.len() >= COMMON_IN_INTENTS || self.intents.contains(&intent)
    }
}

/// The words of every intent's patterns and examples.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vocabulary {
    words: HashMap<Box<str>, Known>,
    /// The stems of keywords written with a trailing `*` (`exchang`): a
    /// word that goes on from one is known.
    stems: HashMap<Box<str>, Known>,
}

impl Vocabulary {
    /// Records the words of a pattern or example of `intent` (normalized
    /// text): its Latin words and the pairs of adjacent kanji in it.
    pub(crate) fn add(&mut self, intent: IntentTag, normalized: &str) {
        for word in words(normalized) {
            match word.script {
                Script::Latin => self.learn(intent, word.text),
                Script::Kanji => {
                    for pair in kanji_pairs(word.text) {
                        self.learn(intent, pair);
                    }
                }
            }
        }
    }

    /// Records the stem of a keyword written with a trailing `*`.
    pub(crate) fn add_stem(&mut self, intent: IntentTag, stem: &str) {
        self.stems.entry(Box::from(stem)).or_default().add(intent);
    }

    fn learn(&mut self, intent: IntentTag, word: &str) {
        self.words.entry(Box::from(word)).or_default().add(intent);
    }

    /// The words of `normalized` outside `skip` that neither `intent`'s
    /// patterns and examples nor many intents' hold, nor English's function
    /// words.
    pub(crate) fn unknown_words(
        &self,
        intent: IntentTag,
        normalized: &str,
        skip: &[Range<usize>],
    ) -> Vec<Range<usize>> {
        words(normalized)
            .flat_map(|w| outside(normalized, w, skip))
            .filter(|w| !self.knows(intent, w))
            .map(|w| w.span)
            .collect()
    }

    fn knows(&self, intent: IntentTag, word: &Word<'_>) -> bool {
        let known = |w: &str| self.words.get(w).is_some_and(|k| k.knows(intent));
        match word.script {
            // A kanji compound is known when one of its pairs is: `返品理由`
            // is about returns.
            Script::Kanji => kanji_pairs(word.text).any(known),
            Script::Latin => {
                let text = word.text;
                // `i'm`, `it's`, `order's`: the word before the apostrophe.
                let head = text.split('\'').next().unwrap_or(text);
                [text, head].into_iter().any(|w| {
                    FUNCTION_WORDS.contains(w)
                        || known(w)
                        || w.strip_suffix('s')
                            .is_some_and(|stem| stem.len() > 1 && known(stem))
                        || self.goes_on_from_stem(intent, w)
                })
            }
        }
    }

    /// Whether `word` goes on from the stem of one of the intent's `*`
    /// keywords (`exchanges` from `exchang*`).
    fn goes_on_from_stem(&self, intent: IntentTag, word: &str) -> bool {
        (3..word.len()).any(|end| {
            word.is_char_boundary(end)
                && self
                    .stems
                    .get(&word[..end])
                    .is_some_and(|k| k.knows(intent))
        })
    }
}

/// The parts of `word` (found in `text`) that no span of `skip` covers: a
/// Latin word the evidence touches is the evidence; a run of kanji keeps
/// what stands before and after it (`図書館` of `図書館返却`).
fn outside<'a>(text: &'a str, word: Word<'a>, skip: &[Range<usize>]) -> Vec<Word<'a>> {
    let overlapping =
        |start: usize, end: usize| skip.iter().any(|s| s.start < end && start < s.end);
    if !overlapping(word.span.start, word.span.end) {
        return vec![word];
    }
    if word.script == Script::Latin {
        return Vec::new();
    }
    let base = word.span.start;
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    for (offset, c) in word.text.char_indices() {
        let at = base + offset;
        let covered = overlapping(at, at + c.len_utf8());
        match (covered, start) {
            (false, None) => start = Some(at),
            (true, Some(from)) => {
                push_word(text, from, at, Script::Kanji, &mut parts);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        push_word(text, from, word.span.end, Script::Kanji, &mut parts);
    }
    parts
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Kanji,
}

/// A word found in normalized text.
struct Word<'a> {
    text: &'a str,
    script: Script,
    span: Range<usize>,
}

/// The Latin words (two letters or more; `'` inside a word) and the runs of
/// two kanji or more of normalized text.
fn words(text: &str) -> impl Iterator<Item = Word<'_>> {
    let mut found = Vec::new();
    let mut run: Option<(usize, Script)> = None;
    for (at, c) in text.char_indices() {
        let script = if c.is_ascii_lowercase()
            || (c == '\'' && run.is_some_and(|(_, s)| s == Script::Latin))
        {
            Some(Script::Latin)
        } else if is_kanji(c) {
            Some(Script::Kanji)
        } else {
            None
        };
        match (run, script) {
            (Some((_, current)), Some(next)) if current == next => {}
            _ => {
                if let Some((start, current)) = run.take() {
                    push_word(text, start, at, current, &mut found);
                }
                run = script.map(|s| (at, s));
            }
        }
    }
    if let Some((start, current)) = run {
        push_word(text, start, text.len(), current, &mut found);
    }
    found.into_iter()
}

fn push_word<'a>(
    text: &'a str,
    start: usize,
    end: usize,
    script: Script,
    found: &mut Vec<Word<'a>>,
) {
    let word = text[start..end].trim_end_matches('\'');
    let long_enough = match script {
        Script::Latin => word.len() >= 2,
        Script::Kanji => word.chars().nth(1).is_some(),
    };
    if long_enough {
        found.push(Word {
            text: word,
            script,
            span: start..start + word.len(),
        });
    }
}

/// The pairs of adjacent kanji of a run of kanji.
fn kanji_pairs(run: &str) -> impl Iterator<Item = &str> {
    run.char_indices()
        .zip(run.char_indices().skip(1))
        .map(move |((start, _), (second, c))| &run[start..second + c.len_utf8()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        words(text).map(|w| w.text).collect()
    }

    #[test]
    fn latin_words_and_kanji_runs_are_the_words() {
        assert_eq!(
            texts("how do i return my mum's gift?"),
            ["how", "do", "return", "my", "mum's", "gift"]
        );
        assert_eq!(texts("図書館ノ本ヲ返却シタ"), ["図書館", "返却"]);
        assert_eq!(kanji_pairs("図書館").collect::<Vec<_>>(), ["図書", "書館"]);
    }

    #[test]
    fn a_word_is_known_to_its_intent_or_when_common() {
        let mut vocabulary = Vocabulary::default();
        vocabulary.add(0, "how do i return an order");
        for intent in 1..=COMMON_IN_INTENTS as IntentTag {
            vocabulary.add(intent, "how can i");
        }
        let unknown = |text: &'static str| -> Vec<&'static str> {
            vocabulary
                .unknown_words(0, text, &[])
                .into_iter()
                .map(|span| &text[span])
                .collect()
        };
        // `my` and `when` are English function words, `can` is common,
        // `return` and `order` are the intent's own.
        assert_eq!(unknown("when can i return my orders"), Vec::<&str>::new());
        assert_eq!(unknown("when does the comet return"), ["comet"]);
        assert_eq!(unknown("i'm asking about tax returns"), ["asking", "tax"]);
        // `can` is common, `return` is the intent's own; `order` is not
        // known to intent 1.
        assert_eq!(
            vocabulary.unknown_words(1, "can order", &[]).len(),
            1,
            "order is intent 0's word"
        );
    }

    #[test]
    fn kanji_beside_the_evidence_are_judged_apart_from_it() {
        let mut vocabulary = Vocabulary::default();
        vocabulary.add(0, "返却");
        let text = "図書館返却ポスト";
        let unknown: Vec<&str> = vocabulary
            .unknown_words(0, text, std::slice::from_ref(&(9..15)))
            .into_iter()
            .map(|span| &text[span])
            .collect();
        assert_eq!(unknown, ["図書館"]);
    }

    #[test]
    fn a_word_going_on_from_a_starred_stem_is_known() {
        let mut vocabulary = Vocabulary::default();
        vocabulary.add_stem(0, "exchang");
        assert!(
            vocabulary
                .unknown_words(0, "exchanges exchanged", &[])
                .is_empty()
        );
        assert_eq!(vocabulary.unknown_words(1, "exchanges", &[]).len(), 1);
    }

    #[test]
    fn the_evidence_itself_is_skipped() {
        let mut vocabulary = Vocabulary::default();
        vocabulary.add(0, "points");
        assert_eq!(
            vocabulary
                .unknown_words(0, "scrabble points", std::slice::from_ref(&(9..15)))
                .len(),
            1
        );
        assert!(
            vocabulary
                .unknown_words(0, "scrabble points", std::slice::from_ref(&(0..15)))
                .is_empty()
        );
    }
}
