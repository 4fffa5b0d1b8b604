//! `ExecError`: the one error type of the execution layer, classified into
//! `arb_core::ErrorClass` from MEXC codes and Gate labels (reference sections A and C),
//! so retry policy, circuit breaker and Python exception classes key on one value.

use std::fmt;
use std::time::Duration;

use arb_core::{ErrorClass, Venue};

/// An execution error: which venue, which operation, what class, and what the venue
/// said. Never carries a secret (requests are not echoed, only venue bodies).
#[derive(Clone, PartialEq, Eq)]
pub struct ExecError {
    pub venue: Venue,
    /// The operation (`place`, `cancel`, `query`, `balances`, `stream`...).
    pub op: &'static str,
    pub class: ErrorClass,
    /// HTTP status when there was an HTTP answer.
    pub http_status: Option<u16>,
    /// MEXC `code` or Gate `label`, when the venue sent one.
    pub code: Option<String>,
    pub message: String,
    /// How long the venue (or our own limiter) asked us to wait, for rate limits.
    pub retry_after: Option<Duration>,
}

impl ExecError {
    pub fn new(
        venue: Venue,
        op: &'static str,
        class: ErrorClass,
        message: impl Into<String>,
    ) -> Self {
        ExecError {
            venue,
            op,
            class,
            http_status: None,
            code: None,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn class(&self) -> ErrorClass {
        self.class
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn with_retry_after(mut self, d: Option<Duration>) -> Self {
        self.retry_after = d;
        self
    }

    /// The venue did not find the order by the id it was asked with (MEXC -2011 on a
    /// cancel, -2013 on a query / Gate ORDER_NOT_FOUND). That alone proves nothing
    /// about an order whose placement outcome is unknown: Gate finds a finished order
    /// by its `text` only in its histories, and MEXC answers -2013 briefly after
    /// accepting an order (`VenueClient::locate` weighs every source).
    pub fn is_order_not_found(&self) -> bool {
        match self.venue {
            Venue::Mexc => matches!(self.code.as_deref(), Some("-2011" | "-2013")),
            Venue::Gate => self.code.as_deref() == Some("ORDER_NOT_FOUND"),
        }
    }

    /// A malformed-response error naming the field.
    pub fn malformed(venue: Venue, op: &'static str, what: impl fmt::Display) -> Self {
        ExecError::new(venue, op, ErrorClass::Malformed, what.to_string())
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.venue, self.op, self.class)?;
        if let Some(s) = self.http_status {
            write!(f, " (HTTP {s}")?;
            if let Some(c) = &self.code {
                write!(f, ", {c}")?;
            }
            f.write_str(")")?;
        } else if let Some(c) = &self.code {
            write!(f, " ({c})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(d) = self.retry_after {
            write!(f, " [retry after {} ms]", d.as_millis())?;
        }
        Ok(())
    }
}

impl fmt::Debug for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for ExecError {}

/// Classifies a MEXC error answer: HTTP status plus the body's `code`.
/// 5xx is [`ErrorClass::Venue`] here; the caller turns it into an unknown outcome
/// when the request was an order placement.
pub fn classify_mexc(http_status: u16, code: Option<i64>) -> ErrorClass {
    if let Some(code) = code {
        match code {
            700001 | 700002 | 700003 | 700005 | 700006 | 700007 | 602 => {
                return ErrorClass::Authentication
            }
            10101 | 30004 | 30005 => return ErrorClass::InsufficientFunds,
            10007 | 30019 | 30051 | 30016 => return ErrorClass::SymbolNotTradable,
            700004 | 700008 | 700013 | 30002 | 30003 | 30014 | 30029 | 30087 | -2011 | -2013 => {
                return ErrorClass::InvalidOrder
            }
            429 | 510 => return ErrorClass::RateLimit,
            _ => {}
        }
    }
    match http_status {
        401 => ErrorClass::Authentication,
        // 403 is MEXC's WAF block and 418 its escalating ban after ignored 429s: both
        // mean "stop sending for a while".
        403 | 418 | 429 => ErrorClass::RateLimit,
        400..=499 => ErrorClass::InvalidOrder,
        _ => ErrorClass::Venue,
    }
}

/// Classifies a Gate error answer: HTTP status plus the body's `label`.
pub fn classify_gate(http_status: u16, label: Option<&str>) -> ErrorClass {
    if let Some(label) = label {
        match label {
            "INVALID_KEY"
            | "IP_FORBIDDEN"
            | "READ_ONLY"
            | "INVALID_SIGNATURE"
            | "MISSING_REQUIRED_HEADER"
            | "REQUEST_EXPIRED"
            | "FORBIDDEN" => return ErrorClass::Authentication,
            "BALANCE_NOT_ENOUGH" => return ErrorClass::InsufficientFunds,
            // Gate has no label of its own for "not tradable through the API": it refuses
            // such a pair as an invalid pair. Either way the engine must stop trading
            // the symbol on this venue rather than retry it.
            "INVALID_CURRENCY_PAIR" => return ErrorClass::SymbolNotTradable,
            "TOO_MANY_REQUESTS" => return ErrorClass::RateLimit,
            "INVALID_PARAM_VALUE"
            | "INVALID_ARGUMENT"
            | "MISSING_REQUIRED_PARAM"
            | "INVALID_PRECISION"
            | "POC_FILL_IMMEDIATELY"
            | "ORDER_NOT_FOUND"
            | "ORDER_CLOSED"
            | "ORDER_CANCELLED"
            | "AMOUNT_TOO_LITTLE"
            | "AMOUNT_TOO_MUCH"
            | "FOK_NOT_FILL"
            | "TOO_MANY_ORDERS"
            | "TOO_MANY_CURRENCY_PAIRS" => return ErrorClass::InvalidOrder,
            "INTERNAL" | "SERVER_ERROR" | "TOO_BUSY" => return ErrorClass::Venue,
            _ => {}
        }
    }
    match http_status {
        401 | 403 => ErrorClass::Authentication,
        429 => ErrorClass::RateLimit,
        400..=499 => ErrorClass::InvalidOrder,
        _ => ErrorClass::Venue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mexc_codes() {
        assert_eq!(classify_mexc(400, Some(700002)), ErrorClass::Authentication);
        assert_eq!(classify_mexc(400, Some(700003)), ErrorClass::Authentication);
        assert_eq!(
            classify_mexc(400, Some(10101)),
            ErrorClass::InsufficientFunds
        );
        assert_eq!(
            classify_mexc(400, Some(30005)),
            ErrorClass::InsufficientFunds
        );
        assert_eq!(
            classify_mexc(400, Some(10007)),
            ErrorClass::SymbolNotTradable
        );
        assert_eq!(
            classify_mexc(400, Some(30019)),
            ErrorClass::SymbolNotTradable
        );
        assert_eq!(classify_mexc(400, Some(30002)), ErrorClass::InvalidOrder);
        assert_eq!(classify_mexc(400, Some(-2011)), ErrorClass::InvalidOrder);
        assert_eq!(classify_mexc(429, None), ErrorClass::RateLimit);
        assert_eq!(classify_mexc(418, None), ErrorClass::RateLimit);
        assert_eq!(classify_mexc(503, None), ErrorClass::Venue);
        assert_eq!(classify_mexc(401, None), ErrorClass::Authentication);
    }

    #[test]
    fn gate_labels() {
        assert_eq!(
            classify_gate(401, Some("INVALID_SIGNATURE")),
            ErrorClass::Authentication
        );
        assert_eq!(
            classify_gate(400, Some("REQUEST_EXPIRED")),
            ErrorClass::Authentication
        );
        assert_eq!(
            classify_gate(400, Some("BALANCE_NOT_ENOUGH")),
            ErrorClass::InsufficientFunds
        );
        assert_eq!(
            classify_gate(400, Some("AMOUNT_TOO_LITTLE")),
            ErrorClass::InvalidOrder
        );
        assert_eq!(
            classify_gate(429, Some("TOO_MANY_REQUESTS")),
            ErrorClass::RateLimit
        );
        assert_eq!(classify_gate(500, Some("SERVER_ERROR")), ErrorClass::Venue);
        assert_eq!(
            classify_gate(400, Some("INVALID_CURRENCY_PAIR")),
            ErrorClass::SymbolNotTradable
        );
        assert_eq!(classify_gate(502, None), ErrorClass::Venue);
    }

    #[test]
    fn not_found_is_precise_and_display_has_no_secret() {
        let e = ExecError::new(
            Venue::Gate,
            "query",
            ErrorClass::InvalidOrder,
            "no such order",
        )
        .with_status(404)
        .with_code("ORDER_NOT_FOUND");
        assert!(e.is_order_not_found());
        assert_eq!(
            e.to_string(),
            "gateio query: invalid_order (HTTP 404, ORDER_NOT_FOUND): no such order"
        );
        let e =
            ExecError::new(Venue::Mexc, "query", ErrorClass::InvalidOrder, "x").with_code("-2011");
        assert!(e.is_order_not_found());
        let e =
            ExecError::new(Venue::Mexc, "query", ErrorClass::InvalidOrder, "x").with_code("30002");
        assert!(!e.is_order_not_found());
    }
}
