//! Matching behaviour, through small rule sets.

// Figures compared here are rounded or exact by construction.
#![allow(clippy::float_cmp)]

use crate::classify::{Classification, classify};
use crate::rules::RuleSet;

const RULES: &str = r"
locales: [ja, en]
details:
  order_number: '\b\d{4}-\d{4}\b'
  email: '[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}'
intents:
  - id: cancel_order
    match:
      any: [キャンセル]
      all: [[注文, 取り消]]
      not: [返品]
      en:
        any: [cancel*]
        all: [[order, stop]]
    answer: { ja: キャンセルします, en: Cancelling }
  - id: returns
    match:
      any: [返品, 返送]
      en:
        any: [return*, send back]
    answer: { ja: 返品について, en: About returns }
  - id: shipping
    match:
      any: [配送, 発送]
      en:
        any: [ship, shipping, delivery]
    answer: { ja: 配送について, en: About shipping }
  - id: password
    match:
      any: [パスワード, パスワードを忘れ]
      en:
        any: [password, forgot my password]
    answer: { ja: パスワード, en: Password }
  - id: points
    priority: 2
    match:
      ja:
        any: [ポイント]
      en:
        any: [points]
    answer: { ja: ポイント, en: Points }
  - id: coupon
    match:
      ja:
        any: [ポイント]
      en:
        any: [coupon]
    answer: { ja: クーポン, en: Coupons }
  - id: track
    match:
      regex: ['track(ing)? (number|no) (?P<tracking>\d{12})']
    answer: { ja: 追跡, en: 'Tracking {{ details.tracking }}' }
";

fn rules() -> RuleSet {
    crate::check::from_yaml("t.yaml", RULES)
        .unwrap_or_else(|e| panic!("{e}"))
        .rules
}

fn intent_of(rules: &RuleSet, text: &str) -> Option<String> {
    classify(rules, text)
        .intent()
        .map(|i| rules.intent(i).id.to_string())
}

fn run(rules: &RuleSet, text: &str) -> Classification {
    classify(rules, text)
}

#[test]
fn keywords_match_across_kana_and_width_variants() {
    let rules = rules();
    for text in ["キャンセルしたい", "きゃんせるしたい", "ｷｬﾝｾﾙしたい"]
    {
        assert_eq!(
            intent_of(&rules, text).as_deref(),
            Some("cancel_order"),
            "{text}"
        );
    }
}

#[test]
fn an_all_group_counts_only_when_every_word_appears() {
    let rules = rules();
    assert_eq!(
        intent_of(&rules, "注文を取り消したい").as_deref(),
        Some("cancel_order")
    );
    assert_eq!(intent_of(&rules, "注文したい"), None);
    assert_eq!(
        intent_of(&rules, "please stop my order").as_deref(),
        Some("cancel_order")
    );
}

#[test]
fn a_not_word_vetoes_the_intent_and_shows_in_the_evidence() {
    let rules = rules();
    let result = run(&rules, "返品のキャンセル");
    assert_eq!(
        result.intent().map(|i| rules.intent(i).id.as_str()),
        Some("returns")
    );
    let report = serde_json::to_value(result.report(&rules, "返品のキャンセル", false)).unwrap();
    let vetoes: Vec<_> = report["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "not")
        .collect();
    assert_eq!(vetoes.len(), 1);
    assert_eq!(vetoes[0]["intent"], "cancel_order");
    assert_eq!(vetoes[0]["text"], "返品");
}

#[test]
fn latin_keywords_match_whole_words_unless_written_with_a_star() {
    let rules = rules();
    assert_eq!(
        intent_of(&rules, "our relationship is over"),
        None,
        "ship inside relationship"
    );
    assert_eq!(
        intent_of(&rules, "when do you ship").as_deref(),
        Some("shipping")
    );
    assert_eq!(
        intent_of(&rules, "I cancelled it yesterday").as_deref(),
        Some("cancel_order")
    );
    assert_eq!(
        intent_of(&rules, "I want to return this").as_deref(),
        Some("returns")
    );
    assert_eq!(
        intent_of(&rules, "returning the item").as_deref(),
        Some("returns")
    );
}

#[test]
fn locale_blocks_count_only_in_their_locale() {
    let rules = rules();
    // `cancel*` is in the `en:` block: it does not count in a Japanese message.
    assert_eq!(intent_of(&rules, "注文をcancelしたいのですが"), None);
    assert_eq!(
        intent_of(&rules, "cancel my order").as_deref(),
        Some("cancel_order")
    );
}

#[test]
fn priority_breaks_a_tie_between_equal_evidence() {
    let rules = rules();
    assert_eq!(
        intent_of(&rules, "ポイントについて").as_deref(),
        Some("points")
    );
}

#[test]
fn equal_evidence_is_too_close_to_call_and_names_the_runner_up() {
    let rules = rules();
    let result = run(&rules, "返品と配送について");
    let best = result.outcome.best().unwrap();
    let runner_up = result.outcome.runner_up().expect("a runner-up");
    assert_ne!(best.intent, runner_up.intent);
    let pair = [
        rules.intent(best.intent).id.as_str(),
        rules.intent(runner_up.intent).id.as_str(),
    ];
    assert!(
        pair.contains(&"returns") && pair.contains(&"shipping"),
        "{pair:?}"
    );
}

#[test]
fn a_keyword_inside_a_longer_keyword_of_the_same_intent_counts_once() {
    let rules = rules();
    let result = run(&rules, "パスワードを忘れました");
    let best = result.outcome.best().unwrap();
    assert_eq!(best.evidence.len(), 1, "{:?}", best.evidence);
}

#[test]
fn a_keyword_inside_another_intents_keyword_still_counts_for_it() {
    // Overlapping search: `returns` keyword `返送` is not hidden by longer
    // matches elsewhere, and each intent sees its own keywords.
    let rules = rules();
    let result = run(&rules, "返送の配送");
    let ids: Vec<&str> = result
        .outcome
        .candidates
        .iter()
        .map(|c| rules.intent(c.intent).id.as_str())
        .collect();
    assert!(
        ids.contains(&"returns") && ids.contains(&"shipping"),
        "{ids:?}"
    );
}

#[test]
fn more_evidence_scores_higher() {
    let rules = rules();
    let one = run(&rules, "キャンセル").outcome.best().unwrap().score;
    let two = run(&rules, "注文を取り消してキャンセル")
        .outcome
        .best()
        .unwrap()
        .score;
    assert!(two > one, "{two} > {one}");
    assert!(one > 0.5 && two < 1.0);
}

#[test]
fn details_come_from_rule_set_extractors_and_regex_captures_as_written() {
    let rules = rules();
    let text = "注文１２３４－５６７８をキャンセル、連絡先はＴａｒｏ@Example.com";
    let result = run(&rules, text);
    let details = result.details(text);
    assert_eq!(details["order_number"], "1234-5678");
    assert_eq!(details["email"], "Taro@Example.com");

    let text = "Tracking number 123456789012 please";
    let result = run(&rules, text);
    assert_eq!(
        result.intent().map(|i| rules.intent(i).id.as_str()),
        Some("track")
    );
    assert_eq!(result.details(text)["tracking"], "123456789012");
}

#[test]
fn evidence_points_at_what_the_customer_wrote() {
    let rules = rules();
    let text = "すみません、ｷｬﾝｾﾙしたいです";
    let report = serde_json::to_value(run(&rules, text).report(&rules, text, true)).unwrap();
    let evidence = &report["evidence"][0];
    assert_eq!(evidence["pattern"], "キャンセル");
    assert_eq!(evidence["text"], "ｷｬﾝｾﾙ");
    assert_eq!(evidence["start"], 6);
    assert_eq!(evidence["end"], 11);
    assert_eq!(evidence["source"], "t.yaml:9:13");
    assert_eq!(report["answer"], "キャンセルします");
}

#[test]
fn a_message_with_nothing_to_match_falls_back() {
    let rules = rules();
    let text = "what's the weather like tomorrow";
    let report = serde_json::to_value(run(&rules, text).report(&rules, text, true)).unwrap();
    assert_eq!(report["intent"], serde_json::Value::Null);
    assert_eq!(report["score"], 0.0);
    assert_eq!(report["answer"], serde_json::Value::Null);
    assert_eq!(report["locale"], "en");
}

#[test]
fn a_message_without_letters_is_read_in_the_default_locale() {
    let rules = rules();
    assert_eq!(run(&rules, "1234-5678").locale, crate::text::Locale::Ja);
}

const KANA: &str = r"
locales: [ja]
intents:
  - id: payment_error
    match: { any: [エラー] }
    answer: { ja: エラー }
  - id: greeting
    match: { any: [やあ] }
    answer: { ja: こんにちは }
  - id: password
    match: { any: [パスワード] }
    answer: { ja: パスワード }
  - id: call
    match: { all: [[電話, 話したい]] }
    answer: { ja: 電話 }
  - id: human
    match: { any: [オペレーター] }
    answer: { ja: おつなぎします }
  - id: thanks
    match: { any: [ありがとう] }
    answer: { ja: どういたしまして }
";

#[test]
fn kana_keywords_do_not_match_inside_inflections_or_after_small_kana() {
    let rules = crate::check::from_yaml("t.yaml", KANA).unwrap().rules;
    assert_eq!(
        intent_of(&rules, "色を変えられますか"),
        None,
        "えら in 変えられ is not エラー"
    );
    assert_eq!(intent_of(&rules, "じゃあね"), None, "ゃあ is not やあ");
    assert_eq!(
        intent_of(&rules, "決済でエラーが出ます").as_deref(),
        Some("payment_error")
    );
    assert_eq!(
        intent_of(&rules, "やあ、こんにちは").as_deref(),
        Some("greeting")
    );
    assert_eq!(
        intent_of(&rules, "新パスワードが使えない").as_deref(),
        Some("password")
    );
    assert_eq!(
        intent_of(&rules, "新しいぱすわーどが使えない").as_deref(),
        Some("password")
    );
}

#[test]
fn words_of_an_all_group_must_be_found_apart() {
    let rules = crate::check::from_yaml("t.yaml", KANA).unwrap().rules;
    assert_eq!(intent_of(&rules, "電話したい"), None);
    assert_eq!(
        intent_of(&rules, "電話したい、いや電話で話したい").as_deref(),
        Some("call"),
        "a later place where the words stand apart counts"
    );
    assert_eq!(
        intent_of(&rules, "電話で担当と話したい").as_deref(),
        Some("call")
    );
}

#[test]
fn strong_evidence_against_weaker_evidence_is_not_too_close_to_call() {
    let yaml = r"
locales: [en]
intents:
  - id: refund
    match: { any: [refund, money back, reimburse] }
    answer: { en: ok }
  - id: returns
    match: { any: [return, send back] }
    answer: { en: ok }
";
    let rules = crate::check::from_yaml("t.yaml", yaml).unwrap().rules;
    // Both score above 0.85, but refund has half as much evidence again.
    let clear = run(
        &rules,
        "refund or money back or reimburse, else I send back the return",
    );
    assert!(clear.outcome.candidates[1].score > 0.85);
    assert!(clear.outcome.runner_up().is_none());
    let close = run(&rules, "refund or return");
    assert!(close.outcome.runner_up().is_some());
}

#[test]
fn forgetting_the_search_state_keeps_every_match_and_detail() {
    let mut rules = rules();
    let text = "Tracking number 123456789012 please";
    // Fill the caches and compile the regex, then drop them all.
    let before = run(&rules, text);
    rules.forget_search_state();
    let after = run(&rules, text);
    assert_eq!(after.intent(), before.intent());
    assert_eq!(after.details(text)["tracking"], "123456789012");
    assert_eq!(
        intent_of(&rules, "注文をキャンセルしたい").as_deref(),
        Some("cancel_order")
    );
}

const GENERIC_RULES: &str = r"
locales: [ja, en]
matching:
  context: [order*, parcel*, 注文, 商品]
  unknown_words: 2
intents:
  - id: return_item
    match:
      generic: [返品, 返却]
      any: [返品したい]
      en:
        generic: [return*]
        any: [send it back]
    answer: { ja: 返品について, en: About returns }
    examples:
      en: [how do I return something, can I return it if I change my mind]
      ja: [返品はできますか]
  - id: points
    match:
      generic: [ポイント]
      en:
        generic: [points]
    answer: { ja: ポイント, en: Points }
    examples:
      en: [how many points do I have]
";

fn generic_rules() -> RuleSet {
    crate::check::from_yaml("t.yaml", GENERIC_RULES)
        .unwrap_or_else(|e| panic!("{e}"))
        .rules
}

/// A generic keyword counts in the shop's context, beside other evidence,
/// and in a message that says little the intent does not know.
#[test]
fn a_generic_keyword_counts_in_the_shops_context_or_a_message_that_says_little_else() {
    let rules = generic_rules();
    for (text, intent) in [
        ("return", "return_item"),
        ("how do I return something?", "return_item"),
        ("can I return the parcel that came today", "return_item"),
        (
            "I want to return this and send it back to you",
            "return_item",
        ),
        ("how many points do I have?", "points"),
        ("返品はできますか", "return_item"),
        ("注文した商品を返品したい", "return_item"),
    ] {
        assert_eq!(intent_of(&rules, text).as_deref(), Some(intent), "{text}");
    }
}

/// Out of the shop's context, words the intent does not know put a lone
/// generic keyword out: it shows with weight 0 and the unknown words.
#[test]
fn a_generic_keyword_alone_among_unknown_words_does_not_count() {
    let rules = generic_rules();
    for text in [
        "when does halley's comet return to the inner solar system",
        "how many points is the letter q worth in scrabble",
        "図書館の本を返却する期限を延長したい",
    ] {
        assert_eq!(intent_of(&rules, text), None, "{text}");
    }
    let text = "when does halley's comet return to the inner solar system";
    let report = serde_json::to_value(run(&rules, text).report(&rules, text, false)).unwrap();
    let generic: Vec<_> = report["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "generic")
        .collect();
    assert_eq!(generic.len(), 1);
    assert_eq!(generic[0]["intent"], "return_item");
    assert_eq!(generic[0]["weight"], 0.0);
    let unknown: Vec<&str> = report["unknown_words"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert!(
        unknown.contains(&"comet") && unknown.contains(&"solar"),
        "{unknown:?}"
    );
}

/// The threshold is the rule set's: with a high one, the same message
/// counts.
#[test]
fn the_unknown_word_threshold_is_the_rule_sets() {
    let lenient = GENERIC_RULES.replace("unknown_words: 2", "unknown_words: 20");
    let rules = crate::check::from_yaml("t.yaml", &lenient)
        .unwrap_or_else(|e| panic!("{e}"))
        .rules;
    assert_eq!(
        intent_of(
            &rules,
            "when does halley's comet return to the inner solar system"
        )
        .as_deref(),
        Some("return_item")
    );
}
