//! Rate limits of the chat API: per client address, for new conversations
//! per client address, and for messages per conversation. Over a limit, a
//! request is answered 429 `rate_limited` with `Retry-After`.
//!
//! The client's address is the connection's, unless the connection comes
//! from a trusted proxy: then it is the last address in `X-Forwarded-For`
//! that is not itself a trusted proxy (the one the proxies saw).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::AppState;
use super::error::{ApiError, Code};
use crate::config::Limits;

/// The chat API's rate limiters.
pub struct RateLimits {
    enabled: bool,
    trusted_proxies: Vec<IpAddr>,
    requests: DefaultKeyedRateLimiter<IpAddr>,
    starts: DefaultKeyedRateLimiter<IpAddr>,
    messages: DefaultKeyedRateLimiter<String>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl RateLimits {
    /// The limiters of `limits`; each allows a minute's worth at once.
    #[must_use]
    pub fn new(limits: &Limits) -> Self {
        RateLimits {
            enabled: limits.rate_limits,
            trusted_proxies: limits.trusted_proxies.clone(),
            requests: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.requests_per_minute)),
            starts: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.starts_per_minute)),
            messages: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.messages_per_minute)),
        }
    }

    /// The client behind a request that came over `peer`.
    #[must_use]
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        // An IPv4 client of a listener on `[::]` arrives as `::ffff:a.b.c.d`.
        let peer = peer.to_canonical();
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        // From the right, past the trusted proxies; an entry that is not an
        // address ends the walk: what is left of it the client wrote.
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            let Ok(address) = entry.parse::<IpAddr>().map(|a| a.to_canonical()) else {
                break;
            };
            client = address;
            if !self.trusted_proxies.contains(&address) {
                break;
            }
        }
        client
    }

    /// One more request from `client`.
    ///
    /// # Errors
    /// 429 when the client is over its limit.
    pub fn request(&self, client: IpAddr) -> Result<(), ApiError> {
        self.check(&self.requests, &client, "requests from this address")
    }

    /// One more new conversation from `client`.
    ///
    /// # Errors
    /// 429 when the client is over its limit.
    pub fn start(&self, client: IpAddr) -> Result<(), ApiError> {
        self.check(&self.starts, &client, "new conversations from this address")
    }

    /// One more customer message in `conversation`.
    ///
    /// # Errors
    /// 429 when the conversation is over its limit.
    pub fn message(&self, conversation: &str) -> Result<(), ApiError> {
        if !self.enabled {
            return Ok(());
        }
        self.check(
            &self.messages,
            &conversation.to_owned(),
            "messages in this conversation",
        )
    }

    fn check<K: std::hash::Hash + Eq + Clone>(
        &self,
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
        what: &str,
    ) -> Result<(), ApiError> {
        if !self.enabled {
            return Ok(());
        }
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::rate_limited(
                format!("too many {what}: try again later"),
                wait.max(Duration::from_secs(1)),
            )
        })
    }

    /// Forgets the clients and conversations that have been quiet long
    /// enough to be under their limits again, so that the limiters do not
    /// grow with every address ever seen.
    pub fn forget_quiet(&self) {
        self.requests.retain_recent();
        self.starts.retain_recent();
        self.messages.retain_recent();
    }
}

/// What [`per_client`] refuses with, on every route of the chat API.
pub(super) const PER_CLIENT: &[Code] = &[Code::RateLimited];

/// Counts every request of the chat API against its client's limit.
pub(super) async fn per_client(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let limits = &state.limits;
    let client = limits.client(peer.ip(), request.headers());
    limits.request(client)?;
    if request.method() == axum::http::Method::POST && request.uri().path() == "/v1/conversations" {
        limits.start(client)?;
    }
    Ok(next.run(request).await)
}

impl ApiError {
    /// 429: over a rate limit; try again after `wait`.
    #[must_use]
    pub fn rate_limited(message: String, wait: Duration) -> Self {
        ApiError::new(Code::RateLimited, message).retry_after(wait)
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use super::*;

    fn limits(trusted: &[&str]) -> RateLimits {
        let one = NonZeroU32::MIN;
        RateLimits::new(&Limits {
            rate_limits: true,
            requests_per_minute: one,
            starts_per_minute: one,
            messages_per_minute: one,
            trusted_proxies: trusted.iter().map(|a| a.parse().unwrap()).collect(),
            max_messages_per_conversation: 10,
            max_streams_per_conversation: one,
            max_handoff_messages: one,
            max_connections: one,
            header_timeout: Duration::from_secs(1),
            body_timeout: Duration::from_secs(1),
        })
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn the_client_is_read_past_trusted_proxies_only() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let limits = limits(&["10.0.0.1", "10.0.0.2"]);
        // Not from a trusted proxy: the header is the client's own word.
        assert_eq!(
            limits.client(ip("203.0.113.5"), &forwarded("198.51.100.9")),
            ip("203.0.113.5")
        );
        // Two trusted hops; what the client wrote on the left is skipped.
        assert_eq!(
            limits.client(
                ip("10.0.0.1"),
                &forwarded("1.2.3.4, 198.51.100.9, 10.0.0.2")
            ),
            ip("198.51.100.9")
        );
        // An entry that is no address ends the walk before the client's own.
        assert_eq!(
            limits.client(ip("10.0.0.1"), &forwarded("1.2.3.4, 198.51.100.9:443")),
            ip("10.0.0.1")
        );
        // An IPv4 peer seen through an IPv6 listener.
        assert_eq!(
            limits.client(ip("::ffff:10.0.0.1"), &forwarded("198.51.100.9")),
            ip("198.51.100.9")
        );
    }
}
