//! Authentication (the two key headers, or `Authorization: AK:SK`), roles and the per-key
//! rate limit, as one extractor every job endpoint takes.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use super::AppState;
use crate::jobs::ops::Principal;

/// An authenticated caller allowed to make this request.
pub struct Caller(pub Principal);

pub struct Limiter(DefaultKeyedRateLimiter<String>);

impl Limiter {
    /// None when the configured rate is 0 (no limit).
    pub fn new(per_second: u32, burst: u32) -> Option<Limiter> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
        Some(Limiter(RateLimiter::keyed(
            Quota::per_second(rate).allow_burst(burst),
        )))
    }

    /// Ok, or the whole seconds to wait.
    fn check(&self, key: &str) -> Result<(), u64> {
        self.0.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let (Some(a), Some(s)) = (get("x-amz-access-key"), get("x-amz-secret-key")) {
        return Some((a.trim().to_string(), s.trim().to_string()));
    }
    let (a, s) = get("authorization")?.split_once(':')?;
    Some((a.trim().to_string(), s.trim().to_string()))
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let (access, secret) = credentials(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        if access.is_empty() || secret.is_empty() {
            return Err(ApiError::unauthorized());
        }
        let who = state
            .keys
            .authenticate(&access, &secret)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if let Some(limiter) = &state.limiter {
            limiter.check(&access).map_err(ApiError::rate_limited)?;
        }
        if who.view_only && !matches!(parts.method, Method::GET | Method::HEAD) {
            return Err(ApiError::forbidden());
        }
        Ok(Caller(who))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_credential_forms() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "AK:SK".parse().unwrap());
        assert_eq!(credentials(&h), Some(("AK".into(), "SK".into())));
        h.insert("x-amz-access-key", "A2".parse().unwrap());
        h.insert("x-amz-secret-key", "S2".parse().unwrap());
        assert_eq!(credentials(&h), Some(("A2".into(), "S2".into())));
        assert_eq!(credentials(&HeaderMap::new()), None);
    }

    #[test]
    fn limiter_says_how_long_to_wait() {
        let l = Limiter::new(1, 1).unwrap();
        assert!(l.check("k").is_ok());
        let wait = l.check("k").unwrap_err();
        assert!((1..=1).contains(&wait));
        assert!(l.check("other").is_ok());
        assert!(Limiter::new(0, 10).is_none());
    }
}
