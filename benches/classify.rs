//! Classification throughput: normalize, match, score, on one core.
//!
//! Run with `cargo bench --bench classify`; BENCHMARKS.md records the
//! figures and how to read them.

#![allow(missing_docs, clippy::pedantic)]

mod synthetic;

use std::hint::black_box;
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use madoguchi::classify::classify;
use madoguchi::rules::RuleSet;
use madoguchi::text::{Locale, normalize};

const BATCH: usize = 1_000;

fn load(yaml: &str) -> RuleSet {
    madoguchi::check::from_yaml("synthetic.yaml", yaml)
        .unwrap_or_else(|e| panic!("generated rules are invalid:\n{e}"))
        .rules
}

fn classification(c: &mut Criterion) {
    let generated = synthetic::rule_set(1_000, 10);
    let rules = load(&generated.yaml);
    let messages = synthetic::messages(&generated, BATCH);
    let matched = messages
        .iter()
        .filter(|m| classify(&rules, m).intent().is_some())
        .count();
    assert!(
        matched > BATCH / 2,
        "the generated messages should mostly match ({matched})"
    );

    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("1000_intents", |b| {
        b.iter(|| {
            for message in &messages {
                black_box(classify(&rules, black_box(message)).intent());
            }
        });
    });
    group.bench_function("1000_intents_without_sentiment", |b| {
        b.iter(|| {
            for message in &messages {
                let normalized = normalize(black_box(message));
                let locale = normalized.detected_locale().unwrap_or(Locale::Ja);
                let terms = rules.terms().find(&normalized, message);
                let outcome = rules.matcher().find(&normalized, &terms, locale);
                black_box(outcome.best().map(|c| c.intent));
            }
        });
    });
    group.bench_function("1000_intents_sentiment_only", |b| {
        let normalized: Vec<_> = messages.iter().map(|m| normalize(m)).collect();
        let terms: Vec<_> = messages
            .iter()
            .zip(&normalized)
            .map(|(m, n)| rules.terms().find(n, m))
            .collect();
        b.iter(|| {
            for ((message, text), found) in messages.iter().zip(&normalized).zip(&terms) {
                black_box(rules.sentiment().score(text, message, found).complaint);
            }
        });
    });
    group.bench_function("1000_intents_with_details", |b| {
        b.iter(|| {
            for message in &messages {
                let result = classify(&rules, black_box(message));
                black_box(result.details(message));
            }
        });
    });
    if let Ok(loaded) = madoguchi::check::load(Path::new("rules")) {
        let shop = loaded.rules;
        group.bench_function("example_rules", |b| {
            b.iter(|| {
                for message in &messages {
                    black_box(classify(&shop, black_box(message)).intent());
                }
            });
        });
    }
    group.bench_function("normalize_only", |b| {
        b.iter(|| {
            for message in &messages {
                black_box(normalize(black_box(message)));
            }
        });
    });
    group.finish();
}

/// The automaton kind at 10,000 keywords: the crate warns that a DFA pays
/// off only for small pattern sets, so measure rather than force one.
fn automaton_kinds(c: &mut Criterion) {
    let generated = synthetic::rule_set(1_000, 10);
    let keywords: Vec<String> = generated
        .keywords
        .iter()
        .flat_map(|(ja, en)| ja.iter().chain(en))
        .map(|k| normalize(k).as_str().to_owned())
        .collect();
    let texts: Vec<String> = synthetic::messages(&generated, BATCH)
        .iter()
        .map(|m| normalize(m).as_str().to_owned())
        .collect();
    let mut group = c.benchmark_group("automaton");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (name, kind) in [
        ("auto", None),
        ("contiguous_nfa", Some(AhoCorasickKind::ContiguousNFA)),
        ("dfa", Some(AhoCorasickKind::DFA)),
    ] {
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(kind)
            .build(&keywords)
            .expect("automaton");
        group.bench_function(name, |b| {
            b.iter(|| {
                for text in &texts {
                    black_box(automaton.find_overlapping_iter(text.as_str()).count());
                }
            });
        });
    }
    group.finish();
}

/// Loading and compiling rule sets from YAML text (parse, check, build the
/// automaton and regexes, compile templates, check every example).
fn loading(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    for intents in [1_000, 10_000] {
        let generated = synthetic::rule_set(intents, 10);
        group.bench_function(format!("{intents}_intents"), |b| {
            b.iter_batched(
                || generated.yaml.clone(),
                |yaml| load(&yaml),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, classification, automaton_kinds, loading);
criterion_main!(benches);
