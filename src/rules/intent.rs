//! Intents: what a customer wants, as the rule set names it.

use std::borrow::Borrow;
use std::fmt;

use serde::Serialize;

use crate::diagnostic::SourceLocation;
use crate::text::Locale;

/// An intent id: lower-case ASCII letters, digits and `_`, starting with a
/// letter, at most 64 characters (`cancel_order`). Ids appear in API
/// responses, handoffs and metrics labels, so they are kept plain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct IntentId(String);

/// Why a text is not a valid intent id.
#[derive(Debug, thiserror::Error)]
#[error(
    "intent id `{0}` is not valid: use lower-case letters, digits and `_`, starting with a letter (at most 64)"
)]
pub struct InvalidIntentId(pub String);

impl IntentId {
    /// Checks and wraps an id.
    ///
    /// # Errors
    /// [`InvalidIntentId`] when the text is not a plain id.
    pub fn parse(id: &str) -> Result<Self, InvalidIntentId> {
        let valid = id.len() <= 64
            && id.starts_with(|c: char| c.is_ascii_lowercase())
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(IntentId(id.to_owned()))
        } else {
            Err(InvalidIntentId(id.to_owned()))
        }
    }

    /// An id kept only to go on checking a rule set that already failed
    /// (so that its other problems are reported too).
    pub(crate) fn placeholder(id: &str) -> Self {
        IntentId(id.to_owned())
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for IntentId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IntentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A compiled intent.
#[derive(Debug, Clone)]
pub struct Intent {
    /// Its id.
    pub id: IntentId,
    /// −10 to 10.
    pub priority: i32,
    /// Routing labels.
    pub tags: Vec<String>,
    /// Phrasings it must match.
    pub examples: Vec<Example>,
    /// Where its id is written.
    pub location: SourceLocation,
    /// A short name per locale (by [`Locale::index`]), for quick replies.
    pub label: [Option<String>; 2],
    /// Where each label is written.
    pub label_locations: [Option<SourceLocation>; 2],
    /// What went wrong for the customer, per locale, named in apologies.
    pub trouble: [Option<String>; 2],
    /// Always hand the conversation to a person.
    pub escalate: bool,
    /// The team or queue its handoffs go to.
    pub team: Option<String>,
    /// Details to ask for once before answering or escalating.
    pub requires: Vec<String>,
}

impl Intent {
    /// The short name shown on a quick reply (the id when none is given).
    #[must_use]
    pub fn label(&self, locale: Locale) -> &str {
        self.label[locale.index()]
            .as_deref()
            .unwrap_or(self.id.as_str())
    }

    /// What went wrong for the customer, if the intent names it.
    #[must_use]
    pub fn trouble(&self, locale: Locale) -> Option<&str> {
        self.trouble[locale.index()].as_deref()
    }
}

/// A phrasing an intent must match.
#[derive(Debug, Clone)]
pub struct Example {
    /// The message text.
    pub text: String,
    /// The locale it is listed under.
    pub locale: Locale,
    /// Where it is written.
    pub location: SourceLocation,
}
