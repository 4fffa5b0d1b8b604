//! MEXC's documented rate limits and request weights (reference section A; MEXC's spot
//! v3 documentation, "Limits" and each endpoint's `Weight(IP)` / `Weight(UID)` line, as
//! published in mexcdevelop/apidocs `spot_v3_en`, 2025-08):
//! - limits are weights, not request counts: "Each endpoint with IP limits has an
//!   independent 500 every 10 second limit. Each endpoint with UID limits has an
//!   independent 500 every 10 second limit";
//! - "The account is used as the basic unit of speed limit for the endpoints that need
//!   to carry access keys. For endpoints that do not need to carry access keys, IP
//!   addresses are used": signed endpoints count per account, public ones per IP;
//!   `POST /api/v3/order` is marked `Weight(IP): 1, Weight(UID): 1` and counts in both;
//! - `GET /api/v3/account` is also limited to 2 requests a second;
//! - on 429 "it's your obligation as an API to back off": the `Retry-After` seconds
//!   (the client blocks the endpoint class until then).
//!
//! The limiter keeps one window per endpoint class; where a class covers more than one
//! MEXC endpoint (`OpenOrders`: openOrders and allOrders; `Public`), their weights share
//! that window, which only ever counts more than the venue does.

use reqwest::Method;

use crate::ratelimit::{Endpoint, Limit};

/// 500 weight per 10 s per endpoint.
const PER_ENDPOINT: Limit = Limit::weight(500, 10_000);
const SIGNED: &[Limit] = &[PER_ENDPOINT];
const PUBLIC: &[Limit] = &[PER_ENDPOINT.per_ip()];
const PLACE: &[Limit] = &[PER_ENDPOINT, PER_ENDPOINT.per_ip()];
const ACCOUNT: &[Limit] = &[PER_ENDPOINT, Limit::new(2, 1_000)];

pub fn documented_limits(ep: Endpoint) -> &'static [Limit] {
    match ep {
        Endpoint::Public => PUBLIC,
        Endpoint::Place => PLACE,
        Endpoint::Account => ACCOUNT,
        _ => SIGNED,
    }
}

/// The documented weight of `method path` (endpoints the documentation gives no
/// weight for, such as the listenKey lifecycle, weigh 1).
pub fn weight(method: &Method, path: &str) -> u32 {
    match (method.as_str(), path) {
        ("GET", "/api/v3/exchangeInfo") => 10,
        ("GET", "/api/v3/trades") => 5,
        ("GET", "/api/v3/order") => 2,
        ("GET", "/api/v3/openOrders") => 3,
        ("GET", "/api/v3/allOrders")
        | ("GET", "/api/v3/account")
        | ("GET", "/api/v3/myTrades")
        | ("GET", "/api/v3/capital/config/getall") => 10,
        ("GET", "/api/v3/tradeFee") => 20,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_values() {
        assert_eq!(documented_limits(Endpoint::Account), ACCOUNT);
        assert!(documented_limits(Endpoint::Account).contains(&Limit::new(2, 1000)));
        assert_eq!(
            documented_limits(Endpoint::QueryOrder),
            &[Limit::weight(500, 10_000)]
        );
        assert_eq!(
            documented_limits(Endpoint::Public),
            &[Limit::weight(500, 10_000).per_ip()]
        );
        assert_eq!(weight(&Method::GET, "/api/v3/myTrades"), 10);
        assert_eq!(weight(&Method::GET, "/api/v3/account"), 10);
        assert_eq!(weight(&Method::GET, "/api/v3/openOrders"), 3);
        assert_eq!(weight(&Method::GET, "/api/v3/order"), 2);
        assert_eq!(weight(&Method::DELETE, "/api/v3/order"), 1);
        assert_eq!(weight(&Method::POST, "/api/v3/order"), 1);
        assert_eq!(weight(&Method::GET, "/api/v3/tradeFee"), 20);
    }
}
