//! Gate.io error answers (`{"label": "...", "message": "..."}`, some endpoints
//! `detail`) classified into `arb_core::ErrorClass` (reference section C).

use arb_core::ErrorClass;
use serde_json::Value;

use crate::venue_api::ErrorBody;

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

/// The class, label and message of an error answer.
pub fn error_of(http_status: u16, body: &Value) -> ErrorBody {
    let label = body
        .get("label")
        .and_then(Value::as_str)
        .map(str::to_string);
    let message = body
        .get("message")
        .or_else(|| body.get("detail"))
        .and_then(Value::as_str)
        .map(str::to_string);
    ErrorBody {
        class: classify_gate(http_status, label.as_deref()),
        code: label,
        message,
    }
}

pub fn is_order_not_found(code: Option<&str>) -> bool {
    code == Some("ORDER_NOT_FOUND")
}

/// `REQUEST_EXPIRED`: the `Timestamp` header is more than 60 s off.
pub fn is_timestamp_refused(code: Option<&str>) -> bool {
    code == Some("REQUEST_EXPIRED")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The adapter's surface: `label` and `message` (or `detail`) read from a body; the
    /// labels the generic retry policy asks about.
    #[test]
    fn error_bodies_and_labels() {
        let e = error_of(
            404,
            &serde_json::json!({"label": "ORDER_NOT_FOUND", "message": "Order not found"}),
        );
        assert_eq!(e.class, ErrorClass::InvalidOrder);
        assert!(is_order_not_found(e.code.as_deref()));
        assert_eq!(e.message.as_deref(), Some("Order not found"));
        let e = error_of(
            400,
            &serde_json::json!({"label": "REQUEST_EXPIRED", "detail": "late"}),
        );
        assert_eq!(e.class, ErrorClass::Authentication);
        assert!(is_timestamp_refused(e.code.as_deref()));
        assert_eq!(e.message.as_deref(), Some("late"));
        let e = error_of(503, &Value::Null);
        assert_eq!(
            (e.class, e.code, e.message),
            (ErrorClass::Venue, None, None)
        );
        assert!(!is_order_not_found(Some("-2013")));
        assert!(!is_timestamp_refused(Some("700003")));
    }
}
