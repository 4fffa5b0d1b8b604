//! MEXC error answers (`{"code": <int>, "msg": "..."}`) classified into
//! `arb_core::ErrorClass` (reference section A, "Errors and limits").

use arb_core::ErrorClass;
use serde_json::Value;

use crate::venue_api::ErrorBody;

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

/// The class, code and message of an error answer.
pub fn error_of(http_status: u16, body: &Value) -> ErrorBody {
    let code = body
        .get("code")
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
    ErrorBody {
        class: classify_mexc(http_status, code),
        code: code.map(|c| c.to_string()),
        message: body.get("msg").and_then(Value::as_str).map(str::to_string),
    }
}

/// -2011 on a cancel, -2013 on a query ("Order does not exist.").
pub fn is_order_not_found(code: Option<&str>) -> bool {
    matches!(code, Some("-2011" | "-2013"))
}

/// 700003: the timestamp is outside `recvWindow`.
pub fn is_timestamp_refused(code: Option<&str>) -> bool {
    code == Some("700003")
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

    /// The adapter's surface: a body read into class, code and message; the codes the
    /// generic retry policy asks about.
    #[test]
    fn error_bodies_and_codes() {
        let e = error_of(
            400,
            &serde_json::json!({"code": "-2013", "msg": "Order does not exist."}),
        );
        assert_eq!(e.class, ErrorClass::InvalidOrder);
        assert_eq!(e.code.as_deref(), Some("-2013"));
        assert_eq!(e.message.as_deref(), Some("Order does not exist."));
        assert!(is_order_not_found(e.code.as_deref()));
        let e = error_of(
            400,
            &serde_json::json!({"code": 700003, "msg": "Timestamp"}),
        );
        assert_eq!(e.class, ErrorClass::Authentication);
        assert!(is_timestamp_refused(e.code.as_deref()));
        assert!(!is_order_not_found(e.code.as_deref()));
        let e = error_of(502, &Value::Null);
        assert_eq!(
            (e.class, e.code, e.message),
            (ErrorClass::Venue, None, None)
        );
        assert!(!is_order_not_found(Some("30002")));
        assert!(!is_timestamp_refused(Some("REQUEST_EXPIRED")));
    }
}
