//! Tokens and identities: a conversation's bearer token, the agent API's
//! token, and the shop's `user_hash` that verifies a customer's id.

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::error::ApiError;

pub use crate::ids::{new_id, new_token};

/// What is stored of a token: its SHA-256, so that a leaked database does
/// not leak the tokens.
#[must_use]
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The bearer token of a request, or 401.
pub fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("send the token as `Authorization: Bearer TOKEN`"))
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
}
