//! Gate.io's documented rate limits (reference section C) and its rate-limit headers.

use reqwest::header::HeaderMap;

use crate::http::header_i64;
use crate::ratelimit::{Endpoint, Limit};

/// Place 10 / s per market, cancel 200 / s, other private 200 / 10 s per endpoint
/// (Gate counts requests: every call weighs 1).
pub fn documented_limits(ep: Endpoint) -> &'static [Limit] {
    const PLACE: &[Limit] = &[Limit::new(10, 1_000)];
    const CANCEL: &[Limit] = &[Limit::new(200, 1_000)];
    const OTHER: &[Limit] = &[Limit::new(200, 10_000)];
    match ep {
        Endpoint::Place => PLACE,
        Endpoint::Cancel => CANCEL,
        _ => OTHER,
    }
}

/// Gate counts order placement per market.
pub fn per_symbol(ep: Endpoint) -> bool {
    ep == Endpoint::Place
}

/// `X-Gate-RateLimit-Reset-Timestamp` (seconds or ms since the epoch) in ms. A reset in
/// whole seconds may be up to a second before the venue's real reset; after a refusal
/// (`after_refusal`) it runs to the end of that second, so the retry cannot land in
/// the same window again.
pub fn reset_ms(h: &HeaderMap, after_refusal: bool) -> Option<i64> {
    let reset = header_i64(h, "x-gate-ratelimit-reset-timestamp")?;
    Some(if reset > 100_000_000_000 {
        reset
    } else {
        reset * 1000 + if after_refusal { 1000 } else { 0 }
    })
}

/// Gate announces exhaustion before it refuses: `X-Gate-RateLimit-Requests-Remain: 0`.
pub fn exhausted(h: &HeaderMap) -> bool {
    header_i64(h, "x-gate-ratelimit-requests-remain") == Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_values() {
        assert_eq!(
            documented_limits(Endpoint::Cancel),
            &[Limit::new(200, 1000)]
        );
        assert_eq!(documented_limits(Endpoint::Place), &[Limit::new(10, 1000)]);
        assert!(per_symbol(Endpoint::Place) && !per_symbol(Endpoint::Cancel));
    }

    #[test]
    fn reset_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(reset_ms(&h, true), None);
        h.insert(
            "x-gate-ratelimit-reset-timestamp",
            "1700000000".parse().unwrap(),
        );
        h.insert("x-gate-ratelimit-requests-remain", "0".parse().unwrap());
        assert_eq!(reset_ms(&h, false), Some(1_700_000_000_000));
        assert_eq!(reset_ms(&h, true), Some(1_700_000_001_000));
        assert!(exhausted(&h));
        h.insert(
            "x-gate-ratelimit-reset-timestamp",
            "1700000000123".parse().unwrap(),
        );
        assert_eq!(reset_ms(&h, true), Some(1_700_000_000_123));
    }
}
