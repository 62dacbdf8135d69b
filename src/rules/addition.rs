//! A rule set compiled again with something added, in memory: keywords for
//! one of its intents, or a new intent. Rule suggestions are tried this way
//! before anyone writes them into the files.

use std::fmt::Write as _;
use std::sync::Arc;

use super::schema::{MatchSpec, Words};
use super::source::{self, ParsedFile};
use super::{LoadError, RuleSet, compile};
use crate::diagnostic::{Diagnostic, SourceLocation};
use crate::text::Locale;

/// What to add to a rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addition {
    /// `any` keywords for an intent the rule files declare.
    Keywords {
        /// The intent's id.
        intent: String,
        /// The keywords, as they would be written in the rule file.
        keywords: Vec<String>,
    },
    /// A new intent matched by `any` keywords.
    Intent {
        /// Its id (not taken yet).
        id: String,
        /// Its keywords.
        keywords: Vec<String>,
    },
}

/// Where the added rules say they come from, in problems reported.
const ADDED: &str = "<suggestion>";

impl RuleSet {
    /// This rule set compiled again from its own files with `addition`
    /// (its examples are not tried again).
    ///
    /// # Errors
    /// A [`LoadError`] when the intent is not declared in the rule files,
    /// the new id is taken, or the result does not compile.
    pub fn with_addition(&self, addition: &Addition) -> Result<RuleSet, LoadError> {
        let mut files = self
            .sources
            .iter()
            .map(|(path, text)| source::parse(path, text))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|d| LoadError {
                diagnostics: vec![d],
            })?;
        match addition {
            Addition::Keywords { intent, keywords } => add_keywords(&mut files, intent, keywords)?,
            Addition::Intent { id, keywords } => {
                if self.intent_index(id).is_some() {
                    return Err(problem(format!("intent `{id}` exists already")));
                }
                files.push(new_intent_file(id, keywords, self.locales())?);
            }
        }
        compile::compile(files).map(|loaded| loaded.rules)
    }
}

fn problem(message: String) -> LoadError {
    LoadError {
        diagnostics: vec![Diagnostic::error(
            SourceLocation::new(&Arc::from(ADDED), 1, 1),
            message,
        )],
    }
}

/// Parses a value written as YAML (JSON is YAML): how positioned values
/// are made outside a file.
fn parse_value<T: serde::de::DeserializeOwned>(yaml: &str) -> Result<T, LoadError> {
    serde_saphyr::from_str(yaml).map_err(|e| problem(e.to_string()))
}

fn add_keywords(
    files: &mut [ParsedFile],
    intent: &str,
    keywords: &[String],
) -> Result<(), LoadError> {
    let json = serde_json::to_string(keywords).unwrap_or_default();
    let spec = files
        .iter_mut()
        .flat_map(|f| f.rules.intents.iter_mut())
        .find(|spec| spec.id.value == intent)
        .ok_or_else(|| problem(format!("no rule file declares intent `{intent}`")))?;
    match &mut spec.patterns {
        None => {
            spec.patterns = Some(parse_value(&format!("{{\"any\": {json}}}"))?);
        }
        Some(patterns) => {
            let MatchSpec { any, .. } = &mut patterns.value;
            let added: Words = parse_value(&json)?;
            match any {
                None => *any = Some(added),
                Some(words) => words.value.extend(added.value),
            }
        }
    }
    Ok(())
}

fn new_intent_file(
    id: &str,
    keywords: &[String],
    locales: &[Locale],
) -> Result<ParsedFile, LoadError> {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut yaml = format!(
        "intents:\n  - id: {}\n    match:\n      any: {}\n    answer:\n",
        quote(id),
        serde_json::to_string(keywords).unwrap_or_default()
    );
    for locale in locales {
        // Only the match counts in a replay; the answer is a stand-in.
        // Writing into a String cannot fail.
        let _ = writeln!(
            yaml,
            "      {}: {}",
            locale.as_str(),
            quote("(suggested intent)")
        );
    }
    source::parse(&Arc::from(ADDED), &yaml).map_err(|d| LoadError {
        diagnostics: vec![d],
    })
}
