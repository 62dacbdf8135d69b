//! The conversation tests in `conversations/`, against the example rules:
//! `cargo test` runs every one of them.

use std::path::Path;

use madoguchi::conversation_test::TestSuite;

#[test]
fn every_conversation_in_the_repository_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = madoguchi::check::load(&root.join("rules"))
        .unwrap_or_else(|e| panic!("the example rules do not load:\n{e}"))
        .rules;
    let suite = TestSuite::load(&[&root.join("conversations")]).unwrap_or_else(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("the conversation tests do not load:\n{}", lines.join("\n"))
    });
    assert!(suite.len() >= 30, "only {} conversations", suite.len());
    let outcome = suite.run(&rules);
    let mut report = Vec::new();
    outcome
        .write_transcripts(&rules, false, &mut report)
        .expect("writing to memory");
    assert_eq!(
        outcome.failed(),
        0,
        "{} of {} conversations failed:\n{}",
        outcome.failed(),
        suite.len(),
        String::from_utf8_lossy(&report)
    );
}
