//! The chat API and the agent API, spoken to over HTTP on a real server
//! with a fresh database: every test runs on SQLite and on PostgreSQL.

// Test bodies shared by both databases are plain functions, outside
// `#[test]`, where clippy would otherwise flag every `unwrap`.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Db, Started, error_code, spawn_app, spawn_app_with};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

async fn a_customer_asks_and_reads_the_transcript(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation = app.start(json!({ "locale": "ja" })).await;
    let answer = app.say_ok(&conversation, "送料はいくらですか").await;
    assert_eq!(answer["intent"], "shipping_cost");
    assert_eq!(answer["escalated"], false);
    assert_eq!(answer["state"], "bot");
    assert!(answer["reply"]["text"].as_str().unwrap().contains("550円"));
    assert!(answer["reply"]["quick_replies"].is_array());

    let transcript: Value = app
        .get_json(
            &format!("/v1/conversations/{}", conversation.id),
            &conversation.token,
        )
        .await;
    assert_eq!(transcript["state"], "bot");
    let messages = transcript["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["author"], "customer");
    assert_eq!(messages[0]["text"], "送料はいくらですか");
    assert_eq!(messages[1]["author"], "bot");
    assert!(messages[1]["at"].as_str().unwrap().ends_with('Z'));
    app.stop().await;
}

/// An address the customer types in the chat is the customer's e-mail in
/// the agent API, as it is in the handoff.
async fn an_email_typed_in_the_chat_is_the_customers_for_agents(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation = app.start(json!({})).await;
    app.say_ok(&conversation, "連絡先は hanako@example.jp です")
        .await;
    let detail = app
        .admin_json(&format!("/v1/admin/conversations/{}", conversation.id))
        .await;
    assert_eq!(detail["customer"]["email"], "hanako@example.jp");
    app.stop().await;
}

async fn one_visitor_cannot_read_anothers_conversation(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let mine = app.start(json!({})).await;
    let theirs = app.start(json!({})).await;
    let get = |id: &str, token: Option<&str>| {
        let request = app.client.get(app.url(&format!("/v1/conversations/{id}")));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };
    let (status, code) = error_code(get(&theirs.id, Some(&mine.token)).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    let (status, _) = error_code(get(&theirs.id, None).await.unwrap()).await;
    assert_eq!(status, 401);
    // An unknown id is answered as a wrong token, so ids cannot be probed.
    let (status, code) = error_code(get("0000", Some(&mine.token)).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    app.stop().await;
}

async fn bad_requests_get_a_json_error_with_the_right_status(db: Db) {
    let Some(app) = spawn_app_with(db, "max_body_bytes = 2048").await else {
        return;
    };
    let conversation = app.start(json!({})).await;
    let url = app.url(&format!("/v1/conversations/{}/messages", conversation.id));
    let post = |body: &'static str, content_type: &'static str| {
        app.client
            .post(&url)
            .bearer_auth(&conversation.token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: [(&str, &str, u16, &str); 6] = [
        ("{\"text\": ", "application/json", 400, "malformed_json"),
        (
            "text=hello",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
        ),
        ("{\"text\": \"   \"}", "application/json", 422, "empty"),
        ("{\"txt\": \"hello\"}", "application/json", 422, "invalid"),
        ("[\"hello\"]", "application/json", 422, "invalid"),
        (
            "{\"text\": \"hello\"}",
            "application/json; charset=latin1",
            415,
            "unsupported_media_type",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let found = error_code(post(body, content_type).await.unwrap()).await;
        assert_eq!(found, (status, code.to_owned()), "{body}");
    }
    let big = json!({ "text": "あ".repeat(3000) }).to_string();
    let response = app
        .client
        .post(&url)
        .bearer_auth(&conversation.token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (413, "payload_too_large".to_owned())
    );
    for method in [reqwest::Method::DELETE, reqwest::Method::OPTIONS] {
        let response = app
            .client
            .request(method.clone(), app.url("/v1/conversations"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response).await,
            (405, "method_not_allowed".to_owned()),
            "{method}"
        );
    }
    // The scheme of `Authorization` is case-insensitive.
    let lower = app
        .client
        .post(&url)
        .header("authorization", format!("bearer {}", conversation.token))
        .json(&json!({ "text": "こんにちは" }))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);
    app.stop().await;
}

async fn card_numbers_are_masked_before_they_are_stored(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation = app.start(json!({})).await;
    app.say_ok(&conversation, "カード 4111 1111 1111 1111 で払えません")
        .await;
    let transcript: Value = app
        .get_json(
            &format!("/v1/conversations/{}", conversation.id),
            &conversation.token,
        )
        .await;
    let text = transcript["messages"][0]["text"].as_str().unwrap();
    assert_eq!(text, "カード **** **** **** 1111 で払えません");
    app.stop().await;
}

/// Numbers typed the Japanese way (full-width, IME separators) are masked
/// too, in every field the customer fills in, before anything is kept or
/// extracted from them.
async fn card_numbers_typed_the_japanese_way_are_masked_everywhere(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation = app
        .start(json!({ "name": "山田 ４１１１ １１１１ １１１１ １１１１" }))
        .await;
    for text in [
        "カードは４１１１－１１１１－１１１１－１１１１です",
        "マイナンバー １２３４－５６７８－９０１８",
        "4111\u{3000}1111\u{3000}1111\u{3000}1111 で払えません",
    ] {
        app.say_ok(&conversation, text).await;
    }
    let detail = app
        .admin_json(&format!("/v1/admin/conversations/{}", conversation.id))
        .await
        .to_string();
    for digits in [
        "４１１１－１１１１",
        "１２３４－５６７８",
        "1111\u{3000}1111",
        "１１１１ １１１１",
    ] {
        assert!(!detail.contains(digits), "{digits} kept in {detail}");
    }
    assert!(detail.contains("****－****－****－１１１１"), "{detail}");
    assert!(detail.contains("山田 **** **** **** １１１１"), "{detail}");
    let details = app
        .admin_json(&format!("/v1/admin/conversations/{}", conversation.id))
        .await["dialogue"]["details"]
        .clone();
    for (name, value) in details.as_object().unwrap() {
        assert!(
            !value.as_str().unwrap_or_default().contains("1111"),
            "{name} = {value}: part of a card number taken for a detail"
        );
    }
    app.stop().await;
}

async fn an_angry_customer_is_handed_off_and_listed_for_agents(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation = app
        .start(json!({ "name": "山田太郎", "email": "taro@example.jp" }))
        .await;
    let answer = app
        .say_ok(
            &conversation,
            "一週間以上たっても届かないってどういうことですか！ふざけないでください！！",
        )
        .await;
    assert_eq!(answer["escalated"], true);
    assert_eq!(answer["state"], "handed_off");

    let listed: Value = app
        .admin_json("/v1/admin/conversations?state=handed_off")
        .await;
    let ids: Vec<&str> = listed["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [conversation.id.as_str()]);

    let detail: Value = app
        .admin_json(&format!("/v1/admin/conversations/{}", conversation.id))
        .await;
    assert_eq!(detail["customer"]["email"], "taro@example.jp");
    assert_eq!(detail["customer"]["verified"], false);
    assert_eq!(detail["dialogue"]["handoff"]["reason"], "complaint");
    assert_eq!(detail["dialogue"]["handoff"]["priority"], "high");
    let decision = &detail["messages"][0]["decision"];
    assert_eq!(decision["classification"]["complaint"], true);
    assert!(
        !decision["classification"]["cues"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Without the admin token there is nothing to see.
    let response = app
        .client
        .get(app.url("/v1/admin/conversations"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await.0, 401);
    app.stop().await;
}

/// Reads Server-Sent Events until one named `name` arrives.
async fn next_event(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut String,
    name: &str,
) -> Value {
    let deadline = Duration::from_secs(10);
    tokio::time::timeout(deadline, async {
        loop {
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let event = block.lines().find_map(|l| l.strip_prefix("event: "));
                let data = block.lines().find_map(|l| l.strip_prefix("data: "));
                if event == Some(name) {
                    return serde_json::from_str(data.unwrap_or("null")).unwrap();
                }
            }
            let chunk = stream.next().await.expect("the stream goes on").unwrap();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no `{name}` event within {deadline:?}"))
}

/// Every event of the stream until `until` is read: `(id, event, data)`.
async fn events_until(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut String,
    until: &str,
) -> Vec<(i64, String, Value)> {
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(str::to_owned)
                };
                let (Some(id), Some(event), Some(data)) =
                    (field("id: "), field("event: "), field("data: "))
                else {
                    continue;
                };
                let data: Value = serde_json::from_str(&data).unwrap();
                let done = data.to_string().contains(until);
                seen.push((id.parse().unwrap(), event, data));
                if done {
                    return;
                }
            }
            let chunk = stream.next().await.expect("the stream goes on").unwrap();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("`{until}` did not come; seen: {seen:?}"));
    seen
}

/// A client that lost its connection reconnects with the last event id it
/// read and gets what it missed from the store, then the live events, each
/// once, in order.
async fn a_reconnecting_client_gets_the_events_it_missed(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation = app.start(json!({ "email": "hanako@example.jp" })).await;
    app.say_ok(&conversation, "人と話したいです").await;
    let agent_says = |text: &'static str| {
        app.admin(
            Method::POST,
            &format!("/v1/admin/conversations/{}/messages", conversation.id),
        )
        .json(&json!({ "text": text, "agent": "佐藤" }))
        .send()
    };
    assert_eq!(agent_says("一通目です").await.unwrap().status(), 201);
    assert_eq!(agent_says("二通目です").await.unwrap().status(), 201);
    let resume = |after: &str| {
        app.client
            .get(app.url(&format!("/v1/conversations/{}/events", conversation.id)))
            .bearer_auth(&conversation.token)
            .header("last-event-id", after)
            .send()
    };

    // From the start: the handoff's state change, then both messages.
    let mut stream = resume("0").await.unwrap().bytes_stream();
    let mut buffer = String::new();
    let all = events_until(&mut stream, &mut buffer, "二通目です").await;
    let kinds: Vec<(i64, &str)> = all
        .iter()
        .map(|(id, kind, _)| (*id, kind.as_str()))
        .collect();
    assert_eq!(kinds, [(1, "state"), (2, "message"), (3, "message")]);
    assert_eq!(all[0].2["state"], "handed_off");
    drop(stream);

    // After the first message: the second from the store, a third live.
    let mut stream = resume("2").await.unwrap().bytes_stream();
    let mut buffer = String::new();
    let missed = events_until(&mut stream, &mut buffer, "二通目です").await;
    assert_eq!(missed.len(), 1, "{missed:?}");
    assert_eq!(missed[0].0, 3);
    assert_eq!(agent_says("三通目です").await.unwrap().status(), 201);
    let live = events_until(&mut stream, &mut buffer, "三通目です").await;
    assert_eq!(live.iter().map(|e| e.0).collect::<Vec<_>>(), [4]);

    // The transcript says where its events end, so that a client showing it
    // listens from there.
    let transcript = app
        .get_json(
            &format!("/v1/conversations/{}", conversation.id),
            &conversation.token,
        )
        .await;
    assert_eq!(transcript["last_event"], 4);

    let wrong = resume("yesterday").await.unwrap();
    assert_eq!(error_code(wrong).await, (422, "invalid".to_owned()));
    app.stop().await;
}

/// An event kept without being published here (written by another replica,
/// or published after a later one) is not lost: the next live event after
/// the gap brings it from the store first, in order.
async fn an_event_published_elsewhere_reaches_the_stream_in_order(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation = app.start(json!({ "email": "hanako@example.jp" })).await;
    app.say_ok(&conversation, "人と話したいです").await;
    let mut stream = app.events(&conversation).await.bytes_stream();
    let mut buffer = String::new();

    // "Another replica": the same database, another event hub.
    let elsewhere = madoguchi::store::Store::connect(
        &app.database_url().parse().unwrap(),
        madoguchi::store::Durability::Normal,
    )
    .await
    .unwrap();
    let record = elsewhere
        .conversation(&conversation.id)
        .await
        .unwrap()
        .unwrap();
    madoguchi::conversation::agent_message(
        &elsewhere,
        &madoguchi::conversation::Events::default(),
        record,
        "佐藤",
        "別の窓口から失礼します",
        jiff::Timestamp::now(),
    )
    .await
    .unwrap();
    elsewhere.close().await;

    let reply = app
        .admin(
            Method::POST,
            &format!("/v1/admin/conversations/{}/messages", conversation.id),
        )
        .json(&json!({ "text": "担当の鈴木です", "agent": "鈴木" }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    let seen = events_until(&mut stream, &mut buffer, "担当の鈴木です").await;
    let texts: Vec<(i64, &str)> = seen
        .iter()
        .map(|(id, _, data)| (*id, data["text"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        texts,
        [(2, "別の窓口から失礼します"), (3, "担当の鈴木です")],
        "the gap is filled, in order"
    );
    app.stop().await;
}

async fn an_agent_answers_live_and_closes_the_conversation(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation = app.start(json!({ "email": "hanako@example.jp" })).await;
    app.say_ok(&conversation, "人と話したいです").await;
    let events = app.events(&conversation).await;
    assert!(
        events.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = events.bytes_stream();
    let mut buffer = String::new();

    let reply = app
        .admin(
            Method::POST,
            &format!("/v1/admin/conversations/{}/messages", conversation.id),
        )
        .json(&json!({ "text": "担当の佐藤です。ご用件を伺います。", "agent": "佐藤" }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    let message = next_event(&mut stream, &mut buffer, "message").await;
    assert_eq!(message["text"], "担当の佐藤です。ご用件を伺います。");
    assert_eq!(message["agent"], "佐藤");
    assert_eq!(message["author"], "agent");

    let closed = app
        .admin(
            Method::POST,
            &format!("/v1/admin/conversations/{}/close", conversation.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 200);
    let state = next_event(&mut stream, &mut buffer, "state").await;
    assert_eq!(state["state"], "closed");

    let (status, code) = error_code(app.say(&conversation, "まだいますか").await).await;
    assert_eq!((status, code.as_str()), (409, "conversation_closed"));
    app.stop().await;
}

async fn a_verified_customer_is_recognised_across_conversations(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let hash = madoguchi::secret::user_hash(&app.identity_secret, "customer-42");
    let identity =
        json!({ "external_id": "customer-42", "user_hash": hash, "email": "k@example.jp" });
    let first = app.start(identity.clone()).await;
    app.say_ok(&first, "送料はいくらですか").await;
    let second = app.start(identity).await;
    app.say_ok(&second, "オペレーターと話したい").await;

    let detail: Value = app
        .admin_json(&format!("/v1/admin/conversations/{}", second.id))
        .await;
    assert_eq!(detail["customer"]["verified"], true);
    assert_eq!(detail["customer"]["external_id"], "customer-42");
    let earlier = detail["earlier_conversations"].as_array().unwrap();
    assert_eq!(earlier.len(), 1);
    assert_eq!(earlier[0]["id"], first.id.as_str());
    assert_eq!(earlier[0]["verified"], true);
    assert!(earlier[0]["summary"].as_str().unwrap().contains("送料"));

    let wrong = app
        .client
        .post(app.url("/v1/conversations"))
        .json(&json!({ "external_id": "customer-42", "user_hash": "00ff" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(wrong).await.0, 401);

    let customer = detail["customer"]["id"].as_str().unwrap();
    let deleted = app
        .admin(Method::DELETE, &format!("/v1/admin/customers/{customer}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = app
        .admin(
            Method::GET,
            &format!("/v1/admin/conversations/{}", first.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    app.stop().await;
}

/// A tapped quick reply comes back with the intent it stands for and is
/// taken as that intent, whatever its label would classify as; one the last
/// reply did not offer is refused with its own code.
async fn a_tapped_quick_reply_leads_where_it_says(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation = app.start(json!({ "email": "tap@example.jp" })).await;
    let fallback = app.say_ok(&conversation, "ぱぴぷぺぽ").await;
    assert_eq!(fallback["intent"], Value::Null, "{fallback}");
    let offered = fallback["reply"]["quick_replies"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!offered.is_empty(), "a fallback offers topics: {fallback}");

    // Not offered: refused, nothing stored.
    let response = app
        .client
        .post(app.url(&format!("/v1/conversations/{}/messages", conversation.id)))
        .bearer_auth(&conversation.token)
        .json(&json!({ "text": "何か", "quick_reply": "no_such_intent" }))
        .send()
        .await
        .unwrap();
    let (status, code) = error_code(response).await;
    assert_eq!((status, code.as_str()), (422, "quick_reply_not_offered"));

    // Every offered pick, tapped with its label (in a fresh conversation
    // each, so that each is offered), is taken as its intent.
    for pick in &offered {
        let conversation = app.start(json!({ "email": "tap@example.jp" })).await;
        app.say_ok(&conversation, "ぱぴぷぺぽ").await;
        let response = app
            .client
            .post(app.url(&format!("/v1/conversations/{}/messages", conversation.id)))
            .bearer_auth(&conversation.token)
            .json(&json!({ "text": pick["label"], "quick_reply": pick["intent"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let answered: Value = response.json().await.unwrap();
        assert_eq!(answered["intent"], pick["intent"], "{pick}: {answered}");
        // The pick is not offered twice.
        let again = app
            .client
            .post(app.url(&format!("/v1/conversations/{}/messages", conversation.id)))
            .bearer_auth(&conversation.token)
            .json(&json!({ "text": pick["label"], "quick_reply": pick["intent"] }))
            .send()
            .await
            .unwrap();
        let offered_now = answered["reply"]["quick_replies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["intent"] == pick["intent"]);
        if !offered_now {
            assert_eq!(error_code(again).await.0, 422, "{pick} was offered once");
        }
    }
    app.stop().await;
}

/// A handoff put off behind the e-mail question shows in the reply as
/// pending, so that a client can say what will happen; the answer makes it.
async fn a_pending_escalation_is_shown_until_the_answer_makes_it(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation = app.start(json!({})).await;
    let asked = app.say_ok(&conversation, "担当者と話したいです").await;
    assert_eq!(asked["state"], "awaiting_detail", "{asked}");
    assert_eq!(asked["escalated"], false);
    assert_eq!(
        asked["escalation"],
        json!({ "reason": "human_requested", "priority": "normal", "pending": true })
    );
    let answered = app.say_ok(&conversation, "hanako@example.jp です").await;
    assert_eq!(answered["escalated"], true, "{answered}");
    assert_eq!(answered["escalation"]["pending"], false);
    assert_eq!(answered["state"], "handed_off");
    let acknowledged = app.say_ok(&conversation, "よろしくお願いします").await;
    assert_eq!(acknowledged["escalation"], Value::Null);
    app.stop().await;
}

async fn feedback_is_taken_and_checked(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation = app.start(json!({})).await;
    let send = |body: Value| {
        app.client
            .post(app.url(&format!("/v1/conversations/{}/feedback", conversation.id)))
            .bearer_auth(&conversation.token)
            .json(&body)
            .send()
    };
    assert_eq!(
        send(json!({ "helpful": true, "csat": 5 }))
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        error_code(send(json!({ "csat": 9 })).await.unwrap())
            .await
            .0,
        422
    );
    app.stop().await;
}

async fn health_and_readiness_answer(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready: Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    // As many as the rule set the service loaded has, whatever a team adds.
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let loaded = madoguchi::check::load(&rules).unwrap();
    assert_eq!(ready["intents"], loaded.rules.intents().len());
    app.stop().await;
}

async fn stopping_ends_live_streams_and_finishes_cleanly(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let conversation: Started = app.start(json!({})).await;
    let mut stream = app.events(&conversation).await.bytes_stream();
    let address = app.address.clone();
    let client = app.client.clone();
    // The open stream must not keep the service from stopping.
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("the service stops although a stream was open");
    let rest = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = stream.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(rest.is_ok(), "the stream ended");
    let after = client.get(format!("{address}/healthz")).send().await;
    assert!(after.is_err(), "no longer listening");
}

async fn requests_in_flight_when_stopping_are_answered_and_kept(db: Db) {
    // Sixty conversations from one address at once: over the rate limits,
    // which are not what this test is about.
    let Some(app) = spawn_app_with(db, "rate_limits = 'off'").await else {
        return;
    };
    let mut conversations = Vec::new();
    for _ in 0..60 {
        conversations.push(app.start(json!({})).await);
    }
    let url = app.address.clone();
    // A connection of its own per request: the stop may come before a
    // request reached the server (refused, or closed before it was read),
    // but never while it is being answered.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    // The stop begins as soon as the first answer is back, while the
    // others are being answered or not yet read.
    let (answered_tx, mut answered_rx) = tokio::sync::mpsc::unbounded_channel();
    let requests: Vec<_> = conversations
        .iter()
        .map(|c| {
            let request = client
                .post(format!("{url}/v1/conversations/{}/messages", c.id))
                .bearer_auth(&c.token)
                .json(&json!({ "text": "送料はいくらですか" }))
                .send();
            let answered = answered_tx.clone();
            tokio::spawn(async move {
                let status = request.await.map(|response| response.status());
                let _ = answered.send(());
                status
            })
        })
        .collect();
    answered_rx.recv().await;
    let fresh = app.stop_keeping_db().await;
    let store = madoguchi::store::Store::connect(
        &fresh.url.parse().unwrap(),
        madoguchi::store::Durability::Normal,
    )
    .await
    .unwrap();
    let (mut answered, mut refused) = (0, 0);
    for (request, conversation) in requests.into_iter().zip(&conversations) {
        let stored = store.transcript(&conversation.id).await.unwrap().len();
        if let Ok(status) = request.await.unwrap() {
            // Whatever was answered was answered well, and is kept.
            assert_eq!(status, 200, "an accepted request is answered");
            assert_eq!(stored, 2, "the answered message and its reply are stored");
            answered += 1;
        } else {
            // Whatever was not answered left nothing half done.
            assert_eq!(stored, 0, "an unanswered message is not stored");
            refused += 1;
        }
    }
    eprintln!("{answered} answered, {refused} not taken when the service stopped");
    store.close().await;
}

/// Many messages posted at once to one conversation are all stored and
/// answered, each decided after the one before: writers take turns in the
/// database instead of running out of retries.
async fn simultaneous_messages_on_one_conversation_are_all_answered_in_turn(db: Db) {
    const MESSAGES: usize = 120;
    // Far over the rate limit of one conversation, which is not what this
    // test is about.
    let Some(app) = spawn_app_with(db, "rate_limits = 'off'").await else {
        return;
    };
    let conversation = app.start(json!({ "email": "hanako@example.jp" })).await;
    let sent: Vec<String> = (0..MESSAGES)
        .map(|n| format!("送料はいくらですか #{n}"))
        .collect();
    let requests = sent.iter().map(|text| app.say(&conversation, text));
    let responses = futures_util::future::join_all(requests).await;
    for response in responses {
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
    }
    let transcript: Value = app
        .get_json(
            &format!("/v1/conversations/{}", conversation.id),
            &conversation.token,
        )
        .await;
    let messages = transcript["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2 * MESSAGES, "every message and its reply");
    let mut received = Vec::new();
    for (n, pair) in messages.chunks(2).enumerate() {
        assert_eq!(pair[0]["author"], "customer", "turn {n}");
        assert_eq!(
            pair[1]["author"], "bot",
            "turn {n}: each answer follows its message"
        );
        assert_eq!(pair[0]["seq"], 2 * n + 1);
        received.push(pair[0]["text"].as_str().unwrap().to_owned());
    }
    received.sort();
    let mut expected = sent.clone();
    expected.sort();
    assert_eq!(received, expected, "each message stored once");
    app.stop().await;
}

/// A conversation whose row another holds past the lock timeout (twice:
/// the quick write, then the turn taken in the database) is answered 409
/// `conflict` with `Retry-After`, never 500, and the message is taken once
/// the row is free. PostgreSQL only: SQLite's one writer is in the process.
#[tokio::test]
async fn a_conversation_held_too_long_is_a_409_to_send_again() {
    let Some(app) = spawn_app(Db::Postgres).await else {
        return;
    };
    let conversation = app.start(json!({})).await;
    let pool = sqlx::PgPool::connect(app.database_url()).await.unwrap();
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM conversations WHERE id = $1 FOR UPDATE")
        .bind(&conversation.id)
        .execute(&mut *holder)
        .await
        .unwrap();
    let refused = app.say(&conversation, "送料はいくらですか").await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_code(refused).await, (409, "conflict".to_owned()));
    holder.rollback().await.unwrap();
    app.say_ok(&conversation, "送料はいくらですか").await;
    pool.close().await;
    app.stop().await;
}

/// The race needs the service on several threads, as it runs in
/// production (the other tests share one).
mod simultaneous {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        super::simultaneous_messages_on_one_conversation_are_all_answered_in_turn(
            super::common::Db::Sqlite,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        super::simultaneous_messages_on_one_conversation_are_all_answered_in_turn(
            super::common::Db::Postgres,
        )
        .await;
    }
}

/// A full disk is a 503 the client can retry, never a 500; the service is
/// not ready until writes go through again, and every message it
/// acknowledged is kept.
#[tokio::test]
async fn a_full_disk_is_503_and_not_ready_until_there_is_room_again() {
    let Some(disk) = common::SmallDisk::mount(8) else {
        return;
    };
    let app = common::spawn_app_on(common::FreshDb::sqlite_in(disk.path()), "").await;
    let conversation = app.start(json!({})).await;
    let ready = || async {
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(ready().await, 200);
    disk.fill();
    let long = "配送状況を確認できますか。".repeat(200);
    let mut acknowledged = 0;
    let mut refused = None;
    for n in 0..500 {
        let response = app.say(&conversation, &format!("{long} #{n}")).await;
        match response.status().as_u16() {
            200 => acknowledged += 1,
            503 => {
                refused = Some(response);
                break;
            }
            other => panic!("a full disk answered {other}: {:?}", response.text().await),
        }
    }
    let refused = refused.expect("the disk filled up");
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_code(refused).await, (503, "unavailable".to_owned()));
    assert_eq!(ready().await, 503, "not ready while writes fail");
    disk.free();
    assert_eq!(ready().await, 200, "ready again once there is room");
    app.say_ok(&conversation, "送料はいくらですか").await;
    let transcript: Value = app
        .get_json(
            &format!("/v1/conversations/{}", conversation.id),
            &conversation.token,
        )
        .await;
    assert_eq!(
        transcript["messages"].as_array().unwrap().len(),
        2 * (acknowledged + 1),
        "every acknowledged message is kept"
    );
    app.stop().await;
}

/// Polls `check` for up to ten seconds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within ten seconds");
}

async fn a_dead_handoff_is_listed_and_retried_by_hand_then_the_customer_sees_the_ticket(db: Db) {
    let receiver = common::Receiver::start().await;
    receiver.script([common::Answer::Status(422, vec![], "missing field".into())]);
    receiver.by_default(common::Answer::ok_with_ticket("T-42"));
    let config = format!(
        "webhook_url = '{}'\nwebhook_secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'",
        receiver.url
    );
    let Some(app) = spawn_app_with(db, &config).await else {
        return;
    };
    let conversation = app.start(json!({ "email": "taro@example.jp" })).await;
    let answer = app.say_ok(&conversation, "担当者と話したいです").await;
    assert_eq!(answer["escalated"], true);

    let dead = || async {
        let listed: Value = app.admin_json("/v1/admin/handoffs?status=dead").await;
        listed
    };
    eventually("dead-lettering", || async {
        dead().await["counts"]["dead"] == 1
    })
    .await;
    let listed = dead().await;
    let handoff = &listed["handoffs"][0];
    assert_eq!(handoff["conversation_id"], conversation.id.as_str());
    assert!(handoff["last_error"].as_str().unwrap().contains("HTTP 422"));
    let id = handoff["id"].as_str().unwrap().to_owned();

    // The conversation stays with the agents meanwhile.
    let waiting: Value = app
        .admin_json("/v1/admin/conversations?state=handed_off")
        .await;
    assert_eq!(waiting["conversations"].as_array().unwrap().len(), 1);

    let mut stream = app.events(&conversation).await.bytes_stream();
    let mut buffer = String::new();
    let retried = app
        .admin(Method::POST, &format!("/v1/admin/handoffs/{id}/retry"))
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 200);
    let ticket = next_event(&mut stream, &mut buffer, "ticket").await;
    assert_eq!(ticket["ticket_id"], "T-42");
    assert!(ticket["text"].as_str().unwrap().contains("T-42"));
    let again = app
        .admin(Method::POST, &format!("/v1/admin/handoffs/{id}/retry"))
        .send()
        .await
        .unwrap();
    let found = error_code(again).await;
    assert!(
        found == (409, "handoff_not_dead".to_owned()) || found.0 == 200,
        "{found:?}"
    );

    eventually("delivery", || async {
        dead().await["counts"]["delivered"] == 1
    })
    .await;
    let transcript = || async {
        let body: Value = app
            .get_json(
                &format!("/v1/conversations/{}", conversation.id),
                &conversation.token,
            )
            .await;
        body
    };
    eventually("the ticket message", || async {
        transcript().await["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["author"] == "system" && m["text"].as_str().unwrap().contains("T-42"))
    })
    .await;
    let detail: Value = app.admin_json(&format!("/v1/admin/handoffs/{id}")).await;
    assert_eq!(detail["status"], "delivered");
    assert_eq!(detail["ticket_id"], "T-42");
    assert_eq!(detail["payload"]["data"]["handoff_id"], id.as_str());
    assert_eq!(receiver.requests().len(), 2);
    app.stop().await;
}

both_databases! {
    an_email_typed_in_the_chat_is_the_customers_for_agents => an_email_typed_in_the_chat_is_the_customers_for_agents;
    card_numbers_typed_the_japanese_way_are_masked_everywhere => card_numbers_typed_the_japanese_way_are_masked_everywhere;
    a_customer_asks_and_reads_the_transcript => a_customer_asks_and_reads_the_transcript;
    one_visitor_cannot_read_anothers_conversation => one_visitor_cannot_read_anothers_conversation;
    bad_requests_get_a_json_error_with_the_right_status => bad_requests_get_a_json_error_with_the_right_status;
    card_numbers_are_masked_before_they_are_stored => card_numbers_are_masked_before_they_are_stored;
    an_angry_customer_is_handed_off_and_listed_for_agents => an_angry_customer_is_handed_off_and_listed_for_agents;
    an_agent_answers_live_and_closes_the_conversation => an_agent_answers_live_and_closes_the_conversation;
    a_verified_customer_is_recognised_across_conversations => a_verified_customer_is_recognised_across_conversations;
    feedback_is_taken_and_checked => feedback_is_taken_and_checked;
    a_reconnecting_client_gets_the_events_it_missed => a_reconnecting_client_gets_the_events_it_missed;
    an_event_published_elsewhere_reaches_the_stream_in_order => an_event_published_elsewhere_reaches_the_stream_in_order;
    a_pending_escalation_is_shown_until_the_answer_makes_it => a_pending_escalation_is_shown_until_the_answer_makes_it;
    a_tapped_quick_reply_leads_where_it_says => a_tapped_quick_reply_leads_where_it_says;
    health_and_readiness_answer => health_and_readiness_answer;
    stopping_ends_live_streams_and_finishes_cleanly => stopping_ends_live_streams_and_finishes_cleanly;
    requests_in_flight_when_stopping_are_answered_and_kept => requests_in_flight_when_stopping_are_answered_and_kept;
    a_dead_handoff_is_listed_and_retried_by_hand_then_the_customer_sees_the_ticket => a_dead_handoff_is_listed_and_retried_by_hand_then_the_customer_sees_the_ticket;
}

/// Only the configured origins' pages may call the chat API from a
/// browser; the agent API is open to none.
#[tokio::test]
async fn only_configured_origins_may_call_the_chat_api_from_a_browser() {
    let app = spawn_app_with(Db::Sqlite, "cors_origins = ['https://shop.example']")
        .await
        .unwrap();
    let preflight = |path: &str, origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("/v1/conversations", "https://shop.example")
        .await
        .unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("last-event-id"),
        "{headers}"
    );

    let other = preflight("/v1/conversations", "https://evil.example")
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let started = app
        .client
        .post(app.url("/v1/conversations"))
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(
        started
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let admin = preflight("/v1/admin/conversations", "https://shop.example")
        .await
        .unwrap();
    assert!(admin.headers().get("access-control-allow-origin").is_none());
    app.stop().await;
}
