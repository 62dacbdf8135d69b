//! Mining on a small rule set: grouping in both languages, the two kinds
//! of suggestion, and a replay that flips decisions.

use super::*;

const RULES: &str = r"
locales: [ja, en]
intents:
  - id: return_item
    label: { ja: 返品, en: Returns }
    match:
      any: [return, 返品]
    examples:
      ja: [返品したいです]
      en: [I want to return this]
    answer:
      ja: 返品は30日以内に承ります。
      en: Returns are accepted within 30 days.
  - id: shipping_fee
    label: { ja: 送料, en: Shipping fee }
    match:
      any: [shipping fee, 送料]
    answer:
      ja: 送料は550円です。
      en: Shipping is 550 yen.
";

fn rules() -> RuleSet {
    crate::check::from_yaml("t.yaml", RULES)
        .unwrap_or_else(|e| panic!("{e}"))
        .rules
}

fn message(conversation: &str, seq: i64, text: &str) -> Message {
    Message {
        conversation_id: conversation.to_owned(),
        seq,
        text: text.to_owned(),
        channel: Channel::Chat,
        at: 1_764_550_800_000 + seq,
        intent: None,
        action: Some(Action::Fallback),
    }
}

fn groups_of(texts: &[&str]) -> Vec<Vec<usize>> {
    let parsed: Vec<features::Parsed> = texts
        .iter()
        .map(|t| features::parse(t, &normalize(t)))
        .collect();
    let sets: Vec<&[u64]> = parsed.iter().map(|p| p.features.as_slice()).collect();
    group::group(&sets, Settings::default().threshold)
}

#[test]
fn japanese_near_duplicates_are_grouped_and_unrelated_kept_apart() {
    let groups = groups_of(&[
        "ギフト券は使えますか",
        "営業時間を教えてください",
        "ぎふと券って使えますか？",
        "ギフト券は使えますか。",
    ]);
    assert_eq!(groups, vec![vec![0, 2, 3], vec![1]]);
}

#[test]
fn english_near_duplicates_are_grouped_and_unrelated_kept_apart() {
    let groups = groups_of(&[
        "Do you sell gift cards?",
        "What time do you open on Sunday?",
        "do you sell gift cards",
        "Can I buy a gift card?",
    ]);
    assert_eq!(groups, vec![vec![0, 2, 3], vec![1]]);
}

#[test]
fn a_group_no_intent_is_close_to_becomes_a_new_intent() {
    let rules = rules();
    let messages = vec![
        message("c1", 1, "Do you sell gift cards?"),
        message("c2", 1, "do you sell gift cards"),
        message("c3", 1, "Can I buy a gift card?"),
        message("c4", 1, "What time do you open on Sunday?"),
    ];
    let found = suggest(&rules, &messages, &Settings::default());
    assert_eq!(found.len(), 1, "{found:#?}");
    let s = &found[0];
    assert_eq!(s.kind, Kind::Intent);
    assert_eq!(s.name.as_deref(), Some("gift_card"));
    assert_eq!(s.keywords, vec!["gift card*".to_owned()]);
    assert_eq!((s.support, s.conversations), (3, 3));
    assert_eq!(s.locale, Some(Locale::En));
    // The same messages give the same id.
    assert_eq!(suggest(&rules, &messages, &Settings::default())[0].id, s.id);
}

#[test]
fn a_group_close_to_an_intent_becomes_keywords_for_it() {
    let rules = rules();
    let messages = vec![
        message("c1", 1, "返却したいです"),
        message("c2", 1, "返却したいのですが"),
        message("c3", 1, "ギフト券は使えますか"),
    ];
    let found = suggest(&rules, &messages, &Settings::default());
    assert_eq!(found.len(), 1, "{found:#?}");
    let s = &found[0];
    assert_eq!(s.kind, Kind::Keyword);
    assert_eq!(s.intent.as_deref(), Some("return_item"));
    assert_eq!(s.keywords, vec!["返却".to_owned()]);
    assert_eq!(s.support, 2);
    assert_eq!(s.locale, Some(Locale::Ja));
}

#[test]
fn matched_and_acknowledged_messages_are_not_mined() {
    let rules = rules();
    let mut answered = message("c1", 1, "Do you sell gift cards?");
    answered.intent = Some("shipping_fee".to_owned());
    answered.action = Some(Action::Answer);
    let mut to_a_person = message("c2", 1, "Do you sell gift cards?");
    to_a_person.action = Some(Action::Acknowledge);
    let found = suggest(&rules, &[answered, to_a_person], &Settings::default());
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_replay_shows_the_decisions_that_flip_and_the_tests_it_breaks() {
    let rules = rules();
    let messages = vec![
        message("c1", 1, "返却したいです"),
        message("c2", 1, "返却したいのですが"),
        message("c3", 1, "送料はいくらですか"),
    ];
    let found = suggest(&rules, &messages, &Settings::default());
    let suite = TestSuite::from_yaml(
        "t.yaml",
        "conversations:\n  - name: returning is not understood\n    turns:\n      - say: 返却したいです\n        expect: { action: fallback }\n  - name: shipping\n    turns:\n      - say: 送料はいくらですか\n        expect: { intent: shipping_fee }\n",
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let replay = replay_suggestion(&rules, &found[0], &messages, Some(&suite))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(replay.replayed, 3);
    let flipped: Vec<(&str, Option<&str>, &str)> = replay
        .flipped
        .iter()
        .map(|f| {
            assert_eq!(f.before.intent, None);
            assert_eq!(f.before.outcome, "fallback");
            (
                f.text.as_str(),
                f.after.intent.as_deref(),
                f.after.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        flipped,
        vec![
            ("返却したいです", Some("return_item"), "answer"),
            ("返却したいのですが", Some("return_item"), "answer"),
        ]
    );
    assert_eq!(replay.conversation_tests.passed, 1);
    let failed = &replay.conversation_tests.failed;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].name, "returning is not understood");
    assert!(failed[0].regression);
    assert!(
        failed[0].message.contains("expected fallback"),
        "{}",
        failed[0].message
    );
}

#[test]
fn an_addition_for_an_unknown_intent_is_refused() {
    let err = rules()
        .with_addition(&Addition::Keywords {
            intent: "nope".to_owned(),
            keywords: vec!["x".to_owned()],
        })
        .expect_err("unknown intent");
    assert!(err.to_string().contains("nope"), "{err}");
}
