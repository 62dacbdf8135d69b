//! Matching a normalized message against every intent at once.
//!
//! The matcher knows no rule files: it is given patterns, each for an
//! intent it knows only by number, and returns the intents' scores with the
//! patterns (by id) and spans that count for them. Whoever built it maps
//! ids back to where the patterns are written.
//!
//! All keywords of all intents live in one Aho-Corasick automaton ([`Terms`],
//! which also holds the sentiment lexicon, so a message is searched once)
//! and all regular expressions in one `RegexSet`, so the cost of a message
//! grows with its length, not with the number of rules. Overlapping search
//! (`MatchKind::Standard`) is used on purpose: with leftmost-longest
//! matching, `返品` inside another intent's `返品送料` would be hidden and
//! that intent would lose evidence it should have.

mod build;
mod gate;
mod score;
mod terms;
mod vocabulary;

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexSet};

pub(crate) use build::{MatcherBuilder, join};
pub use score::{Candidate, Evidence, MatchOutcome, OutOfContext, Veto};
pub use terms::{TermId, TermMatch, Terms, TermsBuilder};

use crate::text::{Locale, Normalized};

/// An intent, as the matcher knows it: a number given by whoever registers
/// it ([`MatcherBuilder::add_intent`]), counted from 0.
pub type IntentTag = u32;

/// A pattern, by the order in which it was added (as referenced from
/// [`Evidence`] and returned by the builder's `add_*`).
pub type PatternId = u32;

/// What a pattern does for its intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatternKind {
    /// A keyword of the intent's `any` list.
    Any,
    /// A keyword of the intent's `generic` list: a word that names the
    /// intent only in the shop's context.
    Generic,
    /// A word of one of the intent's `all` groups.
    All,
    /// A word that vetoes the intent.
    Not,
    /// A regular expression of the intent.
    Regex,
    /// A rule-set-wide detail extractor.
    Detail,
    /// A word of the shop's own domain (`matching.context`).
    Context,
}

/// A pattern as it was given, for evidence and lint messages.
#[derive(Debug, Clone)]
pub struct PatternInfo {
    /// The intent the pattern belongs to (`None` for detail extractors).
    pub intent: Option<IntentTag>,
    /// Its role.
    pub kind: PatternKind,
    /// The pattern text as given.
    pub text: Arc<str>,
    /// The locale it is restricted to, if any.
    pub locale: Option<Locale>,
}

/// Scoring thresholds of a rule set.
#[derive(Debug, Clone, Copy)]
pub struct MatchingSettings {
    /// Below this score a message matches no intent.
    pub min_score: f64,
    /// A runner-up whose evidence is within this fraction of the best's
    /// (0.1: 10%) is too close to call. Compared on the evidence, not on
    /// the score, which saturates: 3.0 against 2.4 is a clear win even
    /// though both score above 0.9.
    pub ambiguity_margin: f64,
    /// An intent whose only evidence is `generic` keywords, in a message
    /// that names nothing of the shop's context, is no match when the
    /// message holds this many words its patterns and examples do not
    /// know (see [`vocabulary`]).
    pub unknown_words: usize,
}

impl Default for MatchingSettings {
    fn default() -> Self {
        MatchingSettings {
            min_score: 0.5,
            ambiguity_margin: 0.1,
            unknown_words: 2,
        }
    }
}

/// Which intents an Aho-Corasick pattern counts for, and how.
#[derive(Debug, Clone, Copy)]
struct KeywordTarget {
    pattern: u32,
    intent: IntentTag,
    role: Role,
    locale: Option<Locale>,
    weight: f64,
    /// Written with a trailing `*`: the word may go on (`cancel*` matches
    /// `cancelled`).
    prefix: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Any,
    Generic,
    AllMember {
        group: u16,
        member: u8,
    },
    Not,
    /// A word of the shop's context; it counts for no intent.
    Context,
}

#[derive(Debug)]
struct RegexTarget {
    pattern: u32,
    intent: Option<IntentTag>,
    locale: Option<Locale>,
    regex: LazyRegex,
    /// The names of the capture groups, by group index.
    captures: Vec<Option<Arc<str>>>,
    /// For detail extractors without a capture of their name: the detail
    /// name, taken from the whole match.
    whole_match_detail: Option<Arc<str>>,
}

/// A regex compiled the first time the regex set finds it in a message.
/// Loading has checked that it compiles; keeping every regex compiled would
/// cost about 100 KiB each (100 MiB for a rule set with 1,000 regexes),
/// while a service runs only the few its customers' messages match.
#[derive(Debug)]
struct LazyRegex {
    /// The source with ASCII word boundaries.
    source: String,
    compiled: OnceLock<Regex>,
}

impl LazyRegex {
    fn new(source: String) -> Self {
        LazyRegex {
            source,
            compiled: OnceLock::new(),
        }
    }

    fn get(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            // Loading compiled this very source with the same settings.
            build::compile_regex(&self.source).unwrap_or_else(|e| {
                unreachable!("a regex checked at loading no longer compiles: {e}")
            })
        })
    }
}

/// The shape of an intent that scoring needs.
#[derive(Debug, Clone)]
struct IntentShape {
    group_sizes: Vec<u8>,
    /// `1.1^priority`: evidence is scaled by 10% per priority step.
    priority_factor: f64,
    priority: i32,
}

thread_local! {
    /// The patterns found in the message being matched: a buffer reused
    /// from one message to the next on each thread, as only the scored
    /// outcome outlives the call.
    static HITS: std::cell::RefCell<Vec<score::Hit>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Every pattern of a rule set, compiled for matching.
#[derive(Debug)]
pub struct Matcher {
    /// For each term of the rule set's automaton, the range of `targets`
    /// it feeds (empty for terms that are no intent's keyword).
    keyword_targets: Vec<Range<u32>>,
    targets: Vec<KeywordTarget>,
    regex_set: RegexSet,
    /// Whether a message can match any regex of the set at all.
    regex_gate: gate::RegexGate,
    regexes: Vec<RegexTarget>,
    intents: Vec<IntentShape>,
    patterns: Vec<PatternInfo>,
    vocabulary: vocabulary::Vocabulary,
    settings: MatchingSettings,
}

impl Matcher {
    /// Every pattern, by index (as referenced from [`Evidence`]).
    #[must_use]
    pub fn patterns(&self) -> &[PatternInfo] {
        &self.patterns
    }

    /// The scoring thresholds.
    #[must_use]
    pub fn settings(&self) -> MatchingSettings {
        self.settings
    }

    /// Drops what searching has built up so far: the regex set's lazy DFA
    /// caches and the regexes compiled on first use. Checking a rule set's
    /// examples fills both on the thread that checks them, and a service
    /// that kept them would hold several MiB it may never use again; a
    /// clone of the set shares the compiled program and starts with no
    /// cache, and each regex compiles again when a message needs it.
    pub(crate) fn forget_search_state(&mut self) {
        self.regex_set = self.regex_set.clone();
        for target in &mut self.regexes {
            target.regex.compiled = OnceLock::new();
        }
    }

    /// Matches `text` read as `locale`, given the terms found in it.
    #[must_use]
    pub fn find(&self, text: &Normalized, terms: &[TermMatch], locale: Locale) -> MatchOutcome {
        HITS.with_borrow_mut(|hits| {
            hits.clear();
            let context = self.find_keywords(terms, locale, hits);
            let details = self.find_regexes(text.as_str(), locale, hits);
            score::score(
                self,
                hits,
                details,
                &score::Context {
                    text: text.as_str(),
                    named: context,
                },
            )
        })
    }

    /// Collects the keywords' hits; returns whether the message names the
    /// shop's context.
    fn find_keywords(
        &self,
        terms: &[TermMatch],
        locale: Locale,
        hits: &mut Vec<score::Hit>,
    ) -> bool {
        let mut context = false;
        for found in terms.iter().filter(|t| !t.mid_word) {
            let Some(range) = self.keyword_targets.get(found.id as usize) else {
                continue;
            };
            for target in &self.targets[range.start as usize..range.end as usize] {
                if target.locale.is_some_and(|l| l != locale)
                    || !(found.whole_word || target.prefix)
                {
                    continue;
                }
                if target.role == Role::Context {
                    context = true;
                } else {
                    hits.push(score::Hit::keyword(target, found.span.clone()));
                }
            }
        }
        context
    }

    /// Runs the regexes that the set says match, for their spans and
    /// captures; returns the extracted details.
    fn find_regexes(
        &self,
        text: &str,
        locale: Locale,
        hits: &mut Vec<score::Hit>,
    ) -> Vec<(Arc<str>, Range<usize>)> {
        let mut details = Vec::new();
        if self.regexes.is_empty() || !self.regex_gate.may_match(text) {
            return details;
        }
        let matched = self.regex_set.matches(text);
        // Going through the set's answers reads one flag per regex.
        if !matched.matched_any() {
            return details;
        }
        for index in &matched {
            let target = &self.regexes[index];
            if target.locale.is_some_and(|l| l != locale) {
                continue;
            }
            // Capture groups cost a slower search; a regex without named
            // groups needs only where it matched.
            let whole = if target.captures.iter().any(Option::is_some) {
                let Some(captures) = target.regex.get().captures(text) else {
                    continue;
                };
                for (name, group) in target.captures.iter().zip(captures.iter()) {
                    // An optional group that matched nothing extracts nothing.
                    if let (Some(name), Some(group)) = (name, group)
                        && !group.is_empty()
                    {
                        details.push((Arc::clone(name), group.range()));
                    }
                }
                captures.get(0).map_or(0..0, |m| m.range())
            } else {
                let Some(found) = target.regex.get().find(text) else {
                    continue;
                };
                found.range()
            };
            if let Some(name) = &target.whole_match_detail {
                details.push((Arc::clone(name), whole.clone()));
            }
            if let Some(intent) = target.intent {
                hits.push(score::Hit::regex(target.pattern, intent, whole));
            }
        }
        details
    }
}

#[cfg(test)]
mod tests;
