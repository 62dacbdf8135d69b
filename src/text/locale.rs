//! The languages madoguchi answers in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A language of answers and of locale-specific patterns.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// Japanese.
    Ja,
    /// English.
    En,
}

impl Locale {
    /// Every supported locale, in declaration order.
    pub const ALL: [Locale; 2] = [Locale::Ja, Locale::En];

    /// The BCP 47 tag, as used in rule files and JSON.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Locale::Ja => "ja",
            Locale::En => "en",
        }
    }

    /// The position of this locale in [`Locale::ALL`], for per-locale tables.
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a locale tag madoguchi does not support.
#[derive(Debug, thiserror::Error)]
#[error("unknown locale `{0}` (expected `ja` or `en`)")]
pub struct UnknownLocale(pub String);

impl FromStr for Locale {
    type Err = UnknownLocale;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ja" => Ok(Locale::Ja),
            "en" => Ok(Locale::En),
            other => Err(UnknownLocale(other.to_owned())),
        }
    }
}

/// Counts of script classes seen while normalizing, from which the locale
/// of a message is decided.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ScriptCounts {
    pub japanese: u32,
    pub latin: u32,
    pub latin_words: u32,
}

impl ScriptCounts {
    /// Japanese when it has at least two kana or kanji per Latin word: a
    /// Japanese sentence with an English word or two ("パスワードをresetしたい")
    /// is Japanese, an English sentence naming a Japanese product ("Is the
    /// 手ぬぐい in stock?") or signed with "様" is English. `None` when the
    /// message has no letters at all ("12345"), so the caller picks a default.
    pub fn locale(self) -> Option<Locale> {
        match (self.japanese, self.latin) {
            (0, 0) => None,
            (0, _) => Some(Locale::En),
            (j, _) if j >= 2 * self.latin_words => Some(Locale::Ja),
            _ => Some(Locale::En),
        }
    }
}
