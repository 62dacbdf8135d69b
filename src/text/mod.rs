//! Text normalization and locale detection.
//!
//! Rules and messages meet in one normalized form, so that `ﾊﾟｽﾜｰﾄﾞ`,
//! `パスワード` and `ぱすわーど` are the same string to the matcher, and
//! `Ｏｒｄｅｒ` is `order`. Every normalized byte remembers where it came from
//! in the original message, so evidence can point at what the customer wrote.

mod locale;
mod normalize;

pub use locale::Locale;
pub(crate) use normalize::{is_japanese, is_kanji};

/// A character of a Latin word: letters and digits that are not Japanese.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_japanese(c)
}

/// Whether a Latin word may start at byte `at` of `text`.
pub(crate) fn word_boundary_before(text: &str, at: usize) -> bool {
    !text[..at].chars().next_back().is_some_and(is_word_char)
}

/// Whether a Latin word may end at byte `at` of `text`.
pub(crate) fn word_boundary_after(text: &str, at: usize) -> bool {
    !text[at..].chars().next().is_some_and(is_word_char)
}
pub use normalize::{Normalized, normalize};
