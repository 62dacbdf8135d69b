//! The full decision on one core: classification, dialogue policy and the
//! rendered reply, with the example rules.
//!
//! Run with `cargo bench --bench decide`; BENCHMARKS.md records the figure.

#![allow(missing_docs, clippy::pedantic)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use madoguchi::engine::{ConversationState, Turn, decide};
use madoguchi::rules::Channel;

fn decisions(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = madoguchi::check::load(&root.join("rules"))
        .unwrap_or_else(|e| panic!("the example rules do not load:\n{e}"))
        .rules;
    // The rule set's own examples (320 phrasings in both languages, each an
    // answer, a question, a clarification or a handoff), plus messages that
    // match nothing, each as a conversation's first message from a customer
    // whose e-mail is known.
    let mut messages: Vec<String> = rules
        .intents()
        .iter()
        .flat_map(|i| i.examples.iter().map(|e| e.text.clone()))
        .collect();
    messages.extend(
        [
            "明日の天気は？",
            "Can you recommend a good film?",
            "うーん",
            "ok",
        ]
        .iter()
        .map(|m| (*m).to_owned()),
    );
    let state = ConversationState::with_email("customer@example.com");
    let now: jiff::Timestamp = "2026-12-01T11:00:00+09:00".parse().expect("a time");

    let mut group = c.benchmark_group("decide");
    group.throughput(Throughput::Elements(messages.len() as u64));
    group.bench_function("example_rules", |b| {
        b.iter(|| {
            for message in &messages {
                let turn = Turn {
                    quick_reply: None,
                    text: black_box(message),
                    channel: Channel::Chat,
                    now,
                    needs_person: None,
                };
                black_box(decide(&rules, &state, turn).reply.text.len());
            }
        });
    });
    group.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
