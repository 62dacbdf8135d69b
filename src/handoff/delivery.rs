//! Where handoffs go and in which form: the generic signed webhook
//! (Standard Webhooks), or a help desk's ticket creation (Zendesk,
//! Freshdesk). Each form builds one request and reads one response.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::bundle::{Envelope, Handoff, Update, transcript_text, update_text};
use crate::escalation::Priority;
use crate::secret::{Secret, WebhookSecret};

/// Where and how handoffs are delivered.
#[derive(Debug, Clone)]
pub enum Target {
    /// `POST` the `handoff.created` event to a URL, signed following
    /// Standard Webhooks when a secret is given.
    Webhook {
        /// The endpoint.
        url: String,
        /// The `whsec_...` signing secret.
        secret: Option<WebhookSecret>,
    },
    /// Zendesk's `POST /api/v2/tickets`, basic auth `email/token:API_TOKEN`.
    Zendesk {
        /// `https://SHOP.zendesk.com`.
        base_url: String,
        /// The agent's e-mail address.
        email: String,
        /// The API token.
        token: Secret,
    },
    /// Freshdesk's `POST /api/v2/tickets`, the API key as basic auth.
    Freshdesk {
        /// `https://SHOP.freshdesk.com`.
        base_url: String,
        /// The API key.
        api_key: Secret,
        /// The requester when the bot collected no e-mail address
        /// (Freshdesk requires one).
        fallback_email: String,
    },
}

/// What the ticket system answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Taken; with the ticket's reference when the system gave one.
    Accepted {
        /// The ticket's id.
        ticket_id: Option<String>,
        /// A link to the ticket.
        url: Option<String>,
    },
    /// Try again later (timeouts, 408, 429, 5xx), not before `after` when
    /// the system said so (`Retry-After`).
    Retry {
        /// What went wrong.
        error: String,
        /// The system's own delay.
        after: Option<Duration>,
    },
    /// Will never be taken as it is (4xx other than 408 and 429).
    Permanent {
        /// What went wrong.
        error: String,
    },
}

/// An error text is kept short: it is stored and shown to operators.
const ERROR_BODY_CHARS: usize = 300;

impl Target {
    /// The request that delivers `envelope`, signed at `now`: a new
    /// ticket for a handoff; for an update, the webhook event, or a comment
    /// (Zendesk) or private note (Freshdesk) on the ticket. `None` when the
    /// update's ticket has no id to add to.
    pub(crate) fn request(
        &self,
        client: &reqwest::Client,
        envelope: &Envelope,
        body: &str,
        now: Timestamp,
    ) -> Option<reqwest::RequestBuilder> {
        let id = envelope.id();
        match self {
            Target::Webhook { url, secret } => {
                let timestamp = now.as_second();
                let mut request = client
                    .post(url)
                    .header("content-type", "application/json")
                    .header("webhook-id", id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .body(body.to_owned());
                if let Some(signature) = secret.as_ref().and_then(|s| s.sign(id, timestamp, body)) {
                    request = request.header("webhook-signature", signature);
                }
                Some(request)
            }
            Target::Zendesk {
                base_url,
                email,
                token,
            } => {
                let request = match envelope {
                    Envelope::Created { data, .. } => client
                        .post(tickets_url(base_url))
                        .json(&zendesk_ticket(data)),
                    Envelope::Updated { data, .. } => client
                        .put(ticket_url(base_url, data.ticket_id.as_deref()?))
                        .json(&zendesk_comment(data)),
                };
                Some(
                    request
                        .basic_auth(format!("{email}/token"), Some(token.expose()))
                        // Zendesk takes an idempotency key: a retry after a
                        // lost answer does not open a second ticket or add a
                        // second comment.
                        .header("idempotency-key", id),
                )
            }
            Target::Freshdesk {
                base_url,
                api_key,
                fallback_email,
            } => {
                let request = match envelope {
                    Envelope::Created { data, .. } => client
                        .post(tickets_url(base_url))
                        .json(&freshdesk_ticket(data, fallback_email)),
                    Envelope::Updated { data, .. } => client
                        .post(format!(
                            "{}/notes",
                            ticket_url(base_url, data.ticket_id.as_deref()?)
                        ))
                        .json(&freshdesk_note(data)),
                };
                Some(request.basic_auth(api_key.expose(), Some("X")))
            }
        }
    }
}

/// The ticket's URL, its id one path segment, percent-encoded: whatever
/// the system answered cannot reach another path.
fn ticket_url(base: &str, ticket_id: &str) -> String {
    // A base that is no URL is refused by the request itself, with the
    // reason, as any bad URL.
    let Ok(mut url) = reqwest::Url::parse(&tickets_url(base)) else {
        return tickets_url(base);
    };
    if let Ok(mut path) = url.path_segments_mut() {
        path.push(ticket_id);
    }
    url.into()
}

fn zendesk_comment(data: &Update) -> Value {
    json!({ "ticket": { "comment": { "body": update_text(data), "public": false } } })
}

fn freshdesk_note(data: &Update) -> Value {
    json!({
        "body": escape_html(&update_text(data)).replace('\n', "<br>"),
        "private": true,
    })
}

fn tickets_url(base: &str) -> String {
    format!("{}/api/v2/tickets", base.trim_end_matches('/'))
}

fn zendesk_ticket(data: &Handoff) -> Value {
    let mut ticket = json!({
        "subject": data.summary,
        "comment": { "body": transcript_text(data) },
        "priority": data.priority,
        "tags": tags(data),
        "external_id": data.handoff_id,
    });
    if let Some(email) = &data.customer.email {
        ticket["requester"] = json!({
            "name": data.customer.name.clone().unwrap_or_else(|| email.clone()),
            "email": email,
        });
    }
    json!({ "ticket": ticket })
}

fn freshdesk_ticket(data: &Handoff, fallback_email: &str) -> Value {
    let priority = match data.priority {
        Priority::Low => 1,
        Priority::Normal => 2,
        Priority::High => 3,
        Priority::Urgent => 4,
    };
    let email = data.customer.email.as_deref().unwrap_or(fallback_email);
    json!({
        "subject": data.summary,
        // Freshdesk renders the description as HTML: what the customer
        // wrote is escaped, not rendered.
        "description": escape_html(&transcript_text(data)).replace('\n', "<br>"),
        "email": email,
        "name": data.customer.name.clone().unwrap_or_else(|| email.to_owned()),
        "priority": priority,
        "status": 2,
        "tags": tags(data),
    })
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The intent's tags, the team, and the reason, for help-desk views.
fn tags(data: &Handoff) -> Vec<String> {
    let mut tags = data.tags.clone();
    tags.extend(data.team.clone());
    tags.push(format!("madoguchi_{}", data.reason));
    tags.sort();
    tags.dedup();
    tags
}

/// Reads the ticket system's answer.
pub(crate) async fn read(response: reqwest::Response, now: Timestamp) -> Response {
    let status = response.status();
    let retry_after = retry_after(response.headers(), now);
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        let (ticket_id, url) = ticket_reference(&text);
        return Response::Accepted { ticket_id, url };
    }
    if status.is_redirection() {
        // Retried, so that a URL fixed in time still gets the handoff;
        // dead-lettered when the schedule is spent, with the target to
        // set the URL to.
        return Response::Retry {
            error: format!(
                "HTTP {}: the URL redirects to {}; handoffs are not sent on redirects: set the URL to where it points",
                status.as_u16(),
                location.as_deref().unwrap_or("(no Location)")
            ),
            after: None,
        };
    }
    let error = format!(
        "HTTP {}: {}",
        status.as_u16(),
        text.chars().take(ERROR_BODY_CHARS).collect::<String>()
    );
    match status {
        StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => Response::Retry {
            error,
            after: retry_after,
        },
        s if s.is_server_error() => Response::Retry {
            error,
            after: retry_after.filter(|_| s == StatusCode::SERVICE_UNAVAILABLE),
        },
        _ => Response::Permanent { error },
    }
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap, now: Timestamp) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = now.duration_until(at);
    Some(Duration::from_secs(
        u64::try_from(wait.as_secs()).unwrap_or(0),
    ))
}

/// The ticket's id and link from a JSON answer: `ticket_id` or `id` (a
/// number or a text), at the top or under `ticket` (Zendesk), and `url`.
fn ticket_reference(body: &str) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return (None, None);
    };
    let ticket = value.get("ticket").unwrap_or(&value);
    let id = ["ticket_id", "id"]
        .iter()
        .find_map(|key| ticket.get(*key))
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    let url = ticket
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| web_link(u))
        .map(str::to_owned);
    (id, url)
}

/// Whether the ticket system's link is one to show a customer: an
/// `http(s)` URL, nothing a browser would run (`javascript:`, `data:`).
fn web_link(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_references_are_read_from_the_usual_shapes() {
        assert_eq!(
            ticket_reference(r#"{"ticket_id": "T-1", "url": "https://t/1"}"#),
            (Some("T-1".into()), Some("https://t/1".into()))
        );
        assert_eq!(
            ticket_reference(r#"{"ticket": {"id": 35436, "url": "u"}}"#).0,
            Some("35436".into())
        );
        for link in ["javascript:alert(1)", "data:text/html,x", "u", "ftp://t/1"] {
            let body = format!(r#"{{"ticket_id": "T-1", "url": "{link}"}}"#);
            assert_eq!(ticket_reference(&body).1, None, "{link}");
        }
        assert_eq!(ticket_reference(r#"{"id": 12}"#).0, Some("12".into()));
        assert_eq!(ticket_reference("accepted"), (None, None));
    }

    #[test]
    fn a_ticket_id_stays_one_path_segment() {
        assert_eq!(
            ticket_url("https://shop.zendesk.com/", "35436"),
            "https://shop.zendesk.com/api/v2/tickets/35436"
        );
        assert_eq!(
            ticket_url("https://shop.freshdesk.com", "../../admin?x=1"),
            "https://shop.freshdesk.com/api/v2/tickets/..%2F..%2Fadmin%3Fx=1"
        );
    }

    #[test]
    fn retry_after_is_read_in_seconds_or_as_a_date() {
        let now: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "120".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_mins(2)));
        headers.insert(
            "retry-after",
            "Tue, 01 Dec 2026 10:05:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_mins(5)));
    }
}
