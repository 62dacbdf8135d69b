//! Rule sets: the YAML format, loading with precise errors, and the compiled
//! runtime form.
//!
//! A rule set is read in two steps. A serde form (`schema`) mirrors the
//! YAML with the position of every value; `compile` checks everything (and reports every
//! problem, each as `path:line:column: message`) while building a
//! [`RuleSet`], which cannot be invalid: its automaton, regexes and templates
//! are compiled, its ids unique, its answers complete.

mod addition;
mod answers;
mod compile;
mod globals;
mod intent;
mod live;
mod policy;
mod replies;
mod schema;
mod source;
mod split;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

pub use crate::diagnostic::{Diagnostic, LoadError, Severity, SourceLocation};
pub use addition::Addition;
pub use answers::{Answers, Channel, RenderError, UnknownChannel};
pub use intent::{Example, Intent, IntentId, InvalidIntentId};
pub use live::LiveRules;
pub use policy::{DEFAULT_TIME_ZONE, EscalationSettings, FallbackSettings, Policy};
pub use replies::ReplyName;
pub(crate) use source::{read_yaml_file, yaml_diagnostic, yaml_paths};

use crate::matcher::{IntentTag, Matcher, PatternId, Terms};
use crate::sentiment::Scorer;
use crate::text::Locale;

/// An index into the rule set's intents, in declaration order; the
/// matcher's tag for the intent.
pub type IntentIndex = IntentTag;

/// A compiled, valid rule set.
#[derive(Debug)]
pub struct RuleSet {
    locales: Vec<Locale>,
    intents: Vec<Intent>,
    by_id: BTreeMap<IntentId, IntentIndex>,
    detail_names: BTreeSet<String>,
    terms: Terms,
    matcher: Matcher,
    /// Where each of the matcher's patterns is written, by pattern id.
    pattern_sources: Vec<PatternSource>,
    sentiment: Scorer,
    answers: Answers,
    policy: Policy,
    /// A hash of the files it was compiled from.
    version: String,
    /// The rule files it was compiled from (path and text), in order.
    sources: Vec<(Arc<str>, Arc<str>)>,
}

/// Where a pattern of the rule set is written.
#[derive(Debug, Clone)]
pub struct PatternSource {
    /// The place.
    pub location: SourceLocation,
    /// `location` as `path:line:column`, formatted once for reports.
    pub text: Arc<str>,
}

impl PatternSource {
    fn new(location: SourceLocation) -> Self {
        PatternSource {
            text: location.to_string().into(),
            location,
        }
    }

    /// A pattern not written in any file (never kept in a rule set that
    /// compiled: every pattern the builder took is recorded).
    fn unknown() -> Self {
        PatternSource::new(SourceLocation::new(&Arc::from("?"), 1, 1))
    }
}

/// A rule set that loaded, with the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    /// The rule set.
    pub rules: RuleSet,
    /// Problems that do not stop the rule set from working.
    pub warnings: Vec<Diagnostic>,
}

impl RuleSet {
    /// Reads a rule set from a file or a folder of `.yaml` files, checks its
    /// form and compiles it. Every problem is reported, not just the first.
    /// Its examples are not tried: `check::load` does that, and is how a
    /// rule set is loaded for use.
    ///
    /// # Errors
    /// A [`LoadError`] listing every problem as `path:line:column: message`.
    pub fn compile_path(path: &Path) -> Result<Loaded, LoadError> {
        let files =
            source::read_rule_files(path).map_err(|diagnostics| LoadError { diagnostics })?;
        compile::compile(files)
    }

    /// [`RuleSet::compile_path`] for YAML text; `path` names it in messages.
    ///
    /// # Errors
    /// A [`LoadError`] listing every problem.
    pub fn compile_yaml(path: &str, yaml: &str) -> Result<Loaded, LoadError> {
        let file = source::parse(&Arc::from(path), yaml).map_err(|d| LoadError {
            diagnostics: vec![d],
        })?;
        compile::compile(vec![file])
    }

    /// The rule set's version: a hash of the files it was compiled from
    /// (the same files give the same version), recorded with every
    /// decision made with it.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The locales answers are written in; the first is the default.
    #[must_use]
    pub fn locales(&self) -> &[Locale] {
        &self.locales
    }

    /// The locale for a message in which none can be detected.
    #[must_use]
    pub fn default_locale(&self) -> Locale {
        self.locales[0]
    }

    /// Every intent, in declaration order (built-in intents last).
    #[must_use]
    pub fn intents(&self) -> &[Intent] {
        &self.intents
    }

    /// The intent at `index`.
    #[must_use]
    pub fn intent(&self, index: IntentIndex) -> &Intent {
        &self.intents[index as usize]
    }

    /// The index of the intent with this id.
    #[must_use]
    pub fn intent_index(&self, id: &str) -> Option<IntentIndex> {
        self.by_id.get(id).copied()
    }

    /// The names details can have (from `details:` and regex captures).
    #[must_use]
    pub fn detail_names(&self) -> &BTreeSet<String> {
        &self.detail_names
    }

    /// The automaton of every term (intent keywords and sentiment lexicon).
    #[must_use]
    pub fn terms(&self) -> &Terms {
        &self.terms
    }

    /// The compiled patterns.
    #[must_use]
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// See [`Matcher::forget_search_state`].
    pub(crate) fn forget_search_state(&mut self) {
        self.matcher.forget_search_state();
    }

    /// Where the matcher's pattern `pattern` is written.
    #[must_use]
    pub fn pattern_source(&self, pattern: PatternId) -> &PatternSource {
        &self.pattern_sources[pattern as usize]
    }

    /// The complaint detector.
    #[must_use]
    pub fn sentiment(&self) -> &Scorer {
        &self.sentiment
    }

    /// The dialogue policy: business hours, escalation, fallback.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Renders a dialogue reply (`fallback`, `clarify`,
    /// `escalated_complaint`...): variant `variant`, counted round the
    /// variants the reply has, with `extra` values (`trouble`,
    /// `follow_up`...).
    ///
    /// # Errors
    /// [`RenderError`] when the template fails at run time.
    pub fn render_reply(
        &self,
        name: ReplyName,
        locale: Locale,
        channel: Channel,
        variant: usize,
        details: &BTreeMap<String, String>,
        extra: minijinja::Value,
    ) -> Result<String, RenderError> {
        let key = answers::ReplyKey {
            name: name.as_str(),
            locale,
            channel,
            variant,
        };
        self.answers.render_reply(key, details, extra)
    }

    /// Renders the question for detail `detail` (`ask_order_number`); the
    /// rule set has one for every detail an intent requires.
    ///
    /// # Errors
    /// [`RenderError`] when there is none, or the template fails.
    pub fn render_question(
        &self,
        detail: &str,
        locale: Locale,
        channel: Channel,
        details: &BTreeMap<String, String>,
    ) -> Result<String, RenderError> {
        let name = replies::question_name(detail);
        let key = answers::ReplyKey {
            name: &name,
            locale,
            channel,
            variant: 0,
        };
        self.answers
            .render_reply(key, details, minijinja::Value::UNDEFINED)
    }

    /// Renders the answer of an intent.
    ///
    /// # Errors
    /// [`RenderError`] when the template fails at run time.
    pub fn render_answer(
        &self,
        intent: IntentIndex,
        locale: Locale,
        channel: Channel,
        details: &BTreeMap<String, String>,
    ) -> Result<String, RenderError> {
        let id = self.intent(intent).id.as_str();
        self.answers
            .render(intent as usize, id, locale, channel, details)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod policy_tests;
