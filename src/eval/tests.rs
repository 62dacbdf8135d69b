//! Reading labelled data and computing the figures.

// Figures compared here are rounded or exact by construction.
#![allow(clippy::float_cmp)]

use super::*;

const RULES: &str = r"
locales: [ja, en]
intents:
  - id: order_status
    match: { any: [where is my order, 配送状況] }
    answer: { ja: ok, en: ok }
  - id: refund
    match: { any: [refund] }
    answer: { ja: ok, en: ok }
";

fn rules() -> RuleSet {
    crate::check::from_yaml("t.yaml", RULES).unwrap().rules
}

fn read(text: &str) -> Vec<Labelled> {
    read_labelled("data.jsonl", text.as_bytes()).unwrap()
}

#[test]
fn absent_keys_are_unlabelled_and_null_intent_is_out_of_scope() {
    let items = read(concat!(
        r#"{"text": "a"}"#,
        "\n",
        "\n",
        r#"{"text": "b", "intent": null, "complaint": null}"#,
        "\n",
        r#"{"text": "c", "intent": "order_status", "complaint": true, "lang": "ja"}"#,
        "\n",
    ));
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].intent, Expected::Unlabelled);
    assert_eq!(items[0].complaint, None);
    assert_eq!(items[1].intent, Expected::OutOfScope);
    assert_eq!(items[1].complaint, None);
    assert_eq!(items[2].intent, Expected::Intent("order_status".into()));
    assert_eq!(items[2].complaint, Some(true));
    assert_eq!(items[2].lang, Some(Locale::Ja));
}

#[test]
fn a_bad_line_is_reported_with_its_number() {
    let err = read_labelled(
        "data.jsonl",
        "{\"text\": \"ok\"}\n{\"txt\": 1}\n".as_bytes(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("data.jsonl:2: not a labelled message"),
        "{err}"
    );
    let err = read_labelled(
        "data.jsonl",
        "{\"text\": \"ok\", \"lang\": \"fr\"}\n".as_bytes(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("data.jsonl:1: unknown locale `fr`"),
        "{err}"
    );
}

#[test]
fn intents_are_scored_through_the_map_and_uncovered_names_expect_no_answer() {
    let items = read(concat!(
        r#"{"text": "where is my order", "intent": "order_status"}"#,
        "\n",
        r#"{"text": "I want a refund", "intent": "order_status"}"#,
        "\n",
        r#"{"text": "refund please", "intent": "request_refund"}"#,
        "\n",
        r#"{"text": "what is the weather", "intent": null}"#,
        "\n",
        r#"{"text": "refund the weather", "intent": null}"#,
        "\n",
        r#"{"text": "my card balance", "intent": "balance"}"#,
        "\n",
        r#"{"text": "refund my balance", "intent": "balance"}"#,
        "\n",
    ));
    let map = IntentMap::from([("request_refund".to_owned(), Some("refund".to_owned()))]);
    let report = evaluate(&rules(), &items, &map, || {}).unwrap();
    assert_eq!(report.intent_lines, 7);
    // Right: lines 1, 3, 4, 6.
    assert_eq!(report.accuracy, round(4.0 / 7.0));
    assert_eq!(
        (report.out_of_scope.lines, report.out_of_scope.answered),
        (2, 1)
    );
    assert_eq!(report.out_of_scope.rate, 0.5);
    assert_eq!((report.uncovered.lines, report.uncovered.answered), (2, 1));
    let refund = report
        .intents
        .iter()
        .find(|i| i.intent == "refund")
        .unwrap();
    assert_eq!(refund.support, 1);
    assert_eq!((refund.scores.counts.tp, refund.scores.counts.fp), (1, 3));
    let order = report
        .intents
        .iter()
        .find(|i| i.intent == "order_status")
        .unwrap();
    assert_eq!(
        (
            order.support,
            order.scores.counts.tp,
            order.scores.counts.fn_
        ),
        (2, 1, 1)
    );
    assert_eq!(order.scores.precision, 1.0);
    assert_eq!(order.scores.recall, 0.5);
    let top = &report.confusions[0];
    assert_eq!(
        (top.expected.as_deref(), top.predicted.as_deref(), top.count),
        (None, Some("refund"), 2)
    );
}

#[test]
fn a_map_to_a_missing_intent_is_an_error() {
    let map = IntentMap::from([("x".to_owned(), Some("nope".to_owned()))]);
    let err = evaluate(&rules(), &[], &map, || {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the map sends `x` to `nope`, which is not an intent of the rule set"
    );
}

#[test]
fn complaints_are_scored_overall_and_per_language() {
    let items = read(concat!(
        r#"{"text": "最悪です。二度と使いません", "complaint": true}"#,
        "\n",
        r#"{"text": "配送状況を教えてください", "complaint": false}"#,
        "\n",
        r#"{"text": "This is terrible, I will never order again", "complaint": true}"#,
        "\n",
        r#"{"text": "Thanks, that was helpful", "complaint": false}"#,
        "\n",
        r#"{"text": "where is my order", "complaint": true, "lang": "ja"}"#,
        "\n",
        r#"{"text": "hello"}"#,
        "\n",
    ));
    let report = evaluate(&rules(), &items, &IntentMap::new(), || {}).unwrap();
    let all = report.complaint.unwrap();
    assert_eq!(
        (all.counts.tp, all.counts.fp, all.counts.fn_, all.counts.tn),
        (2, 0, 1, 2)
    );
    assert_eq!(all.precision, 1.0);
    assert_eq!(all.recall, round(2.0 / 3.0));
    assert_eq!(all.f1, 0.8);
    let ja = report.complaint_by_locale[&Locale::Ja];
    assert_eq!(
        (ja.counts.tp, ja.counts.fn_, ja.counts.tn),
        (1, 1, 1),
        "the `lang` field wins over detection"
    );
    assert_eq!(report.complaint_by_locale[&Locale::En].counts.tp, 1);
    assert!(report.safety.is_none());
    assert_eq!(report.intent_lines, 0);
}

#[test]
fn counts_with_nothing_predicted_score_zero_not_nan() {
    let counts = Counts::default();
    assert_eq!(
        (counts.precision(), counts.recall(), counts.f1()),
        (0.0, 0.0, 0.0)
    );
}
