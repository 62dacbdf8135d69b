//! From parsed rule files to a [`RuleSet`]: every check, every problem.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use serde_saphyr::Spanned;

use super::IntentIndex;
use super::answers::{AnswerKey, Answers, Channel, TemplateScope};
use super::globals::Globals;
use super::intent::{Example, Intent, IntentId};
use super::policy::{self, PolicySpecs};
use super::replies::{self, REPLY_VARIABLES};
use super::schema::{AnswerSpec, IntentSpec, PatternBlock, Words};
use super::source::{ParsedFile, builtin_rule_files};
use super::{Loaded, PatternSource, RuleSet};
use crate::diagnostic::{Diagnostic, Diagnostics, LoadError, SourceLocation};
use crate::matcher::{MatcherBuilder, PatternId, TermsBuilder};
use crate::text::Locale;

const PRIORITY_RANGE: std::ops::RangeInclusive<i32> = -10..=10;

/// Checks and compiles parsed rule files (the built-in intents are added
/// unless the rule set declares an intent with the same id).
/// The rule set's version: a hash of its files' paths and texts and of
/// madoguchi's own version (whose built-in rules are part of every rule
/// set), short enough to read in a log line.
fn version(files: &[ParsedFile]) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    hash.update(env!("CARGO_PKG_VERSION").as_bytes());
    for file in files {
        hash.update(file.path.as_bytes());
        hash.update([0]);
        hash.update(file.digest);
    }
    hex::encode(&hash.finalize()[..6])
}

pub(crate) fn compile(mut files: Vec<ParsedFile>) -> Result<Loaded, LoadError> {
    let user_files = files.len();
    let version = version(&files);
    let sources: Vec<(Arc<str>, Arc<str>)> = files
        .iter()
        .map(|f| (Arc::clone(&f.path), Arc::clone(&f.text)))
        .collect();
    let declared: HashSet<String> = files
        .iter()
        .flat_map(|f| f.rules.intents.iter().map(|i| i.id.value.clone()))
        .collect();
    files.extend(builtin_rule_files());

    let mut d = Diagnostics::default();
    let mut globals = Globals::collect(&files, &mut d);
    let policy_specs = policy::collect(&files, &mut d);
    // The sentiment lexicon and the intents' keywords share one automaton.
    let mut terms = TermsBuilder::default();
    let (lexicon, sentiment_settings) = std::mem::take(&mut globals.sentiment);
    let sentiment = match lexicon.build(sentiment_settings, &mut terms) {
        Ok(scorer) => Some(scorer),
        Err(err) => {
            d.error(first_line(&files), err.to_string());
            None
        }
    };
    let mut compiler = Compiler {
        builder: MatcherBuilder::with_terms(terms),
        pattern_sources: Vec::new(),
        detail_names: BTreeSet::new(),
        intents: Vec::new(),
        requires_at: Vec::new(),
        by_id: BTreeMap::new(),
        d,
    };
    let specs: Vec<(&ParsedFile, &IntentSpec, bool)> = files
        .iter()
        .enumerate()
        .flat_map(|(n, file)| {
            let builtin = n >= user_files;
            file.rules
                .intents
                .iter()
                .map(move |spec| (file, spec, builtin))
        })
        .filter(|(_, spec, builtin)| !(*builtin && declared.contains(&spec.id.value)))
        .collect();
    compiler
        .builder
        .precompile_regexes(regex_sources(&globals, &specs));
    compiler.add_detail_extractors(&globals);
    compiler.add_context(&globals);
    let mut accepted = Vec::with_capacity(specs.len());
    for (file, spec, builtin) in specs {
        let index = compiler.add_intent(file, spec);
        accepted.push((index, file, spec, builtin));
    }
    // The automaton and regex set need only the patterns, the templates
    // only the names they may use: a large rule set compiles the two side
    // by side.
    let builder = std::mem::take(&mut compiler.builder);
    let (built, (answers, policy)) = crate::matcher::join(
        builder.is_large(),
        || builder.build(globals.matching),
        || {
            let mut answers = compiler.compile_answers(&globals, &accepted);
            compiler.compile_replies(&files, user_files, &globals, &mut answers);
            answers.finish();
            compiler.check_required_details(&answers, &globals.locales);
            (answers, compiler.policy(policy_specs))
        },
    );
    let Compiler {
        pattern_sources,
        detail_names,
        intents,
        by_id,
        mut d,
        ..
    } = compiler;
    let matcher = match built {
        Ok(built) => Some(built),
        Err(err) => {
            d.error(first_line(&files), err.to_string());
            None
        }
    };
    let (Some((matcher, terms)), Some(sentiment), false) = (matcher, sentiment, d.has_errors())
    else {
        return Err(LoadError {
            diagnostics: d.into_sorted(),
        });
    };
    let rules = RuleSet {
        locales: globals.locales,
        intents,
        by_id,
        detail_names,
        terms,
        matcher,
        pattern_sources,
        sentiment,
        answers,
        policy,
        version,
        sources,
    };
    Ok(Loaded {
        rules,
        warnings: d.into_sorted(),
    })
}

/// Every regex the rule set declares: its detail extractors' and its
/// intents'.
fn regex_sources<'a>(
    globals: &'a Globals,
    specs: &[(&'a ParsedFile, &'a IntentSpec, bool)],
) -> Vec<&'a str> {
    let details = globals.details.values().map(|(regex, _)| regex.as_str());
    let intents = specs
        .iter()
        .filter_map(|(_, spec, _)| spec.patterns.as_ref())
        .flat_map(|patterns| patterns.value.blocks())
        .filter_map(|(_, block)| block.regex)
        .flat_map(|list| list.value.iter().map(|r| r.value.as_str()));
    details.chain(intents).collect()
}

/// Where a problem of the rule set as a whole is reported.
fn first_line(files: &[ParsedFile]) -> SourceLocation {
    files.first().map_or_else(
        || SourceLocation::new(&"<rules>".into(), 1, 1),
        |f| SourceLocation::new(&f.path, 1, 1),
    )
}

struct Compiler {
    builder: MatcherBuilder,
    /// Where each pattern the builder took is written, by pattern id.
    pattern_sources: Vec<PatternSource>,
    detail_names: BTreeSet<String>,
    intents: Vec<Intent>,
    /// Per intent: where each of its `requires` entries is written.
    requires_at: Vec<Vec<SourceLocation>>,
    by_id: BTreeMap<IntentId, IntentIndex>,
    d: Diagnostics,
}

impl Compiler {
    fn compile_replies(
        &mut self,
        files: &[ParsedFile],
        user_files: usize,
        globals: &Globals,
        answers: &mut Answers,
    ) {
        let scope = TemplateScope {
            shop_keys: &globals.shop_keys,
            detail_names: &self.detail_names,
            extra: REPLY_VARIABLES,
        };
        replies::compile(
            files,
            user_files,
            &globals.locales,
            &scope,
            answers,
            &mut self.d,
        );
    }

    /// A required detail must be one the rule set extracts, with a question
    /// to ask for it in every locale.
    fn check_required_details(&mut self, answers: &Answers, locales: &[Locale]) {
        for (intent, places) in self.intents.iter().zip(&self.requires_at) {
            for (name, location) in intent.requires.iter().zip(places) {
                if !self.detail_names.contains(name) {
                    self.d.error(
                        location.clone(),
                        format!("intent `{}` requires `{name}`, which no `details:` entry or regex capture extracts", intent.id),
                    );
                    continue;
                }
                for &locale in locales {
                    if !answers.has_reply(&replies::question_name(name), locale) {
                        self.d.error(
                            location.clone(),
                            format!("intent `{}` requires `{name}`: write the question under `replies: ask_{name}: {locale}:`", intent.id),
                        );
                    }
                }
            }
        }
    }

    fn policy(&mut self, specs: PolicySpecs<'_>) -> policy::Policy {
        let topics = policy::resolve_topics(&specs, |id| self.by_id.get(id).copied(), &mut self.d);
        let mut policy = specs.policy;
        policy.fallback.topics = topics;
        policy
    }

    fn add_detail_extractors(&mut self, globals: &Globals) {
        for (name, (regex, location)) in &globals.details {
            match self.builder.add_regex(None, Some(name), None, regex) {
                Ok((pattern, captures)) => {
                    self.record(pattern, location.clone());
                    self.detail_names.insert(name.clone());
                    self.detail_names.extend(captures);
                }
                Err(message) => self.d.error(location.clone(), message),
            }
        }
    }

    fn add_context(&mut self, globals: &Globals) {
        for (word, location) in &globals.context {
            match self.builder.add_context(word) {
                Ok(pattern) => self.record(pattern, location.clone()),
                Err(message) => self.d.error(location.clone(), message),
            }
        }
    }

    /// Checks one intent and registers its patterns. An intent with a bad or
    /// duplicate id is still checked (so that every problem is reported) but
    /// cannot be looked up by id; the rule set fails to load anyway.
    fn add_intent(&mut self, file: &ParsedFile, spec: &IntentSpec) -> IntentIndex {
        let id_location = file.at_value(&spec.id);
        let id = IntentId::parse(&spec.id.value).unwrap_or_else(|err| {
            self.d.error(id_location.clone(), err.to_string());
            IntentId::placeholder(&spec.id.value)
        });
        let duplicate = self.by_id.get(&id).map(|&first| {
            let first = &self.intents[first as usize].location;
            format!("duplicate intent id `{id}` (first declared at {first})")
        });
        if let Some(message) = duplicate {
            self.d.error(id_location.clone(), message);
        }
        let priority = self.priority(file, spec);
        let index = self.builder.add_intent(priority);
        self.add_patterns(file, spec, index, &id, &id_location);
        self.by_id.entry(id.clone()).or_insert(index);
        let examples = examples(file, spec);
        for example in &examples {
            self.builder.add_example(index, &example.text);
        }
        self.intents.push(Intent {
            examples,
            tags: spec.tags.iter().map(|t| t.value.clone()).collect(),
            priority,
            id,
            location: id_location,
            label: per_locale_text(spec.label.as_ref()),
            label_locations: per_locale_location(file, spec.label.as_ref()),
            trouble: per_locale_text(spec.trouble.as_ref()),
            escalate: spec.escalate.as_ref().is_some_and(|e| e.value),
            team: spec.team.as_ref().map(|t| t.value.clone()),
            requires: spec.requires.iter().map(|r| r.value.clone()).collect(),
        });
        self.requires_at
            .push(spec.requires.iter().map(|r| file.at_value(r)).collect());
        index
    }

    fn priority(&mut self, file: &ParsedFile, spec: &IntentSpec) -> i32 {
        let Some(priority) = &spec.priority else {
            return 0;
        };
        if PRIORITY_RANGE.contains(&priority.value) {
            priority.value
        } else {
            self.d.error(
                file.at_value(priority),
                format!(
                    "priority must be between -10 and 10, not {}",
                    priority.value
                ),
            );
            0
        }
    }

    fn add_patterns(
        &mut self,
        file: &ParsedFile,
        spec: &IntentSpec,
        index: IntentIndex,
        id: &IntentId,
        id_location: &SourceLocation,
    ) {
        let Some(patterns) = &spec.patterns else {
            self.d.error(
                id_location.clone(),
                format!("intent `{id}` has no `match:` patterns"),
            );
            return;
        };
        let location = file.at_value(patterns);
        let mut positive = 0;
        for (locale, block) in patterns.value.blocks() {
            positive += self.add_block(file, index, locale, block);
        }
        if positive == 0 {
            self.d.error(
                location,
                format!(
                    "intent `{id}` has nothing to match: give it `any`, `generic`, `all` or `regex` patterns"
                ),
            );
        }
    }

    /// Registers the patterns of one locale block; returns how many pattern
    /// lists can make the intent match (`not` lists cannot). An empty list
    /// counts: it has an error of its own.
    fn add_block(
        &mut self,
        file: &ParsedFile,
        intent: IntentIndex,
        locale: Option<Locale>,
        block: PatternBlock<'_>,
    ) -> usize {
        let positive = [
            block.any.is_some(),
            block.generic.is_some(),
            block.all.is_some(),
            block.regex.is_some(),
        ]
        .into_iter()
        .filter(|&declared| declared)
        .count();
        for word in self.words(file, block.any, "any") {
            match self.builder.add_any(intent, locale, &word.value) {
                Ok(pattern) => self.record(pattern, file.at_value(word)),
                Err(m) => self.d.error(file.at_value(word), m),
            }
        }
        for word in self.words(file, block.generic, "generic") {
            match self.builder.add_generic(intent, locale, &word.value) {
                Ok(pattern) => self.record(pattern, file.at_value(word)),
                Err(m) => self.d.error(file.at_value(word), m),
            }
        }
        for word in self.words(file, block.not, "not") {
            match self.builder.add_not(intent, locale, &word.value) {
                Ok(pattern) => self.record(pattern, file.at_value(word)),
                Err(m) => self.d.error(file.at_value(word), m),
            }
        }
        for source in self.words(file, block.regex, "regex") {
            match self
                .builder
                .add_regex(Some(intent), None, locale, &source.value)
            {
                Ok((pattern, captures)) => {
                    self.record(pattern, file.at_value(source));
                    self.detail_names.extend(captures);
                }
                Err(m) => self.d.error(file.at_value(source), m),
            }
        }
        if let Some(groups) = block.all {
            if groups.value.is_empty() {
                self.d.error(
                    file.at_value(groups),
                    "empty `all` list: give it groups of words, or remove it",
                );
            }
            for group in &groups.value {
                self.add_group(file, intent, locale, group);
            }
        }
        positive
    }

    fn add_group(
        &mut self,
        file: &ParsedFile,
        intent: IntentIndex,
        locale: Option<Locale>,
        group: &Words,
    ) {
        if group.value.len() < 2 {
            self.d.error(
                file.at_value(group),
                "an all-of group needs at least two words; put a single word under `any`",
            );
            return;
        }
        let words: Vec<&str> = group.value.iter().map(|w| w.value.as_str()).collect();
        match self.builder.add_group(intent, locale, &words) {
            Ok(patterns) => {
                for (pattern, word) in patterns.into_iter().zip(&group.value) {
                    self.record(pattern, file.at_value(word));
                }
            }
            Err(problems) => {
                for (member, message) in problems {
                    self.d.error(file.at_value(&group.value[member]), message);
                }
            }
        }
    }

    /// Keeps where the pattern the builder numbered `pattern` is written.
    fn record(&mut self, pattern: PatternId, location: SourceLocation) {
        let index = pattern as usize;
        if self.pattern_sources.len() <= index {
            self.pattern_sources
                .resize_with(index + 1, PatternSource::unknown);
        }
        self.pattern_sources[index] = PatternSource::new(location);
    }

    /// The words of a pattern list; an empty list is an error.
    fn words<'a>(
        &mut self,
        file: &ParsedFile,
        list: Option<&'a Words>,
        name: &str,
    ) -> &'a [Spanned<String>] {
        let Some(list) = list else { return &[] };
        if list.value.is_empty() {
            self.d.error(
                file.at_value(list),
                format!("empty `{name}` list: give it at least one pattern, or remove it"),
            );
        }
        &list.value
    }

    fn compile_answers(
        &mut self,
        globals: &Globals,
        accepted: &[(IntentIndex, &ParsedFile, &IntentSpec, bool)],
    ) -> Answers {
        let mut answers = Answers::new(&globals.shop);
        let scope = TemplateScope {
            shop_keys: &globals.shop_keys,
            detail_names: &self.detail_names,
            extra: &[],
        };
        let mut problems = Vec::new();
        for &(index, file, spec, builtin) in accepted {
            let id = &spec.id.value;
            let Some(answer) = &spec.answer else {
                problems.push(Diagnostic::error(
                    file.at_value(&spec.id),
                    format!("intent `{id}` has no `answer`"),
                ));
                continue;
            };
            for locale in Locale::ALL {
                let Some(text) = answer.value.get(locale) else {
                    continue;
                };
                if !globals.locales.contains(&locale) {
                    if !builtin {
                        problems.push(Diagnostic::warning(
                            file.at_value(text),
                            format!("answer in `{locale}` is never used: the rule set's `locales` do not include it"),
                        ));
                    }
                    continue;
                }
                for (channel, source, location) in channel_templates(file, text) {
                    if source.trim().is_empty() {
                        problems.push(Diagnostic::error(location, "empty answer"));
                        continue;
                    }
                    let key = AnswerKey {
                        intent: index as usize,
                        intent_id: id,
                        locale,
                        channel,
                    };
                    let added = answers.add(key, source, &location, &scope);
                    if let Err(found) = added {
                        problems.extend(found.into_iter().map(|(l, m)| Diagnostic::error(l, m)));
                    }
                }
            }
            for &locale in &globals.locales {
                if answer.value.get(locale).is_none() {
                    let declared: Vec<&str> = globals.locales.iter().map(|l| l.as_str()).collect();
                    problems.push(Diagnostic::error(
                        file.at_value(answer),
                        format!(
                            "intent `{id}` has no answer in `{locale}` (the rule set's locales are {})",
                            declared.join(", ")
                        ),
                    ));
                }
            }
        }
        for problem in problems {
            self.d.push(problem);
        }
        answers
    }
}

/// The templates of one locale's answer, per channel, with their places.
fn channel_templates<'a>(
    file: &ParsedFile,
    answer: &'a Spanned<AnswerSpec>,
) -> Vec<(Channel, &'a str, SourceLocation)> {
    match &answer.value {
        AnswerSpec::Same(text) => vec![(Channel::Chat, text.as_str(), file.at_value(answer))],
        AnswerSpec::PerChannel { chat, email } => {
            let mut out = vec![(Channel::Chat, chat.value.as_str(), file.at_value(chat))];
            if let Some(email) = email {
                out.push((Channel::Email, email.value.as_str(), file.at_value(email)));
            }
            out
        }
    }
}

fn examples(file: &ParsedFile, spec: &IntentSpec) -> Vec<Example> {
    let Some(examples) = &spec.examples else {
        return Vec::new();
    };
    Locale::ALL
        .into_iter()
        .filter_map(|locale| examples.value.get(locale).map(|list| (locale, list)))
        .flat_map(|(locale, list)| {
            list.value.iter().map(move |text| Example {
                text: text.value.clone(),
                locale,
                location: file.at_value(text),
            })
        })
        .collect()
}

/// Where each locale's text of `value` is written, by locale index.
fn per_locale_location(
    file: &ParsedFile,
    value: Option<&Spanned<super::schema::PerLocale<Spanned<String>>>>,
) -> [Option<SourceLocation>; 2] {
    let mut out: [Option<SourceLocation>; 2] = Default::default();
    if let Some(value) = value {
        for locale in Locale::ALL {
            out[locale.index()] = value.value.get(locale).map(|t| file.at_value(t));
        }
    }
    out
}

/// A per-locale text of an intent (`label:`, `trouble:`), by locale index.
fn per_locale_text(
    value: Option<&Spanned<super::schema::PerLocale<Spanned<String>>>>,
) -> [Option<String>; 2] {
    let mut out: [Option<String>; 2] = Default::default();
    if let Some(value) = value {
        for locale in Locale::ALL {
            out[locale.index()] = value.value.get(locale).map(|t| t.value.clone());
        }
    }
    out
}
