//! A fixed loading workload for instruction counts: the benchmark's
//! generated rule set, parsed, checked and compiled once.
//!
//! Only `run` is counted, not generating the YAML text. Loading uses both
//! cores; callgrind runs threads one at a time, so count them apart and add
//! the worker threads (`rayon_core::registry::ThreadBuilder::run`):
//!
//! ```sh
//! cargo build --profile profiling --example profile_load
//! valgrind --tool=callgrind --separate-threads=yes \
//!     --toggle-collect='profile_load::run' \
//!     --toggle-collect='rayon_core::registry::ThreadBuilder::run' \
//!     target/profiling/examples/profile_load 10000
//! ```
//!
//! The main thread's count is work nothing runs beside; the workers'
//! counts are shared between the cores.
//!
//! With `--write PATH` it writes the generated rule set to a file instead,
//! for measuring `madoguchi check` and `classify` on it:
//!
//! ```sh
//! target/release/examples/profile_load 10000 --write /tmp/synthetic-10000.yaml
//! ```

#![allow(missing_docs, clippy::pedantic)]

// Only the rule set is used here, not the messages.
#[allow(dead_code)]
#[path = "../benches/synthetic/mod.rs"]
mod synthetic;

use std::hint::black_box;

use madoguchi::rules::RuleSet;

/// Returns the rule set so that dropping it is not counted, as in the
/// benchmark.
#[inline(never)]
fn run(yaml: &str) -> RuleSet {
    madoguchi::check::from_yaml("synthetic.yaml", black_box(yaml))
        .unwrap_or_else(|e| panic!("generated rules are invalid:\n{e}"))
        .rules
}

fn main() {
    let intents: usize = std::env::args()
        .nth(1)
        .map_or(10_000, |a| a.parse().expect("intents: a number"));
    let generated = synthetic::rule_set(intents, 10);
    if let Some(path) = std::env::args().skip_while(|a| a != "--write").nth(1) {
        std::fs::write(&path, &generated.yaml).expect("writing the rule set");
        return;
    }
    let started = std::time::Instant::now();
    let rules = run(&generated.yaml);
    let elapsed = started.elapsed();
    eprintln!(
        "{} intents loaded in {:.3} s",
        rules.intents().len(),
        elapsed.as_secs_f64()
    );
}
