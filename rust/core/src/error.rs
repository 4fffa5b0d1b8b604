//! The classification every venue error is mapped to. Retry policy, circuit breakers,
//! metrics and the Python exception classes are all keyed on it.

use std::fmt;

/// What kind of failure an error is. The retry rule for each class is in `arb-exec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Could not connect, connection reset before a request was written.
    Network,
    /// No answer in time. For an order placement this is an unknown outcome.
    Timeout,
    /// The venue (or our own limiter) said slow down.
    RateLimit,
    /// Bad key, bad signature, expired timestamp, IP not whitelisted, no permission.
    Authentication,
    /// The venue refused the order as invalid (precision, minimum, price range...).
    InvalidOrder,
    /// Not enough balance for the order.
    InsufficientFunds,
    /// The symbol exists but cannot be traded through the API (MEXC 10007/30019/30051).
    SymbolNotTradable,
    /// The venue answered with an error we do not classify further (5xx with a body, ...).
    Venue,
    /// The request may or may not have taken effect: resolve by querying, never resend.
    UnknownOutcome,
    /// A frame or response could not be parsed.
    Malformed,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 10] = [
        ErrorClass::Network,
        ErrorClass::Timeout,
        ErrorClass::RateLimit,
        ErrorClass::Authentication,
        ErrorClass::InvalidOrder,
        ErrorClass::InsufficientFunds,
        ErrorClass::SymbolNotTradable,
        ErrorClass::Venue,
        ErrorClass::UnknownOutcome,
        ErrorClass::Malformed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Network => "network",
            ErrorClass::Timeout => "timeout",
            ErrorClass::RateLimit => "rate_limit",
            ErrorClass::Authentication => "authentication",
            ErrorClass::InvalidOrder => "invalid_order",
            ErrorClass::InsufficientFunds => "insufficient_funds",
            ErrorClass::SymbolNotTradable => "symbol_not_tradable",
            ErrorClass::Venue => "venue",
            ErrorClass::UnknownOutcome => "unknown_outcome",
            ErrorClass::Malformed => "malformed",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
