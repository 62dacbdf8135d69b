//! Loading rule sets: every kind of problem is reported at its place.

use super::*;

pub(super) fn load(yaml: &str) -> Result<Loaded, LoadError> {
    crate::check::from_yaml("t.yaml", yaml)
}

/// Every diagnostic of a rule set that must fail, as printed.
pub(super) fn problems(yaml: &str) -> Vec<String> {
    match load(yaml) {
        Ok(_) => panic!("the rule set loaded, but it should not have"),
        Err(err) => err.diagnostics.iter().map(ToString::to_string).collect(),
    }
}

fn warnings(yaml: &str) -> Vec<String> {
    let loaded = load(yaml).unwrap_or_else(|e| panic!("rule set failed:\n{e}"));
    let mut all = loaded.warnings.clone();
    all.extend(crate::check::lint_patterns(&loaded.rules));
    all.iter().map(ToString::to_string).collect()
}

/// The ids of a loaded rule set's intents, in order.
fn intent_ids(loaded: &Loaded) -> Vec<&str> {
    loaded
        .rules
        .intents()
        .iter()
        .map(|i| i.id.as_str())
        .collect()
}

pub(super) fn assert_has(found: &[String], expected: &str) {
    assert!(
        found.iter().any(|p| p.contains(expected)),
        "expected a problem containing {expected:?}, got:\n{}",
        found.join("\n")
    );
}

const VALID: &str = r"
locales: [en]
shop:
  name: Hanamaru
intents:
  - id: refund
    match:
      any: [refund*, money back]
    answer:
      en: Refunds reach your card within 5 days. - {{ shop.name }}
    examples:
      en: [I want a refund]
";

#[test]
fn a_valid_rule_set_loads_with_the_built_in_human_intent() {
    let loaded = load(VALID).unwrap();
    let ids = intent_ids(&loaded);
    assert_eq!(ids, ["refund", "human", "supervisor"]);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn yaml_syntax_errors_point_at_line_and_column() {
    let found = problems("intents:\n  - id: a\n    match:\n      any: [x\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("t.yaml:4:"), "{}", found[0]);
    assert_has(&found, "unclosed bracket");
}

#[test]
fn unknown_keys_are_rejected_with_the_expected_ones() {
    let found = problems("intents:\n  - id: a\n    matches:\n      any: [x]\n");
    assert!(
        found[0].starts_with("t.yaml:3:5: unknown field `matches`"),
        "{}",
        found[0]
    );
}

#[test]
fn duplicate_intent_ids_name_the_first_declaration() {
    let yaml = r"
locales: [en]
intents:
  - id: refund
    match: { any: [refund] }
    answer: { en: ok }
  - id: refund
    match: { any: [money back] }
    answer: { en: ok }
";
    let found = problems(yaml);
    assert_eq!(
        found,
        ["t.yaml:7:9: duplicate intent id `refund` (first declared at t.yaml:4:9)"]
    );
}

#[test]
fn invalid_regexes_say_what_is_wrong() {
    let yaml = "locales: [en]\nintents:\n  - id: a\n    match:\n      regex: ['(?P<n>\\d+']\n    answer: { en: ok }\n";
    let found = problems(yaml);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("t.yaml:5:15: invalid regex"),
        "{}",
        found[0]
    );
    assert_has(&found, "unclosed group");
}

#[test]
fn a_regex_that_can_match_empty_text_is_rejected() {
    for regex in ["x*", "\\\\b", "(?P<n>\\\\d*)\\\\b"] {
        let yaml = format!(
            "locales: [en]\nintents:\n  - id: a\n    match:\n      regex: [\"{regex}\"]\n    answer: {{ en: ok }}\n"
        );
        assert_has(&problems(&yaml), "can match an empty text");
    }
}

#[test]
fn empty_pattern_lists_are_errors() {
    let yaml = r"
locales: [en]
intents:
  - id: a
    match:
      any: []
      en:
        not: []
    answer: { en: ok }
";
    let found = problems(yaml);
    assert_has(&found, "t.yaml:6:12: empty `any` list");
    assert_has(&found, "t.yaml:8:14: empty `not` list");
    assert_eq!(found.len(), 2, "{found:?}");
}

#[test]
fn an_intent_with_only_not_words_has_nothing_to_match() {
    let yaml = "locales: [en]\nintents:\n  - id: a\n    match:\n      not: [refund]\n    answer: { en: ok }\n";
    assert_eq!(
        problems(yaml),
        [
            "t.yaml:5:7: intent `a` has nothing to match: give it `any`, `generic`, `all` or `regex` patterns"
        ]
    );
}

#[test]
fn a_missing_match_block_is_an_error() {
    let found = problems("locales: [en]\nintents:\n  - id: a\n    answer: { en: ok }\n");
    assert_eq!(found, ["t.yaml:3:9: intent `a` has no `match:` patterns"]);
}

#[test]
fn an_all_group_of_one_word_is_an_error() {
    let yaml = "locales: [en]\nintents:\n  - id: a\n    match:\n      all: [[order]]\n    answer: { en: ok }\n";
    assert_has(
        &problems(yaml),
        "t.yaml:5:13: an all-of group needs at least two words",
    );
}

#[test]
fn keywords_that_normalize_to_nothing_are_errors() {
    let yaml = "locales: [en]\nintents:\n  - id: a\n    match:\n      any: ['「」', ok]\n    answer: { en: ok }\n";
    assert_has(
        &problems(yaml),
        "t.yaml:5:13: `「」` is empty once normalized",
    );
}

#[test]
fn answers_missing_for_a_declared_locale_are_errors() {
    let yaml = "locales: [ja, en]\nintents:\n  - id: a\n    match: { any: [refund] }\n    answer:\n      en: ok\n";
    let found = problems(yaml);
    assert_has(
        &found,
        "t.yaml:6:7: intent `a` has no answer in `ja` (the rule set's locales are ja, en)",
    );
}

#[test]
fn an_intent_without_answer_is_an_error() {
    let found = problems("locales: [en]\nintents:\n  - id: a\n    match: { any: [refund] }\n");
    assert_eq!(found, ["t.yaml:3:9: intent `a` has no `answer`"]);
}

#[test]
fn template_syntax_errors_point_into_the_block_scalar() {
    let yaml = r"locales: [en]
intents:
  - id: a
    match: { any: [refund] }
    answer:
      en:
        chat: ok
        email: |
          Dear customer,
          {% if details.x %}unclosed
";
    let found = problems(yaml);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("t.yaml:10:1: template syntax error"),
        "{}",
        found[0]
    );
}

#[test]
fn references_to_undefined_values_are_errors() {
    let yaml = r"locales: [en]
shop:
  name: Hanamaru
intents:
  - id: a
    match:
      regex: ['order (?P<order_number>\d+)']
    answer:
      en: '{{ shop.phone }} {{ details.order_no }} {{ customer }} {{ shop.name }} {{ details.order_number }}'
";
    let found = problems(yaml);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_has(
        &found,
        "t.yaml:9:11: `shop.phone` is not defined: declare `phone` under `shop:` (known: shop.name)",
    );
    assert_has(&found, "`details.order_no` is never extracted");
    assert_has(&found, "`customer` is not defined");
}

#[test]
fn shop_values_must_exist_in_every_locale() {
    let yaml = "shop:\n  name: { ja: はなまる }\nintents: []\n";
    assert_has(
        &problems(yaml),
        "t.yaml:2:9: shop value `name` has no `en` text",
    );
}

#[test]
fn invalid_ids_priorities_and_locales_are_errors() {
    let yaml = r"
locales: [en, fr]
intents:
  - id: Cancel-Order
    match: { any: [cancel] }
    answer: { en: ok }
  - id: b
    priority: 50
    match: { any: [refund] }
    answer: { en: ok }
";
    let found = problems(yaml);
    assert_has(&found, "t.yaml:2:15: unknown locale `fr`");
    assert_has(&found, "t.yaml:4:9: intent id `Cancel-Order` is not valid");
    assert_has(
        &found,
        "t.yaml:8:15: priority must be between -10 and 10, not 50",
    );
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let yaml = r"
locales: [en]
intents:
  - id: a
    match: { regex: ['('] }
    answer: { en: '{{ nope }}' }
  - id: b
    match: { any: [] }
    answer: { en: ok }
";
    let found = problems(yaml);
    let lines: Vec<&str> = found
        .iter()
        .map(|p| p.split(':').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    let mut sorted = lines.clone();
    sorted.sort_by_key(|l| l.parse::<u32>().unwrap_or(0));
    assert_eq!(lines, sorted);
}

#[test]
fn an_example_that_matches_nothing_is_an_error() {
    let yaml = r"
locales: [en]
intents:
  - id: refund
    match: { any: [refund] }
    answer: { en: ok }
    examples:
      en: [where is my parcel]
";
    assert_has(
        &problems(yaml),
        "t.yaml:8:12: example `where is my parcel` of `refund` matches no intent",
    );
}

#[test]
fn an_example_that_matches_another_intent_better_is_a_collision_warning() {
    let yaml = r"
locales: [en]
intents:
  - id: refund
    match: { any: [refund] }
    answer: { en: ok }
    examples:
      en: [refund the delivery fee]
  - id: delivery_fee
    match: { any: [delivery fee, shipping fee] }
    answer: { en: ok }
";
    let found = warnings(yaml);
    assert_has(
        &found,
        "t.yaml:8:12: warning: example `refund the delivery fee` of `refund` matches `delivery_fee` better",
    );
}

#[test]
fn a_keyword_that_always_goes_elsewhere_is_shadowed() {
    let yaml = r"
locales: [en]
intents:
  - id: refund
    priority: 5
    match: { any: [refund, money back] }
    answer: { en: ok }
  - id: refund_status
    match: { any: [refund, refund status] }
    answer: { en: ok }
";
    let found = warnings(yaml);
    assert_has(
        &found,
        "t.yaml:9:20: warning: `refund` never wins for `refund_status` on its own: a message of just these words goes to `refund`",
    );
}

#[test]
fn a_keyword_vetoed_by_its_own_intent_can_never_match() {
    let yaml = r"
locales: [en]
intents:
  - id: cancel_order
    match:
      any: [cancel order, cancel subscription]
      not: [subscription]
    answer: { en: ok }
";
    let found = warnings(yaml);
    assert_has(
        &found,
        "`cancel subscription` can never match `cancel_order`: it contains `subscription`",
    );
}

#[test]
fn keywords_listed_twice_are_reported() {
    let yaml = "locales: [ja]\nintents:\n  - id: a\n    match: { any: [ユーザー, ユーザ] }\n    answer: { ja: ok }\n";
    assert_has(
        &warnings(yaml),
        "t.yaml:4:26: warning: `ユーザ` is listed twice (first at t.yaml:4:20)",
    );
}

#[test]
fn the_built_in_human_intent_can_be_replaced() {
    let yaml = r"
locales: [en]
intents:
  - id: human
    match: { any: [concierge] }
    answer: { en: A concierge will be with you. }
";
    let loaded = load(yaml).unwrap();
    let ids = intent_ids(&loaded);
    assert_eq!(ids, ["human", "supervisor"], "the other built-in one stays");
    let result = crate::classify::classify(&loaded.rules, "concierge please");
    assert_eq!(result.intent(), Some(0));
    let result = crate::classify::classify(&loaded.rules, "I want a human");
    assert_eq!(result.intent(), None, "the built-in phrasing is gone");
}

#[test]
fn declarations_across_files_must_not_repeat() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "locales: [en]\nshop:\n  name: A\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        "locales: [en]\nshop:\n  name: B\nintents:\n  - id: x\n    match: { any: [refund] }\n    answer: { en: ok }\n",
    )
    .unwrap();
    let err = crate::check::load(dir.path()).unwrap_err();
    let found: Vec<String> = err.diagnostics.iter().map(ToString::to_string).collect();
    let a = dir.path().join("a.yaml").display().to_string();
    let b = dir.path().join("b.yaml").display().to_string();
    assert_has(
        &found,
        &format!("{b}:1:10: `locales` is already declared at {a}:1:10"),
    );
    assert_has(
        &found,
        &format!("{b}:3:9: `shop.name` is already declared at {a}:3:9"),
    );
}

#[test]
fn a_missing_rules_path_is_reported_not_panicked() {
    let err = crate::check::load(Path::new("/nonexistent/rules")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/nonexistent/rules:1:1: cannot read rules"),
        "{err}"
    );
}

#[test]
fn a_rules_path_that_never_ends_is_refused_not_read_forever() {
    // /dev/zero as the rule set, and as a file of a rule folder.
    let err = crate::check::load(Path::new("/dev/zero")).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("endless.yaml")).unwrap();
    let err = crate::check::load(dir.path()).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    let big = tempfile::NamedTempFile::new().unwrap();
    big.as_file().set_len(65 * 1024 * 1024).unwrap();
    let err = crate::check::load(big.path()).unwrap_err();
    assert!(err.to_string().contains("larger than 64 MiB"), "{err}");
}

#[test]
fn odd_documents_do_not_panic() {
    for yaml in [
        "",
        "---\n",
        "hello",
        "[1, 2]",
        "intents: 5",
        "intents:\n  - 5",
        "&a [*a]",
        "intents: [{id: a, match: {any: [[x]]}}]",
    ] {
        let _ = load(yaml);
    }
    assert!(load("").is_ok(), "an empty file is an empty rule set");
}

#[test]
fn answers_render_with_details_and_shop_values_per_channel() {
    let yaml = r"
locales: [ja, en]
shop:
  name: { ja: はなまる, en: Hanamaru }
details:
  order_number: '\b\d{4}-\d{4}\b'
intents:
  - id: order_status
    match: { any: [配送状況, where is my order] }
    answer:
      ja: '{{ shop.name }}です。{% if details.order_number %}ご注文{{ details.order_number }}の{% endif %}配送状況をお調べします。'
      en:
        chat: Checking order {{ details.order_number }}.
        email: |
          Dear customer,
          we are checking order {{ details.order_number }}.
          {{ shop.name }}
";
    let rules = load(yaml).unwrap().rules;
    let details = BTreeMap::from([("order_number".to_owned(), "1234-5678".to_owned())]);
    let ja = rules
        .render_answer(0, Locale::Ja, Channel::Email, &details)
        .unwrap();
    assert_eq!(
        ja,
        "はなまるです。ご注文1234-5678の配送状況をお調べします。"
    );
    let en_chat = rules
        .render_answer(0, Locale::En, Channel::Chat, &details)
        .unwrap();
    assert_eq!(en_chat, "Checking order 1234-5678.");
    let en_mail = rules
        .render_answer(0, Locale::En, Channel::Email, &BTreeMap::new())
        .unwrap();
    assert_eq!(en_mail, "Dear customer,\nwe are checking order .\nHanamaru");
}

#[test]
fn answers_without_details_render_the_same_and_can_still_be_included() {
    // Answers that use no detail are rendered once at loading; they must
    // read as if rendered per message, and stay includable by others.
    let yaml = r#"
locales: [ja, en]
shop:
  name: { ja: はなまる, en: Hanamaru }
details:
  order_number: '\b\d{4}-\d{4}\b'
intents:
  - id: greeting
    match: { any: [こんにちは, hello] }
    answer:
      ja: '{{ shop.name }}です（{{ locale }}/{{ channel }}）。'
      en: '{% if channel == "email" %}Dear customer, {% endif %}this is {{ shop.name }}.  '
  - id: order_status
    match: { any: [配送状況, where is my order] }
    answer:
      ja: '{% include "greeting/ja/chat" %}ご注文{{ details.order_number }}ですね。'
      en: 'Order {{ details.order_number }}.'
"#;
    let rules = load(yaml).unwrap().rules;
    let none = BTreeMap::new();
    let render = |intent, locale, channel, details: &BTreeMap<String, String>| {
        rules
            .render_answer(intent, locale, channel, details)
            .unwrap()
    };
    assert_eq!(
        render(0, Locale::Ja, Channel::Chat, &none),
        "はなまるです（ja/chat）。"
    );
    assert_eq!(
        render(0, Locale::En, Channel::Chat, &none),
        "this is Hanamaru."
    );
    assert_eq!(
        render(0, Locale::En, Channel::Email, &none),
        "Dear customer, this is Hanamaru."
    );
    let details = BTreeMap::from([("order_number".to_owned(), "1234-5678".to_owned())]);
    assert_eq!(
        render(1, Locale::Ja, Channel::Chat, &details),
        "はなまるです（ja/chat）。ご注文1234-5678ですね。"
    );
}

#[test]
fn a_rule_set_extends_and_overrides_the_sentiment_lexicon() {
    let yaml = r"
locales: [ja]
sentiment:
  complaint_threshold: -0.3
  lexicon:
    negative: { 遅すぎ: 0, もっさり: 3 }
intents: []
";
    let rules = load(yaml).unwrap().rules;
    let score = |text: &str| crate::classify::classify(&rules, text).sentiment;
    assert!(score("この画面、もっさりしてる").complaint);
    assert!(
        score("もっさり")
            .cues
            .iter()
            .any(|c| &*c.term == "もっさり")
    );
    assert!(
        !score("遅すぎ").cues.iter().any(|c| &*c.term == "遅すぎ"),
        "weight 0 removes a built-in term"
    );
    assert!((rules.sentiment().settings().complaint_threshold + 0.3).abs() < 1e-9);
}

#[test]
fn bad_sentiment_settings_are_reported_at_their_place() {
    let yaml = "locales: [ja]\nsentiment:\n  complaint_threshold: 2\n  lexicon:\n    negative: { 遅い: 50 }\n";
    let found = problems(yaml);
    assert_has(
        &found,
        "t.yaml:3:24: `complaint_threshold` must be from -1 up to (not including) 1, not 2",
    );
    assert_has(&found, "t.yaml:5:5: sentiment term `遅い` has weight 50");
}

#[test]
fn a_label_that_does_not_lead_to_its_own_intent_is_a_warning() {
    let yaml = r"
locales: [en]
intents:
  - id: late
    label: { en: Late delivery }
    match: { any: [late, not arrived] }
    answer: { en: Sorry it is late. }
  - id: hours
    label: { en: Hours and contact }
    match: { any: [opening hours, phone number] }
    answer: { en: We open at ten. }
";
    let found = warnings(yaml);
    assert_has(
        &found,
        "t.yaml:9:18: warning: label `Hours and contact` of `hours` leads to no intent when typed",
    );
    assert!(
        !found.iter().any(|w| w.contains("`Late delivery`")),
        "{found:?}"
    );
}
