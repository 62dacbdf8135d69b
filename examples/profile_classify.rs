//! A fixed classification workload for instruction counts: the benchmark's
//! generated rule set and messages, classified a given number of rounds.
//!
//! ```sh
//! cargo build --profile profiling --example profile_classify
//! valgrind --tool=callgrind --toggle-collect='profile_classify::run' \
//!     target/profiling/examples/profile_classify 2
//! ```
//!
//! Only `run` is counted; a warm-up round before it fills the regex set's
//! lazy DFA cache, so the count divided by 1,000 per round is what one
//! message costs. Unlike wall-clock time it hardly moves when the machine
//! is busy.

#![allow(missing_docs, clippy::pedantic)]

#[path = "../benches/synthetic/mod.rs"]
mod synthetic;

use std::hint::black_box;

use madoguchi::classify::classify;
use madoguchi::rules::RuleSet;

#[inline(never)]
fn warm(rules: &RuleSet, messages: &[String]) {
    for m in messages {
        black_box(classify(rules, black_box(m)).intent());
    }
}

#[inline(never)]
fn run(rules: &RuleSet, messages: &[String], rounds: usize) -> usize {
    let mut matched = 0;
    for _ in 0..rounds {
        for m in messages {
            if black_box(classify(rules, black_box(m)).intent()).is_some() {
                matched += 1;
            }
        }
    }
    matched
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(3, |a| a.parse().expect("rounds: a number"));
    let generated = synthetic::rule_set(1_000, 10);
    let rules = madoguchi::check::from_yaml("synthetic.yaml", &generated.yaml)
        .expect("generated rules are valid")
        .rules;
    let messages = synthetic::messages(&generated, 1_000);
    warm(&rules, &messages);
    let started = std::time::Instant::now();
    let matched = run(&rules, &messages, rounds);
    let elapsed = started.elapsed();
    eprintln!(
        "{matched} matched; {:.0} messages/s",
        (rounds * messages.len()) as f64 / elapsed.as_secs_f64()
    );
}
