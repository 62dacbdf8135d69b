//! The dialogue policy and replies of a rule set: read, checked, reported
//! at their place.

use super::tests::{assert_has, load, problems};
use super::*;

const INTENT: &str = r"
intents:
  - id: order_status
    label: { en: Order status }
    trouble: { en: the delay with your order }
    match:
      any: [where is my order]
    answer:
      en: Here is how to track it.
";

fn with(extra: &str) -> String {
    format!("locales: [en]\n{extra}\n{INTENT}")
}

#[test]
fn without_a_policy_the_defaults_apply() {
    let loaded = load(&with("")).unwrap();
    let policy = loaded.rules.policy();
    assert_eq!(policy.fallback.escalate_after, 2);
    assert!(policy.fallback.topics.is_empty());
    assert!((policy.escalation.complaint - -0.65).abs() < 1e-9);
    let now: jiff::Timestamp = "2026-12-31T03:00:00Z".parse().unwrap();
    assert!(policy.hours.availability(now).open, "no hours: always open");
}

#[test]
fn hours_escalation_and_fallback_are_read() {
    let loaded = load(&with(
        r"
hours:
  timezone: Asia/Tokyo
  open: { mon-fri: '10:00-18:00', sat: '10:00-12:00' }
  holidays: jp
  closed:
    - { from: 12-29, to: 01-03, name: { en: the New Year holidays } }
escalation:
  complaint: -0.6
  response_time: { chat: 30m, email: 4h }
fallback:
  escalate_after: 3
  topics: [order_status]
",
    ))
    .unwrap();
    let policy = loaded.rules.policy();
    assert_eq!(policy.fallback.escalate_after, 3);
    assert_eq!(policy.fallback.topics.len(), 1);
    assert_eq!(
        policy.escalation.response_time(Channel::Chat),
        jiff::SignedDuration::from_mins(30)
    );
    let saturday_afternoon: jiff::Timestamp = "2026-12-05T13:00:00+09:00".parse().unwrap();
    assert!(!policy.hours.availability(saturday_afternoon).open);
    let intent = &loaded.rules.intents()[0];
    assert_eq!(intent.label(crate::text::Locale::En), "Order status");
    assert_eq!(
        intent.trouble(crate::text::Locale::En),
        Some("the delay with your order")
    );
}

#[test]
fn bad_hours_are_reported_at_their_place() {
    let found = problems(&with(
        r"
hours:
  timezone: Asia/Tokio
  open: { weekdays: '10:00-18:00', sat: '18:00-10:00' }
  holidays: us
  closed:
    - { from: 2026-13-01 }
",
    ));
    assert_has(&found, "t.yaml:4:13: unknown time zone `Asia/Tokio`");
    assert_has(&found, "`weekdays` is not a set of days");
    assert_has(&found, "each opening must close after it opens");
    assert_has(&found, "unknown holiday calendar `us`");
    assert_has(&found, "`2026-13-01` is not a date");
}

#[test]
fn bad_escalation_values_are_reported() {
    let found = problems(&with(
        r"
escalation:
  complaint: 0.5
  response_time: { chat: 1 day }
fallback:
  escalate_after: 0
  topics: [order_stats]
",
    ));
    assert_has(&found, "`complaint` must be a sentiment between -1 and 0");
    assert_has(&found, "`1 day` is not a duration");
    assert_has(&found, "`escalate_after` must be from 1 to 20");
    assert_has(&found, "fallback topic `order_stats` is not an intent");
}

#[test]
fn a_rule_set_replaces_a_built_in_reply_and_keeps_the_others() {
    let loaded = load(&with(
        r#"
replies:
  clarify: { en: 'Which one: {{ options | join(" or ") }}?' }
"#,
    ))
    .unwrap();
    let rules = &loaded.rules;
    let details = std::collections::BTreeMap::new();
    let extra = minijinja::context! { options => ["A", "B"] };
    let clarify = rules
        .render_reply(
            super::ReplyName::Clarify,
            crate::text::Locale::En,
            Channel::Chat,
            0,
            &details,
            extra,
        )
        .unwrap();
    assert_eq!(clarify, "Which one: A or B?");
    let neither = rules
        .render_reply(
            super::ReplyName::Neither,
            crate::text::Locale::En,
            Channel::Chat,
            0,
            &details,
            minijinja::Value::UNDEFINED,
        )
        .unwrap();
    assert_eq!(neither, "Neither of these");
}

#[test]
fn unknown_replies_and_undefined_reply_values_are_errors() {
    let found = problems(&with(
        r"
replies:
  fallbak: { en: Sorry? }
  ask_colour: { en: Which colour? }
  apology: { en: 'Sorry about {{ problem }}' }
",
    ));
    assert_has(&found, "unknown reply `fallbak`");
    assert_has(&found, "an `ask_` reply must be named after a detail");
    assert_has(&found, "`problem` is not defined: replies can use");
}

#[test]
fn a_required_detail_needs_an_extractor_and_a_question() {
    let found = problems(
        r"
locales: [en]
details:
  order_number: 'hm-\d{8}'
intents:
  - id: cancel_order
    requires: [order_number, colour]
    match:
      any: [cancel]
    answer:
      en: Cancelled.
",
    );
    assert_has(
        &found,
        "requires `order_number`: write the question under `replies: ask_order_number: en:`",
    );
    assert_has(&found, "requires `colour`, which no `details:` entry");
}

#[test]
fn every_reply_the_engine_can_ask_for_has_a_built_in_text_in_each_locale() {
    let yaml = format!(
        "locales: [ja, en]\n{}",
        INTENT
            .replace("{ en: ", "{ ja: 例, en: ")
            .replace("      en: Here", "      ja: 例です。\n      en: Here")
    );
    let loaded = load(&yaml).unwrap_or_else(|e| panic!("{e}"));
    let details = std::collections::BTreeMap::new();
    for locale in [crate::text::Locale::Ja, crate::text::Locale::En] {
        for name in ReplyName::ALL {
            let extra = minijinja::context! {
                options => ["A", "B"], trouble => "T", apology => "Sorry.",
                follow_up => "Soon.", open => true, by => "10:00",
                concern => "self_harm", ticket_id => "T-1",
            };
            let text = loaded
                .rules
                .render_reply(name, locale, Channel::Chat, 0, &details, extra)
                .unwrap_or_else(|e| panic!("{} in {locale}: {e}", name.as_str()));
            assert!(
                !text.trim().is_empty(),
                "{} in {locale} is empty",
                name.as_str()
            );
        }
    }
}
