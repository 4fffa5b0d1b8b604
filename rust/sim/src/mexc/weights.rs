//! MEXC's request weights, as the simulator charges them: the weight of every endpoint
//! it serves and which budget (IP, account) the weight is counted in.
//!
//! Source: MEXC's spot v3 API documentation ("Limits" and each endpoint's
//! `Weight(IP)` / `Weight(UID)` line; the mexcdevelop/apidocs page `spot_v3_en` of
//! 2025-08) and reference section A. What the documentation says:
//! - "Each endpoint with IP limits has an independent 500 every 10 second limit. Each
//!   endpoint with UID limits has an independent 500 every 10 second limit."
//! - "The account is used as the basic unit of speed limit for the endpoints that need
//!   to carry access keys. For endpoints that do not need to carry access keys, IP
//!   addresses are used": signed endpoints count per account, public ones per IP; the
//!   two endpoints marked `Weight(IP): 1, Weight(UID): 1` (`POST /api/v3/order`,
//!   `POST /api/v3/batchOrders`) count in both.
//! - `GET /api/v3/account` is also limited to 2 requests a second (see `rest.rs`).
//! - A refusal is HTTP 429 with `Retry-After` (seconds).

/// Where a request's weight is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// Per source IP (public endpoints).
    Ip,
    /// Per account: the API key (signed endpoints).
    Account,
    /// In both (the endpoints documented with an IP and a UID weight).
    Both,
}

impl Budget {
    pub fn per_ip(self) -> bool {
        matches!(self, Budget::Ip | Budget::Both)
    }

    pub fn per_account(self) -> bool {
        matches!(self, Budget::Account | Budget::Both)
    }
}

/// What one request costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    pub weight: u32,
    pub budget: Budget,
}

/// Weight budget of each endpoint per window (documented: 500 per 10 s).
pub const DOCUMENTED_BUDGET: u32 = 500;
pub const WINDOW_MS: u64 = 10_000;

const fn cost(weight: u32, budget: Budget) -> Cost {
    Cost { weight, budget }
}

/// The cost of `method path`; `all_symbols`: no `symbol` parameter was sent (the
/// ticker endpoints weigh more for every symbol at once). Endpoints the documentation
/// gives no weight for (the listenKey lifecycle, futures metadata) weigh 1.
pub fn cost_of(method: &str, path: &str, all_symbols: bool) -> Cost {
    use Budget::*;
    match (method, path) {
        ("GET", "/api/v3/exchangeInfo") => cost(10, Ip),
        ("GET", "/api/v3/trades") => cost(5, Ip),
        ("GET", "/api/v3/ticker/24hr") if all_symbols => cost(40, Ip),
        ("GET", "/api/v3/ticker/price") if all_symbols => cost(2, Ip),
        ("POST", "/api/v3/order") | ("POST", "/api/v3/batchOrders") => cost(1, Both),
        // ping, time, defaultSymbols, depth, bookTicker, one-symbol tickers.
        (_, p) if !is_signed(method, p) => cost(1, Ip),
        ("GET", "/api/v3/order") => cost(2, Account),
        ("GET", "/api/v3/openOrders") => cost(3, Account),
        ("GET", "/api/v3/allOrders")
        | ("GET", "/api/v3/account")
        | ("GET", "/api/v3/myTrades")
        | ("GET", "/api/v3/capital/config/getall") => cost(10, Account),
        ("GET", "/api/v3/tradeFee") => cost(20, Account),
        // order/test, DELETE order, DELETE openOrders, userDataStream.
        _ => cost(1, Account),
    }
}

/// Whether the simulator serves the endpoint signed (it needs an API key, and so
/// counts per account).
pub fn is_signed(method: &str, path: &str) -> bool {
    path == "/api/v3/userDataStream"
        // The wallet endpoints (`capital::route`), every one signed.
        || path.starts_with("/api/v3/capital/")
        || matches!(
            (method, path),
            ("GET", "/api/v3/account")
                | ("POST", "/api/v3/order")
                | ("POST", "/api/v3/order/test")
                | ("DELETE", "/api/v3/order")
                | ("GET", "/api/v3/order")
                | ("GET", "/api/v3/openOrders")
                | ("DELETE", "/api/v3/openOrders")
                | ("GET", "/api/v3/allOrders")
                | ("GET", "/api/v3/myTrades")
                | ("GET", "/api/v3/tradeFee")
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_weights() {
        let w = |m, p| cost_of(m, p, false);
        assert_eq!(w("GET", "/api/v3/myTrades"), cost(10, Budget::Account));
        assert_eq!(w("GET", "/api/v3/account"), cost(10, Budget::Account));
        assert_eq!(w("GET", "/api/v3/allOrders").weight, 10);
        assert_eq!(w("GET", "/api/v3/openOrders").weight, 3);
        assert_eq!(w("GET", "/api/v3/order").weight, 2);
        assert_eq!(w("DELETE", "/api/v3/order"), cost(1, Budget::Account));
        assert_eq!(w("POST", "/api/v3/order"), cost(1, Budget::Both));
        assert_eq!(w("GET", "/api/v3/tradeFee").weight, 20);
        assert_eq!(w("GET", "/api/v3/exchangeInfo"), cost(10, Budget::Ip));
        assert_eq!(w("GET", "/api/v3/depth"), cost(1, Budget::Ip));
        assert_eq!(w("GET", "/api/v3/ping"), cost(1, Budget::Ip));
        assert_eq!(cost_of("GET", "/api/v3/ticker/24hr", true).weight, 40);
        assert_eq!(w("GET", "/api/v3/ticker/24hr").weight, 1);
        assert_eq!(w("PUT", "/api/v3/userDataStream"), cost(1, Budget::Account));
    }
}
