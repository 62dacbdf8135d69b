//! Rough per-stage timing of classification on the generated rule set.
#[path = "../benches/synthetic/mod.rs"]
mod synthetic;
use std::hint::black_box;
use std::time::Instant;
fn main() {
    let g = synthetic::rule_set(1000, 10);
    let rules = madoguchi::rules::RuleSet::from_yaml("s.yaml", &g.yaml)
        .unwrap()
        .rules;
    let msgs = synthetic::messages(&g, 1000);
    let norms: Vec<_> = msgs.iter().map(|m| madoguchi::text::normalize(m)).collect();
    let cands: usize = msgs
        .iter()
        .zip(&norms)
        .map(|(m, nm)| {
            rules
                .matcher()
                .find(nm, m, madoguchi::text::Locale::En)
                .candidates
                .len()
        })
        .sum();
    println!(
        "candidates per message: {:.1}",
        cands as f64 / msgs.len() as f64
    );
    println!("sample: {}", msgs[0]);
    println!("sample: {}", msgs[1]);
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..200 {
            for m in &msgs {
                black_box(madoguchi::text::normalize(m));
            }
        }
        let n = t.elapsed().as_nanos() as f64 / 200_000.0;
        let t = Instant::now();
        for _ in 0..200 {
            for (m, nm) in msgs.iter().zip(&norms) {
                black_box(rules.matcher().find(nm, m, madoguchi::text::Locale::En));
            }
        }
        let f = t.elapsed().as_nanos() as f64 / 200_000.0;
        let t = Instant::now();
        for _ in 0..200 {
            for (m, nm) in msgs.iter().zip(&norms) {
                black_box(rules.sentiment().score(nm, m));
            }
        }
        let s = t.elapsed().as_nanos() as f64 / 200_000.0;
        println!("normalize {n:.0} ns, match {f:.0} ns, sentiment {s:.0} ns");
    }
}
#[allow(dead_code)]
fn unused() {}
