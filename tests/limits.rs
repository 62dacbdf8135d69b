//! What one client, conversation or stream may take: rate limits answered
//! 429 with `Retry-After`, the cap on messages per conversation, the cap on
//! live streams per conversation, pages of long listings, and handoffs of
//! bounded size. Against the real service, on SQLite and PostgreSQL.

// Test bodies shared by both databases are plain functions, outside
// `#[test]`, where clippy would otherwise flag every `unwrap`.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Db, error_code, spawn_app_with};
use serde_json::{Value, json};

/// Starts a conversation as the client `address` behind the service's
/// proxy; returns the status.
async fn start_from(app: &common::TestApp, address: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/conversations"))
        .header("x-forwarded-for", address)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
}

async fn new_conversations_are_limited_per_client_address(db: Db) {
    let Some(app) = spawn_app_with(
        db,
        "rate_limit_starts_per_minute = 2\ntrusted_proxies = ['127.0.0.1']",
    )
    .await
    else {
        return;
    };
    for _ in 0..2 {
        assert_eq!(start_from(&app, "203.0.113.7").await.status(), 201);
    }
    let refused = start_from(&app, "203.0.113.7").await;
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(error_code(refused).await, (429, "rate_limited".to_owned()));
    // Another client behind the same proxy has limits of its own.
    assert_eq!(start_from(&app, "198.51.100.9").await.status(), 201);
    app.stop().await;
}

async fn a_forwarded_address_counts_only_from_a_trusted_proxy(db: Db) {
    let Some(app) = spawn_app_with(db, "rate_limit_starts_per_minute = 1").await else {
        return;
    };
    assert_eq!(start_from(&app, "203.0.113.7").await.status(), 201);
    // The header is not believed: the client is the connection's address.
    let spoofed = start_from(&app, "198.51.100.9").await;
    assert_eq!(error_code(spoofed).await.0, 429);
    app.stop().await;
}

async fn messages_are_limited_per_conversation_and_capped(db: Db) {
    let Some(app) = spawn_app_with(
        db,
        "rate_limit_messages_per_minute = 3\nmax_messages_per_conversation = 100",
    )
    .await
    else {
        return;
    };
    let conversation = app.start(json!({})).await;
    for _ in 0..3 {
        app.say_ok(&conversation, "送料はいくらですか").await;
    }
    let refused = app.say(&conversation, "送料はいくらですか").await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_code(refused).await, (429, "rate_limited".to_owned()));
    // Another conversation is not held up by this one.
    let other = app.start(json!({})).await;
    app.say_ok(&other, "送料はいくらですか").await;
    app.stop().await;

    let Some(app) = spawn_app_with(db, "max_messages_per_conversation = 6").await else {
        return;
    };
    let conversation = app.start(json!({})).await;
    for _ in 0..3 {
        app.say_ok(&conversation, "送料はいくらですか").await;
    }
    let full = app.say(&conversation, "送料はいくらですか").await;
    assert_eq!(error_code(full).await, (429, "message_limit".to_owned()));
    let transcript: Value = app
        .get_json(
            &format!("/v1/conversations/{}", conversation.id),
            &conversation.token,
        )
        .await;
    assert_eq!(transcript["messages"].as_array().unwrap().len(), 6);
    app.stop().await;
}

async fn with_rate_limits_off_one_address_may_send_as_much_as_it_likes(db: Db) {
    let Some(app) = spawn_app_with(
        db,
        "rate_limits = 'off'\nrate_limit_starts_per_minute = 1\nrate_limit_messages_per_minute = 1",
    )
    .await
    else {
        return;
    };
    let conversation = app.start(json!({})).await;
    app.start(json!({})).await;
    for _ in 0..3 {
        app.say_ok(&conversation, "送料はいくらですか").await;
    }
    app.stop().await;
}

/// Whether the stream ends within a few seconds.
async fn ends(response: reqwest::Response) -> bool {
    let mut body = response.bytes_stream();
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await
    .is_ok()
}

async fn a_new_stream_over_the_cap_closes_the_oldest(db: Db) {
    let Some(app) = spawn_app_with(db, "max_streams_per_conversation = 2").await else {
        return;
    };
    let conversation = app.start(json!({})).await;
    let oldest = app.events(&conversation).await;
    let second = app.events(&conversation).await;
    let _newest = app.events(&conversation).await;
    assert!(ends(oldest).await, "the oldest stream is closed");
    let still_open = tokio::time::timeout(Duration::from_millis(500), ends(second)).await;
    assert!(still_open.is_err(), "the others stay open");
    app.stop().await;
}

async fn long_listings_come_in_pages(db: Db) {
    let Some(app) = spawn_app_with(db, "rate_limits = 'off'").await else {
        return;
    };
    let conversation = app.start(json!({})).await;
    for n in 0..5 {
        app.say_ok(&conversation, &format!("送料はいくらですか {n}"))
            .await;
    }
    let path = format!("/v1/conversations/{}", conversation.id);
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page: Value = app
            .get_json(
                &format!("{path}?after={after}&limit=4"),
                &conversation.token,
            )
            .await;
        for message in page["messages"].as_array().unwrap() {
            seen.push(message["seq"].as_i64().unwrap());
        }
        match page["next"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(
        seen,
        (1..=10).collect::<Vec<_>>(),
        "every message once, in order"
    );
    let whole: Value = app.get_json(&path, &conversation.token).await;
    assert_eq!(whole["messages"].as_array().unwrap().len(), 10);
    assert!(whole.get("next").is_none(), "without paging, all at once");

    for _ in 0..4 {
        app.start(json!({})).await;
    }
    let mut listed = Vec::new();
    let mut query = "/v1/admin/conversations?limit=2".to_owned();
    loop {
        let page = app.admin_json(&query).await;
        for c in page["conversations"].as_array().unwrap() {
            listed.push(c["id"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(next) => query = format!("/v1/admin/conversations?limit=2&after={next}"),
            None => break,
        }
    }
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(listed.len(), 5, "{listed:?}");
    assert_eq!(unique.len(), 5, "no conversation twice");
    let bad = app
        .admin(
            reqwest::Method::GET,
            "/v1/admin/conversations?after=nonsense",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(bad).await, (422, "invalid".to_owned()));
    app.stop().await;
}

async fn a_long_conversation_is_handed_off_trimmed_with_a_link_to_the_whole(db: Db) {
    let receiver = common::Receiver::start().await;
    let config = format!(
        "webhook_url = '{}'\nmax_handoff_messages = 6\npublic_url = 'https://chat.shop.example/'\nrate_limits = 'off'",
        receiver.url
    );
    let Some(app) = spawn_app_with(db, &config).await else {
        return;
    };
    let conversation = app.start(json!({ "email": "taro@example.jp" })).await;
    for n in 0..8 {
        app.say_ok(&conversation, &format!("送料はいくらですか {n}"))
            .await;
    }
    let answer = app.say_ok(&conversation, "担当者と話したいです").await;
    assert_eq!(answer["escalated"], true);
    let began = std::time::Instant::now();
    while receiver.requests().is_empty() {
        assert!(began.elapsed() < Duration::from_secs(10), "no handoff came");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let body: Value = serde_json::from_str(&receiver.requests()[0].body).unwrap();
    let data = &body["data"];
    let lines = data["transcript"].as_array().unwrap();
    assert_eq!(lines.len(), 7, "six messages and the note");
    assert_eq!(data["transcript_omitted"], 12, "18 messages, 6 sent");
    assert!(
        lines.iter().any(|l| l["author"] == "system"
            && l["text"].as_str().unwrap().contains("12 messages left out"))
    );
    assert_eq!(
        data["transcript_url"],
        format!(
            "https://chat.shop.example/v1/admin/conversations/{}",
            conversation.id
        )
        .as_str()
    );
    assert_eq!(
        lines.last().unwrap()["text"],
        answer["reply"]["text"],
        "the latest messages are kept"
    );
    let schema: Value =
        serde_json::from_str(include_str!("../schemas/handoff.created.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(
        validator.is_valid(&body),
        "the trimmed payload fits the schema"
    );
    app.stop().await;
}

both_databases! {
    new_conversations_are_limited_per_client_address => new_conversations_are_limited_per_client_address;
    a_forwarded_address_counts_only_from_a_trusted_proxy => a_forwarded_address_counts_only_from_a_trusted_proxy;
    messages_are_limited_per_conversation_and_capped => messages_are_limited_per_conversation_and_capped;
    with_rate_limits_off_one_address_may_send_as_much_as_it_likes => with_rate_limits_off_one_address_may_send_as_much_as_it_likes;
    a_new_stream_over_the_cap_closes_the_oldest => a_new_stream_over_the_cap_closes_the_oldest;
    long_listings_come_in_pages => long_listings_come_in_pages;
    a_long_conversation_is_handed_off_trimmed_with_a_link_to_the_whole => a_long_conversation_is_handed_off_trimmed_with_a_link_to_the_whole;
}
