//! Collecting patterns and compiling them into a [`Matcher`].

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use regex::{Regex, RegexBuilder, RegexSetBuilder};

use super::gate::RegexGate;
use super::terms::{TermId, Terms, TermsBuilder};
use super::vocabulary::Vocabulary;
use super::{
    IntentShape, IntentTag, KeywordTarget, LazyRegex, Matcher, MatchingSettings, PatternId,
    PatternInfo, PatternKind, RegexTarget, Role,
};
use crate::text::{Locale, is_word_char, normalize};

/// Regexes are compiled with generous limits: a rule set may hold thousands.
const REGEX_SIZE_LIMIT: usize = 256 * 1024 * 1024;
/// From this many patterns on, a rule set's parts are compiled side by
/// side. Below it the gain is nothing measurable (the example rules load in
/// 0.21 s either way), and what a second thread allocates stays in an
/// allocator arena of its own that a service keeps: about 6 MiB of the
/// idle service's 57 (BENCHMARKS.md, "Memory"). At 10,000 intents (about
/// 100,000 patterns) two cores load about 10% faster.
const PARALLEL_FROM_PATTERNS: usize = 50_000;

/// Runs `a` and `b`, side by side on two cores when `parallel`, else one
/// after the other on the calling thread.
pub(crate) fn join<RA: Send, RB: Send>(
    parallel: bool,
    a: impl FnOnce() -> RA + Send,
    b: impl FnOnce() -> RB + Send,
) -> (RA, RB) {
    if parallel {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// The lazy DFA's cache for the regex set. Searching every regex at once
/// builds many states; when the cache is too small the search falls back to
/// a far slower engine on every message (measured: 6,000 instead of 300,000
/// messages per second with the example rules), so it gets room to grow.
const REGEX_DFA_CACHE: usize = 64 * 1024 * 1024;

/// Collects the patterns of a rule set; every `add_*` validates its pattern
/// and says what is wrong with it.
#[derive(Debug, Default)]
pub(crate) struct MatcherBuilder {
    terms: TermsBuilder,
    /// Per term id: the keyword targets it feeds.
    keyword_targets: Vec<Vec<KeywordTarget>>,
    regex_sources: Vec<String>,
    regexes: Vec<RegexTarget>,
    intents: Vec<IntentShape>,
    patterns: Vec<PatternInfo>,
    /// Regexes compiled ahead of `add_regex`, by source (see
    /// [`MatcherBuilder::precompile_regexes`]).
    precompiled: HashMap<String, Result<CheckedRegex, PatternError>>,
    vocabulary: Vocabulary,
}

/// A regex as the matcher runs it, checked on its own. The compiled regex
/// itself is not kept: each takes about 100 KiB (its one-pass DFA for
/// captures), and only the regexes the set finds in a message are ever run
/// on their own (see [`RegexTarget`]).
#[derive(Debug, Clone)]
struct CheckedRegex {
    /// The source with ASCII word boundaries, as the regex set gets it.
    compiled: String,
    /// The names of the capture groups, by group index.
    names: Vec<Option<Arc<str>>>,
}

/// The matcher could not be compiled as a whole (patterns are checked one by
/// one before, so this means a size limit was reached).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The keyword automaton could not be built.
    #[error("the keywords do not fit in one automaton: {0}")]
    Keywords(#[from] aho_corasick::BuildError),
    /// The regex set could not be built.
    #[error("the regular expressions do not fit in one set: {0}")]
    Regexes(#[from] regex::Error),
}

/// A pattern the builder refused, with the reason.
pub(crate) type PatternError = String;

impl MatcherBuilder {
    /// Registers an intent; patterns then refer to it by the returned index.
    pub fn add_intent(&mut self, priority: i32) -> IntentTag {
        let index = u32::try_from(self.intents.len()).expect("fewer than 2^32 intents");
        self.intents.push(IntentShape {
            group_sizes: Vec::new(),
            priority_factor: 1.1f64.powi(priority),
            priority,
        });
        index
    }

    /// Adds a keyword of the intent's `any` list; returns its pattern id.
    pub fn add_any(
        &mut self,
        intent: IntentTag,
        locale: Option<Locale>,
        text: &str,
    ) -> Result<PatternId, PatternError> {
        self.add_keyword(intent, Role::Any, PatternKind::Any, locale, text)
    }

    /// Adds a keyword of the intent's `generic` list, which counts only in
    /// the shop's context; returns its pattern id.
    pub fn add_generic(
        &mut self,
        intent: IntentTag,
        locale: Option<Locale>,
        text: &str,
    ) -> Result<PatternId, PatternError> {
        self.add_keyword(intent, Role::Generic, PatternKind::Generic, locale, text)
    }

    /// Adds a word of the shop's own domain (`matching.context`); returns
    /// its pattern id.
    pub fn add_context(&mut self, text: &str) -> Result<PatternId, PatternError> {
        self.add_keyword(0, Role::Context, PatternKind::Context, None, text)
    }

    /// Records the words of an example message of the intent, as words the
    /// intent is written with.
    pub fn add_example(&mut self, intent: IntentTag, text: &str) {
        self.vocabulary.add(intent, normalize(text).as_str());
    }

    /// Adds a word that vetoes the intent; returns its pattern id.
    pub fn add_not(
        &mut self,
        intent: IntentTag,
        locale: Option<Locale>,
        text: &str,
    ) -> Result<PatternId, PatternError> {
        self.add_keyword(intent, Role::Not, PatternKind::Not, locale, text)
    }

    /// Adds an all-of group; every word must appear for the group to count.
    /// Returns the words' pattern ids, in order; or, for each word refused,
    /// its place in the group and why.
    pub fn add_group(
        &mut self,
        intent: IntentTag,
        locale: Option<Locale>,
        words: &[&str],
    ) -> Result<Vec<PatternId>, Vec<(usize, PatternError)>> {
        let shape = &self.intents[intent as usize];
        let group = u16::try_from(shape.group_sizes.len())
            .map_err(|_| vec![(0, "too many all-of groups".to_owned())])?;
        let size = u8::try_from(words.len())
            .map_err(|_| vec![(0, "an all-of group holds at most 255 words".to_owned())])?;
        let mut errors = Vec::new();
        let mut ids = Vec::with_capacity(words.len());
        for (member, text) in (0u8..).zip(words) {
            let role = Role::AllMember { group, member };
            match self.add_keyword(intent, role, PatternKind::All, locale, text) {
                Ok(id) => ids.push(id),
                Err(e) => errors.push((usize::from(member), e)),
            }
        }
        if errors.is_empty() {
            self.intents[intent as usize].group_sizes.push(size);
            Ok(ids)
        } else {
            Err(errors)
        }
    }

    fn add_keyword(
        &mut self,
        intent: IntentTag,
        role: Role,
        kind: PatternKind,
        locale: Option<Locale>,
        text: &str,
    ) -> Result<PatternId, PatternError> {
        let (word, prefix) = match text.trim().strip_suffix('*') {
            Some(stem) => (stem, true),
            None => (text, false),
        };
        let normalized = normalize(word).as_str().to_owned();
        if normalized.is_empty() {
            return Err(format!("`{text}` is empty once normalized"));
        }
        if prefix && !normalized.chars().next_back().is_some_and(is_word_char) {
            return Err(format!(
                "`{text}`: a trailing `*` continues a Latin word; Japanese keywords match anywhere already"
            ));
        }
        let owner = (role != Role::Context).then_some(intent);
        let pattern = self.push_pattern(owner, kind, text, locale);
        if matches!(role, Role::Any | Role::Generic | Role::AllMember { .. }) {
            self.vocabulary.add(intent, &normalized);
            if prefix {
                self.vocabulary.add_stem(intent, &normalized);
            }
        }
        let id = self.keyword_id(normalized);
        if self.keyword_targets.len() <= id as usize {
            self.keyword_targets.resize_with(id as usize + 1, Vec::new);
        }
        let weight = keyword_weight(self.terms.text(id));
        self.keyword_targets[id as usize].push(KeywordTarget {
            pattern,
            intent,
            role,
            locale,
            weight,
            prefix,
        });
        Ok(pattern)
    }

    /// Compiles regexes that `add_regex` will be given, on every core: each
    /// regex is compiled on its own (for its captures) and that is most of
    /// the cost of a rule set with many regexes. The results, errors
    /// included, are kept for `add_regex`, so it reports exactly what it
    /// would have found itself.
    pub fn precompile_regexes<'a>(&mut self, sources: impl IntoIterator<Item = &'a str>) {
        let mut pending: Vec<&str> = sources.into_iter().collect();
        pending.sort_unstable();
        pending.dedup();
        let compiled: Vec<_> = pending
            .par_iter()
            .map(|source| ((*source).to_owned(), check_regex(source)))
            .collect();
        self.precompiled.extend(compiled);
    }

    /// Adds a regular expression of an intent (counts as evidence), or with
    /// `intent: None` a rule-set-wide detail extractor named `detail`.
    /// Returns its pattern id and the names of its capture groups.
    pub fn add_regex(
        &mut self,
        intent: Option<IntentTag>,
        detail: Option<&str>,
        locale: Option<Locale>,
        source: &str,
    ) -> Result<(PatternId, Vec<String>), PatternError> {
        let CheckedRegex { compiled, names } = match self.precompiled.get(source) {
            Some(checked) => checked.clone()?,
            None => check_regex(source)?,
        };
        let kind = if intent.is_some() {
            PatternKind::Regex
        } else {
            PatternKind::Detail
        };
        let captures = names.iter().flatten().map(ToString::to_string).collect();
        let whole_match_detail = detail
            .filter(|d| !names.iter().flatten().any(|n| &**n == *d))
            .map(Arc::from);
        let pattern = self.push_pattern(intent, kind, source, locale);
        self.regex_sources.push(compiled.clone());
        self.regexes.push(RegexTarget {
            pattern,
            intent,
            locale,
            regex: LazyRegex::new(compiled),
            captures: names,
            whole_match_detail,
        });
        Ok((pattern, captures))
    }

    fn push_pattern(
        &mut self,
        intent: Option<IntentTag>,
        kind: PatternKind,
        text: &str,
        locale: Option<Locale>,
    ) -> PatternId {
        let index = u32::try_from(self.patterns.len()).expect("fewer than 2^32 patterns");
        self.patterns.push(PatternInfo {
            intent,
            kind,
            text: Arc::from(text),
            locale,
        });
        index
    }

    fn keyword_id(&mut self, normalized: String) -> TermId {
        self.terms.id(normalized)
    }

    /// A builder whose keywords join the terms already registered (the
    /// sentiment lexicon's), so that one automaton serves both.
    pub fn with_terms(terms: TermsBuilder) -> Self {
        MatcherBuilder {
            terms,
            ..MatcherBuilder::default()
        }
    }

    /// Whether the rule set is large enough for compiling it on two cores
    /// to pay (see [`join`]).
    pub(crate) fn is_large(&self) -> bool {
        self.patterns.len() >= PARALLEL_FROM_PATTERNS
    }

    /// Compiles the term automaton and the regex set. The two do not depend
    /// on each other: a large rule set builds them side by side.
    pub fn build(self, settings: MatchingSettings) -> Result<(Matcher, Terms), BuildError> {
        let sources = &self.regex_sources;
        let (terms, regexes) = join(
            self.is_large(),
            || self.terms.build(),
            || {
                let set = RegexSetBuilder::new(sources)
                    .case_insensitive(true)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_DFA_CACHE)
                    .build();
                (set, RegexGate::new(sources.iter().map(String::as_str)))
            },
        );
        let terms = terms?;
        let (regex_set, regex_gate) = regexes;
        let regex_set = regex_set?;
        let mut targets = Vec::new();
        let mut keyword_targets = Vec::with_capacity(self.keyword_targets.len());
        for group in self.keyword_targets {
            let start = u32::try_from(targets.len()).expect("fewer than 2^32 targets");
            targets.extend(group);
            let end = u32::try_from(targets.len()).expect("fewer than 2^32 targets");
            keyword_targets.push(start..end);
        }
        let matcher = Matcher {
            keyword_targets,
            targets,
            regex_set,
            regex_gate,
            regexes: self.regexes,
            intents: self.intents,
            // Only generic keywords consult the vocabulary: a rule set
            // without them does not keep it.
            vocabulary: if self.patterns.iter().any(|p| p.kind == PatternKind::Generic) {
                self.vocabulary
            } else {
                Vocabulary::default()
            },
            patterns: self.patterns,
            settings,
        };
        Ok((matcher, terms))
    }
}

/// How specific a keyword is: longer keywords are stronger evidence. A
/// Japanese character counts as much as three Latin letters (`返品` ≈
/// `refund`); the weight grows with the square root of the length, from 0.5
/// to 2, so a long phrase counts more than a short word but cannot drown
/// every other signal.
pub(crate) fn keyword_weight(normalized: &str) -> f64 {
    let units: f64 = normalized
        .chars()
        .map(|c| {
            if crate::text::is_japanese(c) {
                1.0
            } else if c.is_alphanumeric() {
                1.0 / 3.0
            } else {
                0.0
            }
        })
        .sum();
    (units / 2.0).sqrt().clamp(0.5, 2.0)
}

/// Compiles one regex (its source with ASCII word boundaries) as the
/// matcher runs it on its own.
pub(super) fn compile_regex(compiled: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(compiled)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Compiles one regex as the matcher runs it, or says what is wrong with it.
fn check_regex(source: &str) -> Result<CheckedRegex, PatternError> {
    let compiled = ascii_word_boundaries(source);
    let regex = compile_regex(&compiled)
        .map_err(|e| format!("invalid regex `{source}`: {}", regex_reason(&e)))?;
    if can_match_empty(&compiled) {
        return Err(format!(
            "regex `{source}` can match an empty text, so it would match every message: make it match at least one character"
        ));
    }
    let names = regex.capture_names().map(|n| n.map(Arc::from)).collect();
    Ok(CheckedRegex { compiled, names })
}

/// Whether a regex can match zero characters somewhere (`x*`, `\b`): such a
/// regex finds "evidence" in every message.
fn can_match_empty(pattern: &str) -> bool {
    regex_syntax::ParserBuilder::new()
        .case_insensitive(true)
        .build()
        .parse(pattern)
        .is_ok_and(|hir| hir.properties().minimum_len() == Some(0))
}

/// Rewrites `\b` and `\B` as ASCII word boundaries. Japanese has no
/// spaces, and to Unicode `\b` a kanji is a word character, so `\b\d{4}`
/// would never match in `注文1234`; what authors mean by `\b` is the edge of
/// a run of Latin letters and digits, which is the ASCII boundary (digits
/// and letters are ASCII already, after NFKC).
fn ascii_word_boundaries(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 16);
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(b @ ('b' | 'B')) => {
                out.push_str("(?-u:\\");
                out.push(b);
                out.push(')');
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The last line of the regex crate's message says what is wrong; the lines
/// before draw a caret under the pattern, which does not fit on one line.
fn regex_reason(err: &regex::Error) -> String {
    let text = err.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or(text.clone(), |l| {
            l.trim().trim_start_matches("error: ").to_owned()
        })
}
