//! Reading labelled messages: one JSON object per line.

use std::io::BufRead;

use serde::Deserialize;

use super::EvalError;
use crate::text::Locale;

/// One labelled message.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// The message.
    pub text: String,
    /// The expected intent.
    pub intent: Expected,
    /// Whether it is a complaint, if labelled.
    pub complaint: Option<bool>,
    /// Whether it raises a safety concern, if labelled.
    pub safety: Option<bool>,
    /// The language, if the file says.
    pub lang: Option<Locale>,
}

/// The intent label of a line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Expected {
    /// No intent label.
    #[default]
    Unlabelled,
    /// Out of scope: no intent is right.
    OutOfScope,
    /// The dataset's intent name.
    Intent(String),
}

#[derive(Deserialize)]
struct Line {
    text: String,
    /// Absent: unlabelled (the default); `null`: out of scope.
    #[serde(default)]
    intent: Expected,
    complaint: Option<bool>,
    safety: Option<bool>,
    lang: Option<String>,
}

impl<'de> Deserialize<'de> for Expected {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<String>::deserialize(d)? {
            None => Expected::OutOfScope,
            Some(name) => Expected::Intent(name),
        })
    }
}

/// Reads labelled messages, one JSON object per line; blank lines are
/// skipped.
///
/// # Errors
/// [`EvalError`] naming the file and line of the first bad line.
pub fn read_labelled(path: &str, reader: impl BufRead) -> Result<Vec<Labelled>, EvalError> {
    let mut items = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| EvalError::Io {
            path: path.to_owned(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| EvalError::Line {
            path: path.to_owned(),
            line: n + 1,
            message,
        };
        let parsed: Line =
            serde_json::from_str(&line).map_err(|e| bad(format!("not a labelled message: {e}")))?;
        let lang = match parsed.lang.as_deref() {
            None => None,
            Some(tag) => Some(tag.parse::<Locale>().map_err(|e| bad(e.to_string()))?),
        };
        items.push(Labelled {
            text: parsed.text,
            intent: parsed.intent,
            complaint: parsed.complaint,
            safety: parsed.safety,
            lang,
        });
    }
    Ok(items)
}
