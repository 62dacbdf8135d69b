//! The decision function on a small rule set: each policy on its own.

use super::*;

const RULES: &str = r"
locales: [en]
details:
  email: '[a-z0-9._-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+'
  order_number: 'hm-\d{8}'
escalation:
  response_time: { chat: 30m }
fallback:
  escalate_after: 3
  topics: [cancel_order]
replies:
  ask_order_number: { en: 'Which order number?' }
intents:
  - id: cancel_order
    label: { en: Calling off an order }
    requires: [order_number]
    match:
      any: [cancel*]
    answer:
      en: 'Cancelled{% if details.order_number %} {{ details.order_number }}{% endif %}.'
  - id: legal
    escalate: true
    match:
      any: [lawyer, sue, legal department]
    answer:
      en: A person will contact you.
";

fn rules() -> RuleSet {
    crate::check::from_yaml("t.yaml", RULES)
        .unwrap_or_else(|e| panic!("{e}"))
        .rules
}

fn at(minute: u32) -> Timestamp {
    format!("2026-12-01T10:{minute:02}:00+09:00")
        .parse()
        .expect("valid time")
}

/// Runs `messages` as one conversation; returns every decision.
fn conversation(rules: &RuleSet, start: ConversationState, messages: &[&str]) -> Vec<Decision> {
    let mut state = start;
    let mut decisions = Vec::new();
    for (n, text) in messages.iter().enumerate() {
        let turn = Turn {
            text,
            quick_reply: None,
            channel: Channel::Chat,
            now: at(n as u32),
            needs_person: None,
        };
        let decision = decide(rules, &state, turn);
        state = decision.state.clone();
        decisions.push(decision);
    }
    decisions
}

fn known() -> ConversationState {
    ConversationState::with_email("c@example.com")
}

#[test]
fn fallbacks_escalate_after_the_rule_sets_count_and_reset_on_an_answer() {
    let rules = rules();
    let d = conversation(
        &rules,
        known(),
        &["hello?", "what?", "cancel hm-12345678", "huh", "eh", "no"],
    );
    let actions: Vec<Action> = d.iter().map(|d| d.action).collect();
    assert_eq!(
        actions,
        [
            Action::Fallback,
            Action::Fallback,
            Action::Answer,
            Action::Fallback,
            Action::Fallback,
            Action::Escalate
        ]
    );
    assert_eq!(
        d[5].escalation.map(|e| e.reason),
        Some(EscalationReason::RepeatedFallback)
    );
    assert_eq!(d[0].reply.quick_replies[0].label, "Calling off an order");
    assert_ne!(d[0].reply.text, d[1].reply.text, "the fallback varies");
}

#[test]
fn a_required_detail_is_asked_once_and_remembered() {
    let rules = rules();
    let d = conversation(&rules, known(), &["cancel please", "not sure", "cancel it"]);
    assert_eq!(d[0].action, Action::AskDetail);
    assert_eq!(d[0].state.status, Status::AwaitingDetail);
    assert_eq!(d[1].action, Action::Answer, "asked once, then answered");
    assert_eq!(d[2].action, Action::Answer, "not asked again");

    let d = conversation(&rules, known(), &["cancel please", "it is hm-87654321"]);
    assert_eq!(d[1].reply.text, "Cancelled hm-87654321.");
    assert_eq!(
        d[1].state.details.get("order_number").map(String::as_str),
        Some("hm-87654321")
    );
}

#[test]
fn a_rule_escalation_hands_off_with_the_promised_time() {
    let rules = rules();
    let d = conversation(&rules, known(), &["A question for your legal department"]);
    assert_eq!(d[0].action, Action::Escalate);
    assert_eq!(
        d[0].escalation.map(|e| e.reason),
        Some(EscalationReason::Rule)
    );
    assert_eq!(d[0].state.status, Status::HandedOff);
    assert!(
        d[0].reply.text.contains("10:30 JST today"),
        "{}",
        d[0].reply.text
    );
}

#[test]
fn an_anonymous_chat_is_asked_for_an_email_once() {
    let rules = rules();
    let d = conversation(
        &rules,
        ConversationState::default(),
        &["I want to sue you", "no thanks"],
    );
    assert_eq!(d[0].action, Action::AskEmail);
    assert!(d[0].escalation.is_none(), "not handed off yet");
    assert_eq!(d[1].action, Action::Escalate);
    assert_eq!(d[1].state.status, Status::HandedOff);
    assert!(d[1].state.email_asked);
}

#[test]
fn a_safety_concern_is_never_delayed_by_a_question() {
    let rules = rules();
    let d = conversation(
        &rules,
        ConversationState::default(),
        &["I want to kill myself"],
    );
    assert_eq!(d[0].action, Action::Escalate);
    let escalation = d[0].escalation.expect("escalated");
    assert_eq!(escalation.reason, EscalationReason::Safety);
    assert_eq!(escalation.priority, Priority::Urgent);
}

#[test]
fn after_a_handoff_only_safety_raises_the_alarm_again() {
    let rules = rules();
    let d = conversation(
        &rules,
        known(),
        &["I will sue", "cancel hm-12345678", "I want to kill myself"],
    );
    assert_eq!(d[1].action, Action::Acknowledge);
    assert!(d[1].escalation.is_none());
    assert!(!d[1].reply.text.contains("Cancelled"));
    assert_eq!(
        d[1].state.details.get("order_number").map(String::as_str),
        Some("hm-12345678"),
        "still recorded"
    );
    assert_eq!(d[2].escalation.map(|e| e.priority), Some(Priority::Urgent));
}

#[test]
fn a_closed_conversation_is_not_answered() {
    let rules = rules();
    let closed = ConversationState {
        status: Status::Closed,
        ..known()
    };
    let d = conversation(&rules, closed, &["cancel hm-12345678"]);
    assert_eq!(d[0].action, Action::Closed);
    assert_eq!(d[0].state.status, Status::Closed);
    assert!(d[0].reply.text.contains("closed"));
}

#[test]
fn state_survives_a_round_trip_through_json() {
    let rules = rules();
    let d = conversation(&rules, ConversationState::default(), &["I want to sue you"]);
    let json = serde_json::to_string(&d[0].state).expect("serializes");
    assert!(json.contains(r#""status":"awaiting_detail""#), "{json}");
    let back: ConversationState = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, d[0].state);
}

#[test]
fn the_time_is_written_relative_to_now() {
    let tz = jiff::tz::TimeZone::get("Asia/Tokyo").expect("tz");
    let now = at(0).to_zoned_datetime(tz);
    let later = now
        .checked_add(jiff::SignedDuration::from_hours(24 * 3))
        .expect("ok");
    assert_eq!(
        reply::when(&later, &now, Locale::Ja),
        "12月4日（金）10:00（JST）"
    );
    assert_eq!(
        reply::when(&later, &now, Locale::En),
        "10:00 JST on Fri 4 Dec"
    );
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").expect("tz");
    let (now, later) = (
        now.with_time_zone(berlin.clone()),
        later.with_time_zone(berlin),
    );
    assert_eq!(
        reply::when(&later, &now, Locale::En),
        "02:00 CET on Fri 4 Dec",
        "the zone is the rule set's"
    );
}

#[test]
fn asking_for_someone_in_charge_goes_to_a_person_at_high_priority() {
    let rules = rules();
    for text in [
        "I would like to speak to your manager please",
        "Could you put me through to a supervisor?",
    ] {
        let d = conversation(&rules, known(), &[text]);
        assert_eq!(
            d[0].escalation,
            Some(Escalation {
                reason: EscalationReason::HumanRequested,
                priority: Priority::High,
            }),
            "{text}"
        );
    }
}

#[test]
fn a_polite_indirect_request_for_a_person_is_one() {
    let rules = rules();
    let d = conversation(
        &rules,
        known(),
        &["Could I speak with someone from your team?"],
    );
    assert_eq!(
        d[0].escalation.map(|e| e.reason),
        Some(EscalationReason::HumanRequested)
    );
}

#[test]
fn a_request_for_a_person_that_is_also_a_complaint_keeps_both() {
    let rules = rules();
    let d = conversation(
        &rules,
        known(),
        &["This is ridiculous, I am fed up. Get me a real person now!"],
    );
    let escalation = d[0].escalation.expect("handed off");
    assert_eq!(escalation.reason, EscalationReason::HumanRequested);
    assert_eq!(escalation.priority, Priority::High, "an angry request");
    assert!(
        d[0].classification.sentiment.complaint,
        "the sentiment is kept"
    );
    assert!(d[0].reply.text.contains("sorry"), "{}", d[0].reply.text);
}

#[test]
fn escalation_replies_say_each_thing_once() {
    let rules = rules();
    for text in [
        "I want to talk to a person",
        "I will call my lawyer",
        "This is a disgrace, the worst shop I have ever used",
    ] {
        let d = conversation(&rules, known(), &[text]);
        let reply = &d[0].reply.text;
        assert_eq!(d[0].action, Action::Escalate, "{text}");
        assert!(
            reply.matches("member of our team").count() <= 1,
            "{text}: {reply}"
        );
        assert_eq!(reply.matches("by 10:30 JST today").count(), 1, "{reply}");
    }
    let d = conversation(&rules, known(), &["zzz", "qqq", "xxx"]);
    let reply = &d[2].reply.text;
    assert_eq!(d[2].action, Action::Escalate);
    assert!(reply.matches("member of our team").count() <= 1, "{reply}");
}

/// Runs one message with a tapped quick reply after `state`.
fn tap(rules: &RuleSet, state: &ConversationState, label: &str, intent: &str) -> Decision {
    decide(
        rules,
        state,
        Turn {
            text: label,
            quick_reply: Some(intent),
            channel: Channel::Chat,
            now: at(5),
            needs_person: None,
        },
    )
}

#[test]
fn a_tapped_topic_is_taken_as_its_intent_without_classifying_the_label() {
    let rules = rules();
    let d = conversation(&rules, known(), &["zzz"]);
    assert_eq!(d[0].action, Action::Fallback);
    assert_eq!(d[0].state.offered, ["cancel_order"]);
    // The label says nothing the patterns know; the pick still counts.
    let picked = tap(&rules, &d[0].state, "Stop it", "cancel_order");
    assert_eq!(picked.intent, rules.intent_index("cancel_order"));
    assert_eq!(picked.action, Action::AskDetail, "{}", picked.reply.text);
    assert_eq!(picked.state.fallbacks_in_a_row, 1, "not another fallback");
}

#[test]
fn typing_an_offered_label_counts_as_tapping_it() {
    let rules = rules();
    let d = conversation(&rules, known(), &["zzz", "calling off an order"]);
    assert_eq!(d[1].intent, rules.intent_index("cancel_order"));
    // Not offered: the same words are classified, and mean nothing.
    let d = conversation(&rules, known(), &["Calling off an order"]);
    assert_eq!(d[0].action, Action::Fallback, "{}", d[0].reply.text);
}

#[test]
fn a_quick_reply_that_was_not_offered_counts_as_its_text_alone() {
    let rules = rules();
    let d = conversation(&rules, known(), &["hello there"]);
    assert!(!d[0].state.offers("legal"));
    let picked = tap(&rules, &d[0].state, "zzz", "legal");
    assert_eq!(picked.action, Action::Fallback, "the pick was not offered");
}

#[test]
fn thanks_after_an_answer_settles_the_question_and_thanks_alone_does_not() {
    let yaml = format!(
        "{RULES}  - id: thanks\n    tags: [closing]\n    match:\n      any: [thanks, thank you]\n    answer:\n      en: You're welcome.\n"
    );
    let rules = crate::check::from_yaml("t.yaml", &yaml)
        .unwrap_or_else(|e| panic!("{e}"))
        .rules;
    let d = conversation(&rules, known(), &["thanks"]);
    assert!(!d[0].resolved, "nothing was answered before");
    let d = conversation(&rules, known(), &["cancel hm-12345678", "thank you"]);
    assert_eq!(d[0].action, Action::Answer);
    assert!(!d[0].resolved);
    assert!(d[1].resolved, "{:?}", d[1].action);
}

#[test]
fn a_threat_of_legal_action_goes_to_a_person_at_high_priority_even_when_calm() {
    let rules = rules();
    let d = conversation(
        &rules,
        known(),
        &[
            "Please cancel hm-12345678. If it is charged again I will dispute the charge with my bank.",
        ],
    );
    assert_eq!(
        d[0].escalation,
        Some(Escalation {
            reason: EscalationReason::Threat,
            priority: Priority::High,
        })
    );
    assert!(d[0].reply.text.contains("sorry"), "{}", d[0].reply.text);
    // Not a threat when it says it is not one.
    let d = conversation(&rules, known(), &["I'm not going to sue you, don't worry"]);
    assert_ne!(
        d[0].escalation.map(|e| e.reason),
        Some(EscalationReason::Threat)
    );
}
