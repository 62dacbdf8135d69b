//! The handoff outbox against a real HTTP receiver that records requests
//! and fails, hangs or answers 429/500 on demand. The worker is driven one
//! step at a time with a clock that moves only when told, so no test waits
//! for the schedule.

// Test bodies shared by both databases are plain functions, outside
// `#[test]`, where clippy would otherwise flag every `unwrap`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use common::{Answer, Db, Receiver, closed_port_url, store, tamper};
use hmac::{KeyInit, Mac};
use madoguchi::conversation::{self, Events, Said, Start, customer_message};
use madoguchi::engine::Status;
use madoguchi::handoff::{Clock as _, ManualClock, Outbox, Schedule, Step, Target};
use madoguchi::rules::{Channel, LiveRules, RuleSet};
use madoguchi::secret::{Secret, WebhookSecret};
use madoguchi::store::{Claimed, Identity, Store};
use serde_json::Value;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn rules() -> Arc<RuleSet> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Arc::new(madoguchi::check::load(&root.join("rules")).unwrap().rules)
}

fn now() -> jiff::Timestamp {
    // A weekday morning in Tokyo, within the example shop's hours.
    "2026-12-01T10:00:00+09:00".parse().unwrap()
}

/// A conversation whose customer asks for a person: one handoff in the
/// outbox. Returns the conversation id.
async fn escalated(store: &Store, rules: &RuleSet, text: &str) -> String {
    let start = Start {
        channel: Channel::Chat,
        identity: Identity::Email,
        external_id: None,
        email: Some("hanako@example.jp"),
        name: Some("山田花子"),
        locale: None,
    };
    let id = conversation::start(store, rules, &start, now())
        .await
        .unwrap()
        .id;
    let conversation = store.conversation(&id).await.unwrap().unwrap();
    let answered = customer_message(
        store,
        rules,
        &Events::default(),
        conversation,
        Said::typed(text),
        now(),
    )
    .await
    .unwrap();
    assert!(answered.decision.escalation.is_some(), "{text} escalates");
    id
}

fn webhook(url: &str) -> Target {
    Target::Webhook {
        url: url.to_owned(),
        secret: Some(WebhookSecret::parse(Secret::from(SECRET)).unwrap()),
    }
}

fn outbox(store: &Store, rules: &Arc<RuleSet>, target: Target, clock: &Arc<ManualClock>) -> Outbox {
    outbox_with(store, rules, target, clock, &Events::default())
}

/// [`outbox`] telling `events` what it does to conversations.
fn outbox_with(
    store: &Store,
    rules: &Arc<RuleSet>,
    target: Target,
    clock: &Arc<ManualClock>,
    events: &Events,
) -> Outbox {
    Outbox::new(
        store.clone(),
        Arc::new(LiveRules::from_shared(Arc::clone(rules))),
        events.clone(),
        target,
        Duration::from_millis(500),
        Schedule {
            jitter: 0.0,
            ..Schedule::default()
        },
        Arc::clone(clock) as Arc<dyn madoguchi::handoff::Clock>,
    )
    .unwrap()
}

/// Checks a Standard Webhooks signature as a receiver does, with the
/// secret it was given: HMAC-SHA256 of `id.timestamp.body` with the
/// base64-decoded key, base64-encoded, after `v1,`.
fn signature_verifies(request: &common::Received) -> bool {
    let header = |name: &str| request.headers[name].to_str().unwrap().to_owned();
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.{}",
            header("webhook-id"),
            header("webhook-timestamp"),
            request.body
        )
        .as_bytes(),
    );
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    header("webhook-signature")
        .split(' ')
        .any(|s| s == format!("v1,{expected}"))
}

async fn delivered_once_after_failures_signed_with_the_same_id(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    receiver.script([
        Answer::Status(500, vec![], "oops".into()),
        Answer::Status(503, vec![("retry-after", "600".into())], "busy".into()),
        Answer::ok_with_ticket("T-1001"),
    ]);
    let conversation = escalated(
        &store,
        &rules,
        "一週間以上たっても届かないってどういうことですか！ふざけないでください！！",
    )
    .await;
    let clock = Arc::new(ManualClock::new(now()));
    let worker = outbox(&store, &rules, webhook(&receiver.url), &clock);

    let Step::Retry { at, .. } = worker.step().await.unwrap() else {
        panic!("500 is retried")
    };
    assert_eq!(
        at,
        now() + jiff::SignedDuration::from_secs(5),
        "the first retry comes after 5 s"
    );
    assert_eq!(worker.step().await.unwrap(), Step::Empty, "not due yet");
    clock.advance(Duration::from_secs(5));
    let Step::Retry { at, .. } = worker.step().await.unwrap() else {
        panic!("503 is retried")
    };
    let after_second = now() + jiff::SignedDuration::from_secs(5);
    assert_eq!(
        at,
        after_second + jiff::SignedDuration::from_secs(600),
        "Retry-After beats the 5 min of the schedule"
    );
    clock.advance(Duration::from_mins(10));
    let step = worker.step().await.unwrap();
    assert!(
        matches!(step, Step::Delivered { ticket_id: Some(ref t), .. } if t == "T-1001"),
        "{step:?}"
    );
    assert_eq!(worker.step().await.unwrap(), Step::Empty, "delivered once");

    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    let ids: Vec<&str> = requests
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "the same id on every retry: {ids:?}"
    );
    assert!(
        requests.iter().all(|r| r.body == requests[0].body),
        "the same body on every retry"
    );
    assert!(
        requests.iter().all(signature_verifies),
        "signatures verify with the receiver's secret"
    );
    let timestamp: i64 = requests[2].headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        timestamp,
        madoguchi::handoff::Clock::now(&*clock).as_second()
    );

    let body: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(body["type"], "handoff.created");
    let data = &body["data"];
    assert_eq!(data["handoff_id"], ids[0]);
    assert_eq!(data["conversation_id"], conversation.as_str());
    assert_eq!(data["reason"], "complaint");
    assert_eq!(data["priority"], "high");
    assert_eq!(data["team"], "shipping");
    assert_eq!(data["customer"]["email"], "hanako@example.jp");
    assert_eq!(data["customer"]["verified"], false);
    assert_eq!(data["transcript"].as_array().unwrap().len(), 2);
    assert_eq!(data["intents"], serde_json::json!(["late_delivery"]));
    assert_eq!(data["sentiment"][0]["complaint"], true);
    assert_eq!(data["business_hours"]["open"], true);
    assert_eq!(data["business_hours"]["time_zone"], "Asia/Tokyo");
    assert!(data["summary"].as_str().unwrap().contains("配送の遅れ"));

    // The customer sees the ticket's reference.
    let transcript = store.transcript(&conversation).await.unwrap();
    let last = transcript.last().unwrap();
    assert_eq!(last.author, madoguchi::store::Author::System);
    assert!(last.text.contains("T-1001"), "{}", last.text);
}

async fn every_payload_matches_the_json_schema(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    for text in [
        "人と話したい",
        "もう何もかも嫌になった。死にたい",
        "退会して個人情報を削除してほしい",
    ] {
        escalated(&store, &rules, text).await;
    }
    let clock = Arc::new(ManualClock::new(now()));
    let worker = outbox(&store, &rules, webhook(&receiver.url), &clock);
    while worker.step().await.unwrap() != Step::Empty {}
    let schema: Value =
        serde_json::from_str(include_str!("../schemas/handoff.created.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    for request in requests {
        let body: Value = serde_json::from_str(&request.body).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{body:#}");
    }
}

async fn a_permanent_failure_is_dead_lettered_and_retried_by_hand(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    receiver.script([Answer::Status(400, vec![], "bad request".into())]);
    escalated(&store, &rules, "担当者と話したいです").await;
    let clock = Arc::new(ManualClock::new(now()));
    let worker = outbox(&store, &rules, webhook(&receiver.url), &clock);
    let Step::DeadLettered { id } = worker.step().await.unwrap() else {
        panic!("400 is permanent")
    };
    let dead = store
        .handoffs(Some(madoguchi::store::HandoffStatus::Dead), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].last_error.as_deref().unwrap().contains("HTTP 400"));
    assert_eq!(
        worker.step().await.unwrap(),
        Step::Empty,
        "a dead handoff waits for a person"
    );

    assert!(
        store
            .requeue_handoff(&id, now().as_millisecond())
            .await
            .unwrap()
    );
    let step = worker.step().await.unwrap();
    assert!(matches!(step, Step::Delivered { .. }), "{step:?}");
    assert_eq!(receiver.requests().len(), 2);
}

async fn a_spent_schedule_is_dead_lettered(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    receiver.by_default(Answer::Status(500, vec![], "down".into()));
    escalated(&store, &rules, "人と話したい").await;
    let clock = Arc::new(ManualClock::new(now()));
    let worker = outbox(&store, &rules, webhook(&receiver.url), &clock);
    let mut retries = 0;
    loop {
        match worker.step().await.unwrap() {
            Step::Retry { .. } => {
                retries += 1;
                clock.advance(Duration::from_hours(25));
            }
            Step::DeadLettered { .. } => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        retries,
        Schedule::default().delays.len(),
        "every retry of the schedule, then dead"
    );
    assert_eq!(receiver.requests().len(), retries + 1);
}

/// A redirect is never followed (it would arrive as a GET without the
/// handoff, and its 200 would be taken for delivery): it is retried, then
/// dead-lettered with where it points.
async fn a_redirecting_webhook_is_a_failure_not_a_delivery(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    let moved = format!("{}/moved-here", receiver.url);
    receiver.by_default(Answer::Status(
        302,
        vec![("location", moved.clone())],
        String::new(),
    ));
    escalated(&store, &rules, "人と話したい").await;
    let clock = Arc::new(ManualClock::new(now()));
    let worker = outbox(&store, &rules, webhook(&receiver.url), &clock);
    let step = worker.step().await.unwrap();
    assert!(matches!(step, Step::Retry { .. }), "{step:?}");
    assert_eq!(receiver.requests().len(), 1, "the redirect is not followed");
    loop {
        clock.advance(Duration::from_hours(25));
        match worker.step().await.unwrap() {
            Step::Retry { .. } => {}
            Step::DeadLettered { .. } => break,
            other => panic!("{other:?}"),
        }
    }
    let dead = store
        .handoffs(Some(madoguchi::store::HandoffStatus::Dead), 10)
        .await
        .unwrap();
    let error = dead[0].last_error.clone().unwrap();
    assert!(
        error.contains("HTTP 302") && error.contains(&moved),
        "{error}"
    );
    assert!(
        receiver.requests().iter().all(|r| r.path == "/"),
        "only the webhook URL was called"
    );
}

/// A ticket system slow to answer one handoff does not hold up the others:
/// the worker delivers a few at once.
async fn a_slow_answer_does_not_hold_up_the_other_handoffs(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    receiver.script([Answer::Hang(Duration::from_secs(6))]);
    for text in ["人と話したい"; 3] {
        escalated(&store, &rules, text).await;
    }
    let worker = Outbox::new(
        store.clone(),
        Arc::new(LiveRules::from_shared(Arc::clone(&rules))),
        Events::default(),
        webhook(&receiver.url),
        Duration::from_secs(10),
        Schedule::default(),
        Arc::new(ManualClock::new(now())),
    )
    .unwrap();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(stopping, Arc::new(tokio::sync::Notify::new())));
    let delivered = || async {
        store
            .handoffs(Some(madoguchi::store::HandoffStatus::Delivered), 10)
            .await
            .unwrap()
            .len()
    };
    let began = std::time::Instant::now();
    while delivered().await < 2 {
        assert!(
            began.elapsed() < Duration::from_secs(4),
            "the other handoffs waited for the slow one"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(delivered().await, 3, "the slow one is delivered too");
}

async fn a_receiver_that_hangs_or_is_down_is_retried(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    receiver.script([Answer::Hang(Duration::from_secs(3))]);
    escalated(&store, &rules, "人と話したい").await;
    let clock = Arc::new(ManualClock::new(now()));
    let worker = outbox(&store, &rules, webhook(&receiver.url), &clock);
    assert!(
        matches!(worker.step().await.unwrap(), Step::Retry { .. }),
        "a timeout is retried"
    );
    let handoff = &store.handoffs(None, 1).await.unwrap()[0];
    assert!(
        handoff.last_error.as_deref().unwrap().contains("timed out"),
        "{handoff:?}"
    );

    let down = outbox(&store, &rules, webhook(&closed_port_url().await), &clock);
    clock.advance(Duration::from_secs(5));
    assert!(
        matches!(down.step().await.unwrap(), Step::Retry { .. }),
        "refused is retried"
    );
}

async fn nothing_is_lost_across_a_restart(db: Db) {
    let Some((store, fresh)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    escalated(&store, &rules, "人と話したい").await;
    escalated(&store, &rules, "オペレーターにつないでください").await;
    let clock = Arc::new(ManualClock::new(now()));
    // The first worker fails one delivery, and dies holding the other.
    let first = outbox(&store, &rules, webhook(&closed_port_url().await), &clock);
    assert!(matches!(first.step().await.unwrap(), Step::Retry { .. }));
    let held = store
        .claim_handoff(
            now().as_millisecond(),
            (now() + jiff::SignedDuration::from_mins(2)).as_millisecond(),
        )
        .await
        .unwrap();
    assert!(
        held.is_some(),
        "the second is taken, then the process is killed"
    );
    drop(first);
    store.close().await;
    drop(store);

    let reopened = madoguchi::store::Store::connect(
        &fresh.url.parse().unwrap(),
        madoguchi::store::Durability::Normal,
    )
    .await
    .unwrap();
    let second = outbox(&reopened, &rules, webhook(&receiver.url), &clock);
    clock.advance(Duration::from_secs(5));
    assert!(
        matches!(second.step().await.unwrap(), Step::Delivered { .. }),
        "the retried one is due"
    );
    assert_eq!(
        second.step().await.unwrap(),
        Step::Empty,
        "the other is still held"
    );
    clock.advance(Duration::from_mins(2));
    assert!(
        matches!(second.step().await.unwrap(), Step::Delivered { .. }),
        "taken again when the lease ends"
    );
    assert_eq!(second.step().await.unwrap(), Step::Empty);
    let ids: std::collections::BTreeSet<String> = receiver
        .requests()
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "both delivered");
    assert_eq!(receiver.requests().len(), 2, "each once");
}

async fn help_desks_get_their_own_ticket_forms(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    receiver.script([
        Answer::Status(201, vec![], r#"{"ticket": {"id": 35436, "url": "https://shop.zendesk.com/api/v2/tickets/35436.json"}}"#.into()),
        Answer::Status(201, vec![], r#"{"id": 77}"#.into()),
    ]);
    escalated(&store, &rules, "人と話したい").await;
    let clock = Arc::new(ManualClock::new(now()));
    let zendesk = Target::Zendesk {
        base_url: receiver.url.clone(),
        email: "agent@shop.example".into(),
        token: Secret::from("zd-token"),
    };
    let step = outbox(&store, &rules, zendesk, &clock)
        .step()
        .await
        .unwrap();
    assert!(
        matches!(step, Step::Delivered { ticket_id: Some(ref t), .. } if t == "35436"),
        "{step:?}"
    );
    escalated(&store, &rules, "オペレーターと話したい").await;
    let freshdesk = Target::Freshdesk {
        base_url: receiver.url.clone(),
        api_key: Secret::from("fd-key"),
        fallback_email: "support@shop.example".into(),
    };
    let step = outbox(&store, &rules, freshdesk, &clock)
        .step()
        .await
        .unwrap();
    assert!(
        matches!(step, Step::Delivered { ticket_id: Some(ref t), .. } if t == "77"),
        "{step:?}"
    );

    let requests = receiver.requests();
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    assert_eq!(requests[0].path, "/api/v2/tickets");
    assert_eq!(
        requests[0].headers["authorization"],
        basic("agent@shop.example/token", "zd-token").as_str()
    );
    let zendesk: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(zendesk["ticket"]["requester"]["email"], "hanako@example.jp");
    assert_eq!(zendesk["ticket"]["priority"], "normal");
    assert!(
        zendesk["ticket"]["comment"]["body"]
            .as_str()
            .unwrap()
            .contains("人と話したい")
    );
    assert_eq!(requests[1].path, "/api/v2/tickets");
    assert_eq!(
        requests[1].headers["authorization"],
        basic("fd-key", "X").as_str()
    );
    let freshdesk: Value = serde_json::from_str(&requests[1].body).unwrap();
    assert_eq!(freshdesk["email"], "hanako@example.jp");
    assert_eq!(freshdesk["priority"], 2);
    assert_eq!(freshdesk["status"], 2);
}

/// An anonymous customer who asks for a person is asked for an e-mail
/// address; whether or not the answer comes, the handoff happens, once.
async fn a_handoff_put_off_behind_the_email_question_happens_anyway(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    let clock = Arc::new(ManualClock::new(now()));
    let worker = outbox(&store, &rules, webhook(&receiver.url), &clock);
    let events = Events::default();

    // The customer leaves after the question: the handoff goes after a while.
    asked_for_an_address(&store, &rules, &events).await;
    assert_eq!(
        worker.step().await.unwrap(),
        Step::Empty,
        "it waits for the answer first"
    );
    clock.advance(Duration::from_mins(5));
    assert!(matches!(
        worker.step().await.unwrap(),
        Step::Delivered { .. }
    ));

    // The customer answers: the same handoff, now with the address, at once.
    let stays = anonymous(&store, &rules).await;
    say(&store, &rules, &events, &stays, "人と話したい", clock.now()).await;
    let answered = say(
        &store,
        &rules,
        &events,
        &stays,
        "hanako@example.jp です",
        clock.now(),
    )
    .await;
    assert!(answered.decision.escalation.is_some());
    assert!(
        matches!(worker.step().await.unwrap(), Step::Delivered { .. }),
        "due at once"
    );
    assert_eq!(
        worker.step().await.unwrap(),
        Step::Empty,
        "one handoff, not two"
    );
    let last: Value = serde_json::from_str(&receiver.requests().last().unwrap().body).unwrap();
    assert_eq!(last["data"]["conversation_id"], stays.as_str());
    assert_eq!(last["data"]["customer"]["email"], "hanako@example.jp");
    assert_eq!(last["data"]["transcript"].as_array().unwrap().len(), 4);
    assert_eq!(receiver.requests().len(), 2);
}

/// A new anonymous chat; returns its id.
async fn anonymous(store: &Store, rules: &RuleSet) -> String {
    let start = Start {
        channel: Channel::Chat,
        identity: Identity::Anonymous,
        external_id: None,
        email: None,
        name: None,
        locale: None,
    };
    conversation::start(store, rules, &start, now())
        .await
        .unwrap()
        .id
}

/// An anonymous conversation whose customer asked for a person and was
/// asked for an e-mail address; returns its id.
async fn asked_for_an_address(store: &Store, rules: &RuleSet, events: &Events) -> String {
    let id = anonymous(store, rules).await;
    let asked = say(store, rules, events, &id, "担当者と話したいです", now()).await;
    assert_eq!(asked.decision.action, madoguchi::engine::Action::AskEmail);
    id
}

async fn say(
    store: &Store,
    rules: &RuleSet,
    events: &Events,
    id: &str,
    text: &str,
    at: jiff::Timestamp,
) -> conversation::Answered {
    let conversation = store.conversation(id).await.unwrap().unwrap();
    customer_message(store, rules, events, conversation, Said::typed(text), at)
        .await
        .unwrap()
}

/// The answer to the e-mail question comes after the put-off handoff went
/// out: the conversation was moved to a person when it went, and the
/// address is added to that ticket as `handoff.updated`, never a second
/// ticket.
async fn a_late_answer_adds_to_the_ticket_instead_of_opening_another(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    receiver.by_default(Answer::ok_with_ticket("T-100"));
    let clock = Arc::new(ManualClock::new(now()));
    let events = Events::default();
    let worker = outbox_with(&store, &rules, webhook(&receiver.url), &clock, &events);
    let id = asked_for_an_address(&store, &rules, &events).await;
    let mut listener = events.subscribe(&id);

    clock.advance(Duration::from_mins(5));
    assert!(matches!(
        worker.step().await.unwrap(),
        Step::Delivered { .. }
    ));
    let conversation = store.conversation(&id).await.unwrap().unwrap();
    assert_eq!(conversation.state.status, Status::HandedOff);
    let mut seen = Vec::new();
    while let Ok(event) = listener.events.try_recv() {
        seen.push(event.event.kind());
    }
    assert_eq!(seen, ["state", "ticket"], "the customer sees both");

    let late = clock.now();
    let answered = say(&store, &rules, &events, &id, "hanako@example.jp です", late).await;
    assert_eq!(answered.decision.escalation, None, "no second escalation");
    assert!(matches!(
        worker.step().await.unwrap(),
        Step::Delivered { .. }
    ));
    assert_eq!(worker.step().await.unwrap(), Step::Empty, "nothing more");

    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    let created: Value = serde_json::from_str(&requests[0].body).unwrap();
    let updated: Value = serde_json::from_str(&requests[1].body).unwrap();
    assert_eq!(updated["type"], "handoff.updated");
    assert_eq!(updated["data"]["handoff_id"], created["data"]["handoff_id"]);
    assert_eq!(updated["data"]["ticket_id"], "T-100");
    assert_eq!(updated["data"]["new_details"]["email"], "hanako@example.jp");
    assert_eq!(updated["data"]["customer"]["email"], "hanako@example.jp");
    assert_eq!(
        updated["data"]["transcript"][0]["text"],
        "hanako@example.jp です"
    );
    assert_eq!(
        requests[1].headers["webhook-id"].to_str().unwrap(),
        updated["data"]["update_id"].as_str().unwrap()
    );
    assert_ne!(
        requests[1].headers["webhook-id"],
        requests[0].headers["webhook-id"]
    );
    assert!(signature_verifies(&requests[1]));
    let schema: Value =
        serde_json::from_str(include_str!("../schemas/handoff.updated.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&updated)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{updated:#}");

    let tickets = store
        .transcript(&id)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.author == madoguchi::store::Author::System)
        .count();
    assert_eq!(tickets, 1, "one ticket message in the transcript");
    // A second detail later: a second update, with only what is new since
    // the first.
    let later = clock.now();
    say(
        &store,
        &rules,
        &events,
        &id,
        "注文番号は HM-12345678 です",
        later,
    )
    .await;
    assert!(matches!(
        worker.step().await.unwrap(),
        Step::Delivered { .. }
    ));
    let second: Value = serde_json::from_str(&receiver.requests()[2].body).unwrap();
    assert_eq!(second["type"], "handoff.updated");
    assert_eq!(second["data"]["new_details"]["order_number"], "HM-12345678");
    assert!(
        second["data"]["new_details"].get("email").is_none(),
        "{second:#}"
    );
    assert_eq!(
        second["data"]["transcript"][0]["text"],
        "注文番号は HM-12345678 です"
    );

    let handoffs = store.handoffs(None, 10).await.unwrap();
    assert_eq!(handoffs.len(), 3);
    assert!(
        handoffs
            .iter()
            .any(|h| h.updates.as_deref() == created["data"]["handoff_id"].as_str())
    );
}

/// The answer comes while the put-off handoff is being sent: the engine
/// still hands off, and the store makes that an update of the handoff under
/// way, sent once it is delivered.
async fn an_answer_while_the_handoff_is_under_way_is_an_update_of_it(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    receiver.by_default(Answer::ok_with_ticket("T-7"));
    let clock = Arc::new(ManualClock::new(now()));
    let events = Events::default();
    let id = asked_for_an_address(&store, &rules, &events).await;
    clock.advance(Duration::from_mins(5));
    let at = clock.now().as_millisecond();
    // Another worker has it, mid-delivery.
    let Some(Claimed::Handoff(under_way)) = store.claim_handoff(at, at + 60_000).await.unwrap()
    else {
        panic!("the handoff is due");
    };
    let answered = say(
        &store,
        &rules,
        &events,
        &id,
        "hanako@example.jp です",
        clock.now(),
    )
    .await;
    assert!(
        answered.decision.escalation.is_some(),
        "the engine hands off"
    );
    let worker = outbox_with(&store, &rules, webhook(&receiver.url), &clock, &events);
    assert_eq!(
        worker.step().await.unwrap(),
        Step::Empty,
        "the update waits for the handoff it adds to"
    );
    assert!(
        store
            .handoff_delivered(&under_way.id, under_way.attempts, Some("T-7"), None, at)
            .await
            .unwrap()
    );
    assert!(matches!(
        worker.step().await.unwrap(),
        Step::Delivered { .. }
    ));
    assert_eq!(worker.step().await.unwrap(), Step::Empty);
    let requests = receiver.requests();
    assert_eq!(
        requests.len(),
        1,
        "only the update came through this worker"
    );
    let updated: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(updated["type"], "handoff.updated");
    assert_eq!(updated["data"]["handoff_id"], under_way.id.as_str());
    assert_eq!(updated["data"]["ticket_id"], "T-7");
}

/// Help desks get the late detail on the ticket already opened: a private
/// comment on Zendesk, a private note on Freshdesk.
async fn help_desks_get_updates_on_the_ticket_they_opened(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    let clock = Arc::new(ManualClock::new(now()));
    let events = Events::default();
    let zendesk = Target::Zendesk {
        base_url: receiver.url.clone(),
        email: "agent@shop.example".into(),
        token: Secret::from("zd-token"),
    };
    let freshdesk = Target::Freshdesk {
        base_url: receiver.url.clone(),
        api_key: Secret::from("fd-key"),
        fallback_email: "support@shop.example".into(),
    };
    for (target, created, path) in [
        (
            zendesk,
            r#"{"ticket": {"id": 35436}}"#,
            "/api/v2/tickets/35436",
        ),
        (freshdesk, r#"{"id": 77}"#, "/api/v2/tickets/77/notes"),
    ] {
        receiver.script([
            Answer::Status(201, vec![], created.into()),
            Answer::Status(200, vec![], "{}".into()),
        ]);
        let before = receiver.requests().len();
        let worker = outbox_with(&store, &rules, target, &clock, &events);
        let id = asked_for_an_address(&store, &rules, &events).await;
        clock.advance(Duration::from_mins(5));
        assert!(matches!(
            worker.step().await.unwrap(),
            Step::Delivered { .. }
        ));
        say(
            &store,
            &rules,
            &events,
            &id,
            "hanako@example.jp です",
            clock.now(),
        )
        .await;
        assert!(matches!(
            worker.step().await.unwrap(),
            Step::Delivered { .. }
        ));
        let requests = receiver.requests();
        assert_eq!(requests.len(), before + 2);
        let update = &requests[before + 1];
        assert_eq!(update.path, path);
        let body: Value = serde_json::from_str(&update.body).unwrap();
        let text = if path.ends_with("notes") {
            assert_eq!(body["private"], true);
            body["body"].as_str().unwrap().to_owned()
        } else {
            assert_eq!(body["ticket"]["comment"]["public"], false);
            body["ticket"]["comment"]["body"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert!(text.contains("email: hanako@example.jp"), "{text}");
    }
}

/// A handoff whose row holds what madoguchi never wrote is dead-lettered,
/// where operators look, instead of being claimed again forever.
async fn an_unreadable_handoff_is_dead_lettered_not_retried_forever(db: Db) {
    let Some((store, fresh)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    escalated(&store, &rules, "人と話したい").await;
    tamper(&fresh.url, "UPDATE handoffs SET priority = 'critical'").await;
    let clock = Arc::new(ManualClock::new(now()));
    let worker = outbox(&store, &rules, webhook(&receiver.url), &clock);
    assert!(
        matches!(worker.step().await.unwrap(), Step::DeadLettered { .. }),
        "dead-lettered at once"
    );
    assert_eq!(worker.step().await.unwrap(), Step::Empty);
    assert!(receiver.requests().is_empty(), "nothing was sent");
}

/// A worker whose lease ran out cannot overwrite what the next one did.
async fn a_stale_worker_cannot_overwrite_the_outcome(db: Db) {
    let Some((store, _db)) = store(db).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    escalated(&store, &rules, "人と話したい").await;
    let at = now().as_millisecond();
    let Some(Claimed::Handoff(stale)) = store.claim_handoff(at, at + 1_000).await.unwrap() else {
        panic!("a readable handoff is due");
    };
    let clock = Arc::new(ManualClock::new(now()));
    clock.advance(Duration::from_secs(2));
    let worker = outbox(&store, &rules, webhook(&receiver.url), &clock);
    assert!(matches!(
        worker.step().await.unwrap(),
        Step::Delivered { .. }
    ));
    let overwritten = store
        .handoff_dead(&stale.id, stale.attempts, "late", at + 3_000)
        .await
        .unwrap();
    assert!(!overwritten, "the stale outcome is dropped");
    assert_eq!(
        store
            .handoff(&stale.id)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "delivered"
    );
}

both_databases! {
    a_slow_answer_does_not_hold_up_the_other_handoffs => a_slow_answer_does_not_hold_up_the_other_handoffs;
    a_redirecting_webhook_is_a_failure_not_a_delivery => a_redirecting_webhook_is_a_failure_not_a_delivery;
    an_unreadable_handoff_is_dead_lettered_not_retried_forever => an_unreadable_handoff_is_dead_lettered_not_retried_forever;
    delivered_once_after_failures_signed_with_the_same_id => delivered_once_after_failures_signed_with_the_same_id;
    every_payload_matches_the_json_schema => every_payload_matches_the_json_schema;
    a_permanent_failure_is_dead_lettered_and_retried_by_hand => a_permanent_failure_is_dead_lettered_and_retried_by_hand;
    a_spent_schedule_is_dead_lettered => a_spent_schedule_is_dead_lettered;
    a_receiver_that_hangs_or_is_down_is_retried => a_receiver_that_hangs_or_is_down_is_retried;
    nothing_is_lost_across_a_restart => nothing_is_lost_across_a_restart;
    help_desks_get_their_own_ticket_forms => help_desks_get_their_own_ticket_forms;
    a_handoff_put_off_behind_the_email_question_happens_anyway => a_handoff_put_off_behind_the_email_question_happens_anyway;
    a_stale_worker_cannot_overwrite_the_outcome => a_stale_worker_cannot_overwrite_the_outcome;
    a_late_answer_adds_to_the_ticket_instead_of_opening_another => a_late_answer_adds_to_the_ticket_instead_of_opening_another;
    an_answer_while_the_handoff_is_under_way_is_an_update_of_it => an_answer_while_the_handoff_is_under_way_is_an_update_of_it;
    help_desks_get_updates_on_the_ticket_they_opened => help_desks_get_updates_on_the_ticket_they_opened;
}

/// 200 handoffs, two workers with a pool each on one PostgreSQL database:
/// every handoff delivered exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_postgres_deliver_each_handoff_exactly_once() {
    let Some((store, fresh)) = store(Db::Postgres).await else {
        return;
    };
    let rules = rules();
    let receiver = Receiver::start().await;
    for _ in 0..200 {
        escalated(&store, &rules, "人と話したい").await;
    }
    let clock = Arc::new(ManualClock::new(now()));
    let other = madoguchi::store::Store::connect(
        &fresh.url.parse().unwrap(),
        madoguchi::store::Durability::Normal,
    )
    .await
    .unwrap();
    let workers = [
        outbox(&store, &rules, webhook(&receiver.url), &clock),
        outbox(&other, &rules, webhook(&receiver.url), &clock),
    ];
    let drained = futures_util::future::join_all(workers.iter().map(|w| async move {
        let mut delivered = 0;
        loop {
            match w.step().await.unwrap() {
                Step::Empty => return delivered,
                Step::Delivered { .. } => delivered += 1,
                other => panic!("{other:?}"),
            }
        }
    }))
    .await;
    assert_eq!(drained.iter().sum::<usize>(), 200);
    assert!(
        drained.iter().all(|&n| n > 0),
        "both workers took part: {drained:?}"
    );
    let requests = receiver.requests();
    let ids: std::collections::BTreeSet<String> = requests
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(requests.len(), 200, "no handoff sent twice");
    assert_eq!(ids.len(), 200);
}
