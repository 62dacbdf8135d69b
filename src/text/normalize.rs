//! One pass from what a customer typed to the form rules are matched in.
//!
//! The steps, per character:
//! 1. Unicode NFKC (full-width `Ａ１` → `A1`, half-width `ｶﾞ` → `ガ`),
//! 2. lower case,
//! 3. hiragana → katakana, small kana → full-size kana, iteration marks
//!    (`ゝ`, `ヽ`, `々`) spelled out,
//! 4. long-vowel marks and their look-alikes (`ｰ`, `〜`, `−`, `—`, …) after a
//!    kana become `ー`, repeated ones collapse, and a word-final `ー` is dropped
//!    so that `ユーザー` and the JIS spelling `ユーザ` meet,
//! 5. Japanese punctuation and brackets become ASCII or a space; runs of
//!    white space become one space, and a space between two Japanese
//!    characters disappears (`パスワード を 忘れた` → `パスワードを忘レタ`).
//!
//! The kana folds are fixed offsets and small tables applied inside the same
//! loop as NFKC; a string-to-string kana converter would cost an allocation
//! per message and would also turn romaji into kana, which we must not do.

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;

use super::locale::{Locale, ScriptCounts};

/// A message in normalized form, with a map back to the original text.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    text: String,
    /// For every byte of `text`, the byte offset in the original message of
    /// the character it came from; one extra entry holds the original length.
    origins: Vec<u32>,
    scripts: ScriptCounts,
}

impl Normalized {
    /// The normalized text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The character of the original message that produced the normalized
    /// byte `at`.
    #[must_use]
    pub fn original_char(&self, original: &str, at: usize) -> Option<char> {
        let origin = *self.origins.get(at)? as usize;
        original.get(origin..)?.chars().next()
    }

    /// The locale the text is written in, or `None` when it has no letters.
    #[must_use]
    pub fn detected_locale(&self) -> Option<Locale> {
        self.scripts.locale()
    }

    /// The byte range of `original` (the message this text was normalized
    /// from) that produced `range` of the normalized text: from the first
    /// character's source to the end of the last one's, leaving out what
    /// normalization dropped around them (spaces, brackets). An empty range
    /// maps to an empty range.
    ///
    /// # Panics
    /// When `range` does not lie within the normalized text.
    #[must_use]
    pub fn original_range(&self, original: &str, range: Range<usize>) -> Range<usize> {
        let start = self.origins[range.start] as usize;
        if range.is_empty() {
            return start..start;
        }
        let last = self.origins[range.end - 1] as usize;
        // The last character came from one piece of the original (a
        // character and its combining marks): the same piece normalization
        // read, found again from where it starts.
        let end = original
            .get(last..)
            .map_or(last, |rest| last + segment_at(rest).len());
        start..end.max(start)
    }
}

/// Normalizes `input` for matching. See the module documentation for the
/// steps; patterns and messages both go through this function.
#[must_use]
pub fn normalize(input: &str) -> Normalized {
    let mut writer = Writer::with_capacity(input.len());
    let bytes = input.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        // Fast path: an ASCII character not followed by a combining mark
        // (which would be non-ASCII) is already in NFKC.
        let byte = bytes[at];
        if byte.is_ascii() && bytes.get(at + 1).is_none_or(u8::is_ascii) {
            writer.push_ascii(char::from(byte.to_ascii_lowercase()), origin(at));
            at += 1;
            continue;
        }
        let rest = &input[at..];
        if let Some(c) = lone_nfkc_stable(rest) {
            // Kana and kanji are none of the characters `push` treats
            // specially (spaces, separators, long vowels, punctuation).
            writer.emit_japanese(fold_kana(c), origin(at));
            at += c.len_utf8();
            continue;
        }
        let segment = segment_at(rest);
        for c in segment.nfkc() {
            for lower in c.to_lowercase() {
                writer.push(lower, origin(at));
            }
        }
        at += segment.len();
    }
    writer.finish(input.len())
}

/// The first character of `text` when it is kana or kanji that NFKC leaves
/// alone and no combining mark follows: the bulk of Japanese text, decoded
/// once instead of cut into a segment first.
fn lone_nfkc_stable(text: &str) -> Option<char> {
    let mut chars = text.chars();
    let c = chars.next().filter(|&c| is_nfkc_stable(c))?;
    let joined = chars.next().is_some_and(joins_previous);
    (!joined).then_some(c)
}

fn origin(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

/// Kana and kanji that NFKC leaves alone and that have no upper case: the
/// bulk of Japanese text skips the normalizer's tables.
fn is_nfkc_stable(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | '\u{4E00}'..='\u{9FFF}')
}

/// The piece of text that NFKC must see at once: a character and the
/// combining marks that follow it. Half-width voicing marks (`ﾞ`, `ﾟ`) are
/// not combining by class but decompose to combining marks, so they stay
/// with the kana before them (`ｶﾞ` → `ガ`).
fn segment_at(text: &str) -> &str {
    let mut chars = text.char_indices();
    let Some((_, first)) = chars.next() else {
        return text;
    };
    let mut len = first.len_utf8();
    for (i, c) in chars {
        if !joins_previous(c) {
            break;
        }
        len = i + c.len_utf8();
    }
    &text[..len]
}

fn joins_previous(c: char) -> bool {
    match c {
        '\u{3099}' | '\u{309A}' | '\u{FF9E}' | '\u{FF9F}' => true,
        // No combining marks below U+0300, among kana or among kanji: the
        // common characters skip the table look-up.
        '\0'..='\u{2FF}' | '\u{3040}'..='\u{30FF}' | '\u{4E00}'..='\u{9FFF}' => false,
        _ => canonical_combining_class(c) != 0,
    }
}

/// Accumulates normalized output one character at a time.
struct Writer {
    text: String,
    origins: Vec<u32>,
    scripts: ScriptCounts,
    pending_space: Option<u32>,
    /// The last character written, kept to avoid decoding it again.
    last: Option<char>,
}

const LONG_VOWEL: char = 'ー';

impl Writer {
    fn with_capacity(len: usize) -> Self {
        Writer {
            text: String::with_capacity(len + len / 2),
            origins: Vec::with_capacity(len + len / 2 + 1),
            scripts: ScriptCounts::default(),
            pending_space: None,
            last: None,
        }
    }

    fn last(&self) -> Option<char> {
        self.last
    }

    /// An ASCII character: the common case, with the fewest checks.
    fn push_ascii(&mut self, c: char, origin: u32) {
        match c {
            ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c' => {
                if !self.text.is_empty() && self.pending_space.is_none() {
                    self.pending_space = Some(origin);
                }
            }
            '-' | '~' => self.push_long_vowel_like(c, origin),
            c if self.pending_space.is_none() && self.last != Some(LONG_VOWEL) => {
                if c.is_ascii_alphabetic() {
                    self.count_latin();
                }
                self.last = Some(c);
                self.text.push(c);
                self.origins.push(origin);
            }
            c => self.emit(c, origin),
        }
    }

    fn push(&mut self, c: char, origin: u32) {
        let c = fold_kana(c);
        match c {
            c if c.is_whitespace() || is_separator(c) => {
                if !self.text.is_empty() && self.pending_space.is_none() {
                    self.pending_space = Some(origin);
                }
            }
            'ヽ' | 'ヾ' | '々' => self.push_iteration(c, origin),
            c if is_long_vowel_like(c) => self.push_long_vowel_like(c, origin),
            c => self.emit(fold_punctuation(c), origin),
        }
    }

    /// Writes `c`, first settling a pending space and a word-final `ー`.
    fn emit(&mut self, c: char, origin: u32) {
        if !is_katakana(c) {
            self.drop_final_long_vowel();
        }
        if let Some(space_origin) = self.pending_space.take() {
            let joins_japanese = self.last().is_some_and(is_japanese) && is_japanese(c);
            if !joins_japanese {
                self.write(' ', space_origin);
            }
        }
        if is_japanese(c) {
            self.scripts.japanese += 1;
        } else if c.is_alphabetic() {
            self.count_latin();
        }
        self.write(c, origin);
    }

    /// [`Writer::emit`] for kana and kanji (after [`fold_kana`]), which
    /// are Japanese and written in three bytes.
    fn emit_japanese(&mut self, c: char, origin: u32) {
        if !is_katakana(c) {
            self.drop_final_long_vowel();
        }
        if let Some(space_origin) = self.pending_space.take()
            && !self.last().is_some_and(is_japanese)
        {
            self.write(' ', space_origin);
        }
        self.scripts.japanese += 1;
        debug_assert_eq!(c.len_utf8(), 3);
        self.last = Some(c);
        self.text.push(c);
        self.origins.extend_from_slice(&[origin; 3]);
    }

    /// Counts a Latin letter, and a word when it starts one. Called before
    /// the letter is written.
    fn count_latin(&mut self) {
        self.scripts.latin += 1;
        if self.pending_space.is_some() || !self.last.is_some_and(char::is_alphanumeric) {
            self.scripts.latin_words += 1;
        }
    }

    fn write(&mut self, c: char, origin: u32) {
        self.last = Some(c);
        self.text.push(c);
        self.origins
            .extend(std::iter::repeat_n(origin, c.len_utf8()));
    }

    /// A long-vowel look-alike lengthens the kana before it; elsewhere it is
    /// a hyphen (`03−1234`) or a tilde (`10時〜18時`).
    fn push_long_vowel_like(&mut self, c: char, origin: u32) {
        let after_kana = self.pending_space.is_none() && self.last().is_some_and(is_kana);
        if after_kana {
            if self.last() != Some(LONG_VOWEL) {
                self.write(LONG_VOWEL, origin);
            }
        } else if matches!(c, '〜' | '~' | '〰') {
            self.emit('~', origin);
        } else if c == LONG_VOWEL {
            self.emit(LONG_VOWEL, origin);
        } else {
            self.emit('-', origin);
        }
    }

    /// `ヽ`/`ヾ` repeat the kana before them (plain or voiced), `々` the kanji.
    fn push_iteration(&mut self, mark: char, origin: u32) {
        let repeated = match (mark, self.last()) {
            ('ヽ', Some(prev)) if is_kana(prev) => prev,
            ('ヾ', Some(prev)) if is_kana(prev) => voiced(prev),
            ('々', Some(prev)) if is_kanji(prev) => prev,
            _ => mark,
        };
        self.emit(repeated, origin);
    }

    fn drop_final_long_vowel(&mut self) {
        if self.last != Some(LONG_VOWEL) {
            return;
        }
        let len = self.text.len() - LONG_VOWEL.len_utf8();
        let before = self.text[..len].chars().next_back();
        // A lone `ー` (as a dash in "Aー1") is kept; only a lengthened word
        // loses it.
        if before.is_some_and(is_kana) {
            self.text.truncate(len);
            self.origins.truncate(len);
            self.last = before;
        }
    }

    fn finish(mut self, input_len: usize) -> Normalized {
        self.drop_final_long_vowel();
        self.origins
            .push(u32::try_from(input_len).unwrap_or(u32::MAX));
        Normalized {
            text: self.text,
            origins: self.origins,
            scripts: self.scripts,
        }
    }
}

/// Hiragana to katakana (a fixed offset in Unicode) and small kana to full
/// size, so `きゃんせる`, `キャンセル` and `キヤンセル` meet.
fn fold_kana(c: char) -> char {
    let c = match c {
        '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' => {
            char::from_u32(c as u32 + 0x60).unwrap_or(c)
        }
        _ => c,
    };
    match c {
        'ァ' => 'ア',
        'ィ' => 'イ',
        'ゥ' => 'ウ',
        'ェ' => 'エ',
        'ォ' => 'オ',
        'ッ' => 'ツ',
        'ャ' => 'ヤ',
        'ュ' => 'ユ',
        'ョ' => 'ヨ',
        'ヮ' => 'ワ',
        'ヵ' => 'カ',
        'ヶ' => 'ケ',
        _ => c,
    }
}

/// The voiced form of a katakana (`カ` → `ガ`), for `ヾ`: the canonical
/// composition with the combining voicing mark, where one exists.
fn voiced(c: char) -> char {
    unicode_normalization::char::compose(c, '\u{3099}').unwrap_or(c)
}

fn is_long_vowel_like(c: char) -> bool {
    matches!(
        c,
        'ー' | '-' | '~' | '〜' | '〰' | '\u{2010}'
            ..='\u{2015}' | '\u{2212}' | '\u{2500}' | '\u{2501}' | '\u{FF70}'
    )
}

/// Characters that only separate words: Japanese brackets and middle dots.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        '・' | '「'
            | '」'
            | '『'
            | '』'
            | '【'
            | '】'
            | '〈'
            | '〉'
            | '《'
            | '》'
            | '〔'
            | '〕'
            | '〖'
            | '〗'
    )
}

/// Japanese sentence punctuation and typographic quotes to their ASCII
/// counterparts, so one rule (or one regex) covers both.
fn fold_punctuation(c: char) -> char {
    match c {
        '、' | '，' => ',',
        '。' | '．' => '.',
        '\u{2018}' | '\u{2019}' | '\u{2032}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{2033}' => '"',
        _ => c,
    }
}

fn is_kana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー')
}

fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A0}'..='\u{30FF}')
}

pub(crate) fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' | '々')
}

/// Characters that make a text Japanese and need no spaces between them.
pub(crate) fn is_japanese(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30FF}') || is_kanji(c)
}

#[cfg(test)]
mod tests;
