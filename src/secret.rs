//! Secrets: values from the configuration that never print, and what is
//! derived from secrets (the stored hash of a conversation's token, the
//! shop's `user_hash` that verifies a customer's id).

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// A secret from the configuration: never printed, never logged.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    /// The secret's text, for the one place that needs it.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(SecretString::from(s.to_owned()))
    }
}

/// A Standard Webhooks signing secret (`whsec_` and base64), known to be
/// usable once made.
#[derive(Clone, Debug)]
pub struct WebhookSecret(Secret);

/// The text is not a Standard Webhooks secret.
#[derive(Debug, thiserror::Error)]
#[error("not a Standard Webhooks secret (`whsec_` and base64)")]
pub struct NotAWebhookSecret;

impl WebhookSecret {
    /// Checks `secret`.
    ///
    /// # Errors
    /// [`NotAWebhookSecret`] when it is not `whsec_` and base64.
    pub fn parse(secret: Secret) -> Result<Self, NotAWebhookSecret> {
        let text = secret.expose();
        if text.starts_with("whsec_") && standardwebhooks::Webhook::new(text).is_ok() {
            Ok(WebhookSecret(secret))
        } else {
            Err(NotAWebhookSecret)
        }
    }

    /// The `webhook-signature` header of a message (Standard Webhooks):
    /// `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, with the
    /// key the `whsec_` secret encodes.
    #[must_use]
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> Option<String> {
        let webhook = standardwebhooks::Webhook::new(self.0.expose()).ok()?;
        webhook.sign(id, timestamp, body.as_bytes()).ok()
    }

    /// Checks a received message as a Standard Webhooks receiver does: the
    /// signature of `webhook-id`, `webhook-timestamp` and the body, and a
    /// timestamp within five minutes of now.
    ///
    /// # Errors
    /// What is wrong: a header missing, a signature that does not match, a
    /// timestamp too old or too new.
    pub fn verify(&self, body: &[u8], headers: &axum::http::HeaderMap) -> Result<(), String> {
        let webhook = standardwebhooks::Webhook::new(self.0.expose()).map_err(|e| e.to_string())?;
        webhook.verify(body, headers).map_err(|e| e.to_string())
    }
}

/// What is stored of a token: its SHA-256, so that a leaked database does
/// not leak the tokens.
#[must_use]
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
#[must_use]
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Whether `user_hash` is HMAC-SHA256 of `external_id` with `secret`, in
/// hex (what the shop's backend computes, as chat widgets do).
#[must_use]
pub fn verify_user_hash(secret: &str, external_id: &str, user_hash: &str) -> bool {
    let Ok(expected) = hex::decode(user_hash.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(external_id.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// Computes a `user_hash`, as the shop's backend does.
#[must_use]
pub fn user_hash(secret: &str, external_id: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(external_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::new_token;

    #[test]
    fn a_user_hash_verifies_with_the_shared_secret_only() {
        let hash = user_hash("shop-secret", "customer-42");
        assert!(verify_user_hash("shop-secret", "customer-42", &hash));
        assert!(!verify_user_hash("other-secret", "customer-42", &hash));
        assert!(!verify_user_hash("shop-secret", "customer-43", &hash));
        assert!(!verify_user_hash("shop-secret", "customer-42", "not hex"));
    }

    #[test]
    fn tokens_are_long_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(token_hash(&a), a);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
    }

    #[test]
    fn only_whsec_secrets_are_valid() {
        let parse = |s: &str| WebhookSecret::parse(Secret::from(s)).is_ok();
        assert!(parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        assert!(!parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        assert!(!parse("whsec_not base64!"));
    }
}
