//! Reading credentials off a request: the bearer token of a conversation or
//! of the agent API.

use axum::http::HeaderMap;

use super::error::ApiError;

/// The bearer token of a request, or 401.
pub fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        // The scheme is case-insensitive (RFC 9110, section 11.1).
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("send the token as `Authorization: Bearer TOKEN`"))
}
