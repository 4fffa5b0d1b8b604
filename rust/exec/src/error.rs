//! `ExecError`: the one error type of the execution layer, classified into
//! `arb_core::ErrorClass` (each venue's adapter reads its codes or labels), so retry
//! policy, circuit breaker and Python exception classes key on one value.

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
    /// The venue's error code or label, when it sent one.
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

    /// The venue did not find the order by the id it was asked with (its adapter knows
    /// the code: MEXC -2011 on a cancel, -2013 on a query / Gate ORDER_NOT_FOUND). That
    /// alone proves nothing about an order whose placement outcome is unknown: Gate
    /// finds a finished order by its `text` only in its histories, and MEXC answers
    /// -2013 briefly after accepting an order (`VenueClient::locate` weighs every
    /// source).
    pub fn is_order_not_found(&self) -> bool {
        crate::venues::adapter_for(self.venue).is_order_not_found(self.code.as_deref())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_is_precise_and_display_has_no_secret() {
        let e = ExecError::new(
            Venue::GATE,
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
            ExecError::new(Venue::MEXC, "query", ErrorClass::InvalidOrder, "x").with_code("-2011");
        assert!(e.is_order_not_found());
        let e =
            ExecError::new(Venue::MEXC, "query", ErrorClass::InvalidOrder, "x").with_code("30002");
        assert!(!e.is_order_not_found());
    }
}
