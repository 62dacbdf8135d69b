//! What a message is made of, for grouping and for keywords: character
//! bigrams of its Japanese runs and the content words of its Latin runs,
//! both on the normalized text (so `パスワード`, `ぱすわーど` and `ﾊﾟｽﾜｰﾄﾞ`
//! agree).

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use crate::text::{Normalized, is_japanese, is_word_char};

/// English words that say nothing about what the customer wants.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "before", "but", "by", "can", "could", "did", "do", "does", "for", "from", "get",
    "got", "had", "has", "have", "hello", "hi", "how", "i", "if", "in", "into", "is", "it", "its",
    "just", "me", "my", "no", "not", "of", "on", "or", "our", "please", "so", "some", "than",
    "thank", "thanks", "that", "the", "their", "them", "then", "there", "these", "they", "this",
    "to", "too", "us", "was", "we", "were", "what", "when", "where", "which", "who", "why", "will",
    "with", "would", "you", "your",
];

/// One run of a message: Japanese characters, or a Latin content word
/// (stemmed) with the form it was written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Run {
    /// Japanese characters, normalized, each with whether it was written
    /// in hiragana (particles and endings, not part of a keyword).
    Japanese(Vec<(char, bool)>),
    /// A content word: its stem and its normalized form.
    Word { stem: String, surface: String },
}

/// A message taken apart.
#[derive(Debug, Clone, Default)]
pub(crate) struct Parsed {
    /// Its runs in order; a stop word or a number between two words ends
    /// the phrase they could form, so it is kept as a break (`None`).
    pub runs: Vec<Option<Run>>,
    /// The hashed features (bigrams and stems), sorted, without repeats.
    pub features: Vec<u64>,
}

fn hash(kind: u8, text: &str) -> u64 {
    // SipHash with fixed keys: the same features on every run and machine.
    let mut hasher = std::hash::DefaultHasher::new();
    kind.hash(&mut hasher);
    text.hash(&mut hasher);
    hasher.finish()
}

/// `cards` → `card`; enough for plurals in support messages.
fn stem(word: &str) -> String {
    if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") {
        word[..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    }
}

fn is_hiragana(c: char) -> bool {
    ('\u{3041}'..='\u{309f}').contains(&c)
}

/// Takes a message apart: `original` as written, `normalized` its
/// normalized form.
pub(crate) fn parse(original: &str, normalized: &Normalized) -> Parsed {
    let mut runs = Vec::new();
    let mut chars = normalized.as_str().char_indices().peekable();
    while let Some(&(_, c)) = chars.peek() {
        if is_japanese(c) {
            let mut run = Vec::new();
            while let Some(&(at, c)) = chars.peek().filter(|(_, c)| is_japanese(*c)) {
                let hiragana = normalized
                    .original_char(original, at)
                    .is_some_and(is_hiragana);
                run.push((c, hiragana));
                chars.next();
            }
            runs.push(Some(Run::Japanese(run)));
        } else if is_word_char(c) {
            let mut word = String::new();
            while let Some(&(_, c)) = chars.peek().filter(|(_, c)| is_word_char(*c)) {
                word.push(c);
                chars.next();
            }
            let plain = word.chars().all(|c| c.is_ascii_digit())
                || word.chars().count() < 2
                || STOP_WORDS.contains(&word.as_str());
            runs.push((!plain).then(|| Run::Word {
                stem: stem(&word),
                surface: word,
            }));
        } else {
            chars.next();
        }
    }
    let mut features = BTreeSet::new();
    for run in runs.iter().flatten() {
        match run {
            Run::Japanese(chars) if chars.len() == 1 => {
                features.insert(hash(0, &chars[0].0.to_string()));
            }
            Run::Japanese(chars) => {
                for pair in chars.windows(2) {
                    features.insert(hash(1, &pair.iter().map(|(c, _)| *c).collect::<String>()));
                }
            }
            Run::Word { stem, .. } => {
                features.insert(hash(2, stem));
            }
        }
    }
    Parsed {
        runs,
        features: features.into_iter().collect(),
    }
}

/// The Jaccard similarity of two sorted sets: shared over all.
pub(crate) fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f64 / (a.len() + b.len() - shared) as f64
}

/// A keyword a message could be matched by: a Japanese substring, or one
/// or two adjacent content words (by their stems).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Term {
    /// Normalized Japanese characters.
    Japanese(String),
    /// Stems of adjacent content words.
    Words(Vec<String>),
}

/// The longest Japanese substring proposed as a keyword, in characters.
const MAX_JAPANESE: usize = 8;

/// Every term in a message, once.
pub(crate) fn terms(parsed: &Parsed) -> BTreeSet<Term> {
    let mut out = BTreeSet::new();
    let mut previous: Option<&str> = None;
    for run in &parsed.runs {
        match run {
            Some(Run::Japanese(chars)) => {
                // Keywords are cut from what was not written in hiragana:
                // the kanji and katakana words, not the particles and
                // endings between them.
                for segment in chars.split(|(_, hiragana)| *hiragana) {
                    for start in 0..segment.len() {
                        for end in start + 2..=(start + MAX_JAPANESE).min(segment.len()) {
                            out.insert(Term::Japanese(
                                segment[start..end].iter().map(|(c, _)| *c).collect(),
                            ));
                        }
                    }
                }
                previous = None;
            }
            Some(Run::Word { stem, .. }) => {
                if stem.len() >= 3 {
                    out.insert(Term::Words(vec![stem.clone()]));
                }
                if let Some(before) = previous {
                    out.insert(Term::Words(vec![before.to_owned(), stem.clone()]));
                }
                previous = Some(stem);
            }
            None => previous = None,
        }
    }
    out
}

/// How a term is written as a keyword, from the forms the messages use:
/// a word written longer than its stem (`cards`) gets the prefix mark
/// (`card*`).
pub(crate) fn keyword(term: &Term, parsed: &[&Parsed]) -> String {
    match term {
        Term::Japanese(text) => text.clone(),
        Term::Words(stems) => {
            let last = stems.last().map_or("", String::as_str);
            let longer = parsed.iter().flat_map(|p| p.runs.iter().flatten()).any(
                |run| matches!(run, Run::Word { stem, surface } if stem == last && surface != stem),
            );
            let mut text = stems.join(" ");
            if longer {
                text.push('*');
            }
            text
        }
    }
}
