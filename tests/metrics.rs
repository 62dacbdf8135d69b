//! `/metrics`: what the service counts, in Prometheus text, behind its
//! token or on a listener of its own.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Db, spawn_app_with};

/// The value of the first series whose line starts with `prefix`.
fn value(metrics: &str, prefix: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn messages_escalations_requests_and_the_rules_are_counted() {
    let Some(app) = spawn_app_with(Db::Sqlite, "").await else {
        return;
    };
    let conversation = app.start(serde_json::json!({ "locale": "ja" })).await;
    app.say_ok(&conversation, "送料はいくらですか？").await;
    app.say_ok(&conversation, "担当者と話したいです").await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let metrics = response.text().await.unwrap();
    assert!(
        value(
            &metrics,
            "madoguchi_messages_total{channel=\"chat\",locale=\"ja\"}"
        )
        .unwrap()
            >= 2.0,
        "{metrics}"
    );
    assert!(
        metrics.contains("madoguchi_escalations_total{reason=\"human_requested\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("madoguchi_intents_matched_total{intent="),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "madoguchi_http_request_duration_seconds_bucket{route=\"/v1/conversations/{id}/messages\",method=\"POST\",status=\"200\""
        ),
        "{metrics}"
    );
    let ready: serde_json::Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let version = ready["rules_version"].as_str().unwrap();
    assert_eq!(
        value(
            &metrics,
            &format!("madoguchi_rules_info{{version=\"{version}\"}}")
        ),
        Some(1.0),
        "{metrics}"
    );
    // The outbox as the database holds it at the scrape (the gauges are
    // the process's, shared with the other tests here: their presence is
    // what is checked).
    assert!(
        value(&metrics, "madoguchi_outbox_handoffs{status=\"pending\"}").is_some(),
        "{metrics}"
    );
    assert!(
        metrics.contains("madoguchi_outbox_oldest_pending_seconds "),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_metrics_token_keeps_the_metrics_to_those_who_have_it() {
    let Some(app) = spawn_app_with(Db::Sqlite, "metrics_token = 'metrics-token-for-tests'").await
    else {
        return;
    };
    let open = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(common::error_code(open).await, (401, "unauthorized".into()));
    let with = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-for-tests")
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 200);
    assert!(with.text().await.unwrap().contains("madoguchi_"));
    app.stop().await;
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let Some(app) =
        spawn_app_with(Db::Sqlite, &format!("metrics_listen = '127.0.0.1:{port}'")).await
    else {
        return;
    };
    let elsewhere = app
        .client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 200);
    assert!(elsewhere.text().await.unwrap().contains("madoguchi_"));
    let main = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404, "not on the main listener");
    app.stop().await;
}
