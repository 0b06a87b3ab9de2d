//! The gate in front of the send endpoints: load shedding, API keys and the request deadline.
//! Health, metrics and documentation stay outside it, so probes keep answering under a flood.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::ApiError;
use super::state::AppState;
use crate::access::Denied;

/// The key a request presents: `Authorization: Bearer <key>`, or else `X-Api-Key: <key>`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    bearer
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// Sheds what is over `MAX_CONCURRENT_REQUESTS` (503 + `Retry-After`), checks the API key (401),
/// and answers 504 when the request outlives `REQUEST_TIMEOUT_MS`.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let refuse = |error: ApiError| {
        state.metrics.record_rejected_request();
        error.into_response()
    };
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        tracing::warn!(
            limit = state.limits.max_concurrent_requests,
            "request shed: too many at once"
        );
        return refuse(ApiError::Overloaded {
            limit: state.limits.max_concurrent_requests,
        });
    };
    let caller = match state.access.authenticate(presented_key(request.headers())) {
        Ok(caller) => caller,
        Err(denied) => {
            let missing = denied == Denied::MissingKey;
            tracing::info!(
                reason = if missing { "no key" } else { "unknown key" },
                "request refused"
            );
            return refuse(ApiError::Unauthorized { missing });
        }
    };
    if let Some(name) = &caller.name {
        tracing::Span::current().record("api_key", name.as_str());
    }
    request.extensions_mut().insert(caller);
    let limit = state.limits.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                limit_ms = limit.as_millis() as u64,
                "request deadline exceeded"
            );
            ApiError::DeadlineExceeded { limit }.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn keys_come_from_bearer_or_x_api_key() {
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearer abc")])),
            Some("abc")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "bearer  abc ")])),
            Some("abc")
        );
        assert_eq!(
            presented_key(&headers(&[("x-api-key", "xyz")])),
            Some("xyz")
        );
        assert_eq!(
            presented_key(&headers(&[
                ("authorization", "Basic abc"),
                ("x-api-key", "xyz")
            ])),
            Some("xyz")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearer ")])),
            None
        );
        assert_eq!(presented_key(&headers(&[])), None);
    }
}
