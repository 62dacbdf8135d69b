//! The analytics of the agent API: conversations made through the chat API
//! (and answered through the agent API), with times moved back in the
//! database where a figure depends on time passing; the figures and the
//! conversations behind each, on both databases.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::{Db, Started, TestApp, fresh_db, spawn_app_with_rules, tamper};
use serde_json::{Value, json};

const SHOP: &str = r"
locales: [en]
escalation:
  ask_email: false
  response_time: { chat: 1h, email: 8h }
fallback:
  escalate_after: 2
intents:
  - id: order_status
    match:
      en: { any: [where is my order] }
    answer: { en: We'll check on your order. }
    examples: { en: [Where is my order?] }
  - id: thanks
    tags: [closing]
    match:
      en: { any: [thank you] }
    answer: { en: You're welcome. }
    examples: { en: [Thank you] }
  - id: contract
    escalate: true
    match:
      en: { any: [cancel my contract] }
    answer: { en: A person will answer. }
    examples: { en: [Please cancel my contract] }
";

async fn app(db: Db) -> Option<(TestApp, tempfile::TempDir)> {
    let fresh = fresh_db(db).await?;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("shop.yaml"), SHOP).unwrap();
    let app = spawn_app_with_rules(fresh, dir.path(), "").await;
    Some((app, dir))
}

async fn conversation(app: &TestApp, messages: &[&str]) -> Started {
    let started = app.start(json!({ "locale": "en" })).await;
    for text in messages {
        app.say_ok(&started, text).await;
    }
    started
}

/// Runs a statement on the service's database (the test's own values).
async fn shift(app: &TestApp, statement: String) {
    tamper(app.database_url(), Box::leak(statement.into_boxed_str())).await;
}

async fn ids(app: &TestApp, query: &str) -> BTreeSet<String> {
    let body = app
        .admin_json(&format!("/v1/admin/analytics/conversations?{query}"))
        .await;
    body["conversations"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

fn set(items: &[&Started]) -> BTreeSet<String> {
    items.iter().map(|s| s.id.clone()).collect()
}

async fn figures_and_drill_downs(db: Db) {
    let Some((app, _rules)) = app(db).await else {
        return;
    };
    // Thanked after an answer.
    let thanked = conversation(&app, &["where is my order", "thank you"]).await;
    // Silent after an answer, for two hours.
    let silent = conversation(&app, &["where is my order"]).await;
    shift(
        &app,
        format!(
            "UPDATE messages SET created_at = created_at - 7200000 WHERE conversation_id = '{}'",
            silent.id
        ),
    )
    .await;
    // Thanked, then came back.
    let reopened = conversation(
        &app,
        &["where is my order", "thank you", "where is my order"],
    )
    .await;
    // Not understood twice: handed off, and a person answered.
    let fallback = conversation(&app, &["Blah QWERTY!", "blah   qwerty"]).await;
    let answered = app
        .admin(
            reqwest::Method::POST,
            &format!("/v1/admin/conversations/{}/messages", fallback.id),
        )
        .json(&json!({ "text": "Hello, how can I help?", "agent": "Aiko" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 201);
    // Handed off by rule two hours ago (the promise was one hour), and no
    // one answered.
    let late = conversation(&app, &["cancel my contract"]).await;
    shift(
        &app,
        format!(
            "UPDATE handoffs SET created_at = created_at - 7200000, payload = NULL WHERE conversation_id = '{}'",
            late.id
        ),
    )
    .await;
    for (who, csat) in [(&thanked, 5), (&fallback, 2)] {
        let response = app
            .client
            .post(app.url(&format!("/v1/conversations/{}/feedback", who.id)))
            .bearer_auth(&who.token)
            .json(&json!({ "csat": csat }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }

    let body = app.admin_json("/v1/admin/analytics").await;
    let f = &body["figures"];
    assert_eq!(f["conversations"], 5, "{body}");
    assert_eq!(f["resolution"]["eligible"], 5);
    assert_eq!(f["resolution"]["resolved"], 3, "{}", f["resolution"]);
    assert_eq!(f["resolution"]["by_thanks"], 2);
    assert_eq!(f["resolution"]["by_silence"], 1);
    assert_eq!(f["resolution"]["reopened"], 1);
    assert_eq!(f["fallback"]["decided_messages"], 9, "{}", f["fallback"]);
    assert_eq!(f["fallback"]["messages"], 2);
    assert_eq!(f["fallback"]["conversations"], 1);
    assert_eq!(f["escalations"]["handoffs"], 2);
    let reasons: Vec<(String, u64)> = f["escalations"]["by_reason"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["reason"].as_str().unwrap().to_owned(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [("repeated_fallback".to_owned(), 1), ("rule".to_owned(), 1)]
    );
    let priorities: u64 = f["escalations"]["by_priority"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(priorities, 2);
    let intents: Vec<(String, u64)> = f["intents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["intent"].as_str().unwrap().to_owned(),
                i["messages"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        intents,
        [
            ("order_status".to_owned(), 4),
            ("thanks".to_owned(), 2),
            ("contract".to_owned(), 1)
        ]
    );
    let unmatched = f["unmatched"].as_array().unwrap();
    assert_eq!(unmatched.len(), 1, "{unmatched:?}");
    assert_eq!(unmatched[0]["group"], "blah qwerty");
    assert_eq!(unmatched[0]["messages"], 2);
    assert_eq!(unmatched[0]["conversations"], 1);
    assert_eq!(f["csat"]["responses"], 2);
    assert_eq!(f["csat"]["average"], 3.5);
    assert_eq!(f["csat"]["distribution"]["5"], 1);
    assert_eq!(f["csat"]["distribution"]["2"], 1);
    assert_eq!(f["csat"]["distribution"]["1"], 0);
    assert_eq!(f["first_reply"]["handoffs"], 2, "{}", f["first_reply"]);
    assert_eq!(f["first_reply"]["replied"], 1);
    assert_eq!(f["first_reply"]["within_promise"], 1);
    assert_eq!(f["first_reply"]["late"], 1);
    assert_eq!(f["first_reply"]["waiting"], 0);
    let days = f["daily"].as_array().unwrap();
    assert_eq!(days.len(), 7, "the last 7 days by default");
    let total: u64 = days
        .iter()
        .map(|d| d["conversations"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 5);
    assert_eq!(body["by_channel"]["chat"]["conversations"], 5);
    assert_eq!(body["by_locale"]["en"]["resolution"]["resolved"], 3);

    // Filters.
    let email = app.admin_json("/v1/admin/analytics?channel=email").await;
    assert_eq!(email["figures"]["conversations"], 0);
    let ja = app.admin_json("/v1/admin/analytics?locale=ja").await;
    assert_eq!(ja["figures"]["conversations"], 0);
    let later = app
        .admin_json("/v1/admin/analytics?from=2999-01-01&to=2999-01-31")
        .await;
    assert_eq!(later["figures"]["conversations"], 0);
    assert_eq!(later["figures"]["daily"].as_array().unwrap().len(), 31);

    // Drill-downs.
    assert_eq!(
        ids(&app, "metric=resolved").await,
        set(&[&thanked, &silent, &reopened])
    );
    assert_eq!(ids(&app, "metric=reopened").await, set(&[&reopened]));
    assert_eq!(
        ids(&app, "metric=unresolved").await,
        set(&[&fallback, &late])
    );
    assert_eq!(ids(&app, "metric=fallback").await, set(&[&fallback]));
    assert_eq!(
        ids(&app, "metric=escalated").await,
        set(&[&fallback, &late])
    );
    assert_eq!(
        ids(&app, "metric=escalated&reason=rule").await,
        set(&[&late])
    );
    assert_eq!(
        ids(&app, "metric=intent&intent=order_status").await,
        set(&[&thanked, &silent, &reopened])
    );
    assert_eq!(ids(&app, "metric=csat&score=5").await, set(&[&thanked]));
    assert_eq!(ids(&app, "metric=late_reply").await, set(&[&late]));
    let group = app
        .admin_json("/v1/admin/analytics/conversations?metric=unmatched&group=blah%20qwerty")
        .await;
    assert_eq!(group["total"], 1);
    let texts: Vec<&str> = group["conversations"][0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Blah QWERTY!", "blah   qwerty"]);

    // Pages.
    let mut seen = BTreeSet::new();
    let mut path = "/v1/admin/analytics/conversations?metric=all&limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = app.admin_json(&path).await;
        assert_eq!(page["total"], 5);
        pages += 1;
        for c in page["conversations"].as_array().unwrap() {
            assert!(seen.insert(c["id"].as_str().unwrap().to_owned()));
        }
        match page["next"].as_str() {
            Some(next) => {
                path = format!("/v1/admin/analytics/conversations?metric=all&limit=2&after={next}");
            }
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (5, 3));
    app.stop().await;
}

async fn questions_are_checked(db: Db) {
    let Some((app, _rules)) = app(db).await else {
        return;
    };
    let unauthorized = app
        .client
        .get(app.url("/v1/admin/analytics"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    for (path, status, code) in [
        (
            "/v1/admin/analytics?from=2026-02-01&to=2026-01-01",
            422,
            "out_of_range",
        ),
        ("/v1/admin/analytics?from=yesterday", 422, "invalid"),
        (
            "/v1/admin/analytics?from=2020-01-01&to=2026-01-01",
            422,
            "out_of_range",
        ),
        (
            "/v1/admin/analytics/conversations?metric=nothing",
            422,
            "unknown_filter",
        ),
        (
            "/v1/admin/analytics/conversations?metric=intent",
            422,
            "invalid",
        ),
    ] {
        let response = app.admin(reqwest::Method::GET, path).send().await.unwrap();
        let (got, body) = common::error_code(response).await;
        assert_eq!((got, body.as_str()), (status, code), "{path}");
    }
    let _: Value = app.admin_json("/v1/admin/analytics").await;
    app.stop().await;
}

both_databases! {
    figures_and_drill_downs => figures_and_drill_downs;
    questions_are_checked => questions_are_checked;
}

/// The support team's page is served under the same policy as the sample
/// page, with its script and styles.
#[tokio::test]
async fn the_admin_page_is_served_under_a_strict_policy() {
    let Some((app, _rules)) = app(Db::Sqlite).await else {
        return;
    };
    let page = app.client.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["content-security-policy"],
        madoguchi::http::DEMO_POLICY
    );
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="/admin.js" defer></script>"#));
    for (path, kind) in [("/admin.js", "text/javascript"), ("/admin.css", "text/css")] {
        let asset = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(asset.status(), 200);
        assert!(
            asset.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
    }
    let script = app
        .client
        .get(app.url("/admin.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Text from the service is never parsed as HTML.
    assert!(!script.contains("innerHTML"), "the script sets text only");
    app.stop().await;
}
