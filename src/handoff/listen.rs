//! `madoguchi webhook-listen`: a ticket webhook for trying madoguchi on one
//! machine. It takes the handoff events, checks each signature with the
//! secret it was given, prints what came, and answers as a ticket system
//! does (with a ticket id, which the customer is then told), so that the
//! whole path — escalation, signed delivery, ticket reference — can be
//! watched without a help desk.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::secret::WebhookSecret;

/// What the receiver knows: the secret to check with, where to print, and
/// how many tickets it has handed out.
struct Receiver {
    secret: Option<WebhookSecret>,
    out: Mutex<Box<dyn Write + Send>>,
    tickets: AtomicU64,
}

/// The receiver's routes: events are taken on any path.
pub fn router(secret: Option<WebhookSecret>, out: Box<dyn Write + Send>) -> axum::Router {
    let receiver = Arc::new(Receiver {
        secret,
        out: Mutex::new(out),
        tickets: AtomicU64::new(0),
    });
    axum::Router::new()
        .fallback(axum::routing::post(receive))
        .with_state(receiver)
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = header(&headers, "webhook-id");
    let checked = match &receiver.secret {
        Some(secret) => secret.verify(&body, &headers).map(|()| "signature ok"),
        None => Ok("not checked (no --secret given)"),
    };
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let kind = event["type"].as_str().unwrap_or("(not a handoff event)");
    let mut lines = vec![format!("{kind}  webhook-id {id}")];
    let answer = match checked {
        Ok(checked) => {
            lines.push(format!("  {checked}"));
            lines.extend(summary(&event));
            if kind == "handoff.created" {
                let n = receiver.tickets.fetch_add(1, Ordering::Relaxed) + 1;
                let ticket = format!("LOCAL-{n}");
                lines.push(format!("  answered with ticket {ticket}"));
                (StatusCode::OK, axum::Json(json!({ "ticket_id": ticket }))).into_response()
            } else {
                (StatusCode::OK, axum::Json(json!({}))).into_response()
            }
        }
        // Refused as a real receiver refuses it: the outbox retries, and
        // dead-letters it in the end, where the operator sees the cause.
        Err(why) => {
            lines.push(format!("  signature INVALID: {why}: refused with 401"));
            (StatusCode::UNAUTHORIZED, why).into_response()
        }
    };
    receiver.print(&lines);
    answer
}

impl Receiver {
    fn print(&self, lines: &[String]) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out);
        let _ = out.flush();
    }
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("(none)")
        .to_owned()
}

/// The lines an agent would look at first: who, why, how urgent, what.
fn summary(event: &Value) -> Vec<String> {
    let data = &event["data"];
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let mut lines = vec![format!(
        "  conversation {}  {} / {}",
        text(&data["conversation_id"]),
        text(&data["reason"]),
        text(&data["priority"])
    )];
    if let Some(handoff) = data["handoff_id"]
        .as_str()
        .filter(|_| !data["update_id"].is_null())
    {
        lines.push(format!(
            "  adds to handoff {handoff} (ticket {})",
            text(&data["ticket_id"])
        ));
    }
    lines.push(format!("  customer {}", text(&data["customer"]["email"])));
    if let Some(summary) = data["summary"].as_str() {
        lines.push(format!("  {summary}"));
    }
    for line in data["transcript"].as_array().into_iter().flatten() {
        lines.push(format!(
            "    {}: {}",
            text(&line["author"]),
            text(&line["text"])
        ));
    }
    if let Some(details) = data["details"].as_object().filter(|d| !d.is_empty()) {
        let details: Vec<String> = details
            .iter()
            .map(|(name, value)| format!("{name}={}", text(value)))
            .collect();
        lines.push(format!("  details {}", details.join(", ")));
    }
    lines
}
