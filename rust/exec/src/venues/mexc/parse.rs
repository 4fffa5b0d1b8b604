//! MEXC spot v3 REST answers parsed into the venue-neutral types.

use arb_core::Venue;
use serde_json::Value;

use crate::amount::Amount;
use crate::json::{amount, int, opt_amount, opt_int, opt_text, text};
use crate::lifecycle::{Balance, Fill, OrderReport, OrderStatus, Source};
use crate::order::{ClientOrderId, PreparedOrder, Side};
use crate::venue_api::KeyPermissions;

pub fn status(s: &str) -> Result<OrderStatus, String> {
    Ok(match s {
        "NEW" => OrderStatus::Open,
        "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
        "FILLED" => OrderStatus::Filled,
        "CANCELED" | "PARTIALLY_CANCELED" => OrderStatus::Canceled,
        "REJECTED" => OrderStatus::Rejected,
        "EXPIRED" => OrderStatus::Expired,
        other => return Err(format!("unknown order status {other:?}")),
    })
}

fn client_id(v: &Value, name: &str) -> Option<ClientOrderId> {
    opt_text(v, name)
        .filter(|s| !s.is_empty())
        .map(|s| ClientOrderId::from_venue(&s))
}

/// An order as `GET/DELETE /api/v3/order` and `openOrders` return it.
pub fn parse_order(venue: Venue, v: &Value) -> Result<OrderReport, String> {
    let side = Side::parse(&text(v, "side")?);
    Ok(OrderReport {
        venue,
        order_id: text(v, "orderId")?,
        client_id: client_id(v, "clientOrderId").or_else(|| client_id(v, "origClientOrderId")),
        symbol: text(v, "symbol")?,
        side,
        status: status(&text(v, "status")?)?,
        price: opt_amount(v, "price")?,
        orig_qty: opt_amount(v, "origQty")?,
        filled_qty: opt_amount(v, "executedQty")?,
        filled_quote: opt_amount(v, "cummulativeQuoteQty")?,
        time_ms: opt_int(v, "updateTime")
            .or_else(|| opt_int(v, "time"))
            .unwrap_or(0),
        source: Source::Rest,
    })
}

/// The placement acknowledgement (`orderId`, `transactTime`; no status: it is open
/// as far as this answer says, and later evidence moves it on).
pub fn parse_ack(venue: Venue, v: &Value, p: &PreparedOrder) -> Result<OrderReport, String> {
    Ok(OrderReport {
        venue,
        order_id: text(v, "orderId")?,
        client_id: Some(p.client_id.clone()),
        symbol: p.symbol.clone(),
        side: Some(p.side),
        status: match opt_text(v, "status") {
            Some(s) => status(&s)?,
            None => OrderStatus::Open,
        },
        price: opt_amount(v, "price")?,
        orig_qty: opt_amount(v, "origQty")?.or(p.qty),
        filled_qty: opt_amount(v, "executedQty")?,
        filled_quote: opt_amount(v, "cummulativeQuoteQty")?,
        time_ms: opt_int(v, "transactTime").unwrap_or(0),
        source: Source::Rest,
    })
}

/// One row of `GET /api/v3/myTrades`.
pub fn parse_trade(venue: Venue, v: &Value) -> Result<Fill, String> {
    let is_buyer = v
        .get("isBuyer")
        .and_then(Value::as_bool)
        .ok_or("missing field \"isBuyer\"")?;
    Ok(Fill {
        venue,
        trade_id: text(v, "id")?,
        order_id: text(v, "orderId")?,
        client_id: client_id(v, "clientOrderId"),
        symbol: text(v, "symbol")?,
        side: if is_buyer { Side::Buy } else { Side::Sell },
        price: amount(v, "price")?,
        qty: amount(v, "qty")?,
        quote_qty: amount(v, "quoteQty")?,
        fee: opt_amount(v, "commission")?.unwrap_or(Amount::ZERO),
        fee_currency: opt_text(v, "commissionAsset").unwrap_or_default(),
        is_maker: v.get("isMaker").and_then(Value::as_bool).unwrap_or(false),
        time_ms: int(v, "time")?,
        source: Source::Rest,
    })
}

/// `GET /api/v3/account` balances.
/// `canTrade` / `canWithdraw` of `GET /api/v3/account` (absent: false, the safe reading
/// for trading and the alarming one for withdrawal would differ, so both must be there).
pub fn parse_permissions(v: &Value) -> Result<KeyPermissions, String> {
    let flag = |k: &str| {
        v.get(k)
            .and_then(Value::as_bool)
            .ok_or_else(|| format!("missing field {k:?}"))
    };
    Ok(KeyPermissions {
        trade: flag("canTrade")?,
        withdraw: flag("canWithdraw")?,
    })
}

pub fn parse_balances(v: &Value) -> Result<Vec<Balance>, String> {
    let rows = v
        .get("balances")
        .and_then(Value::as_array)
        .ok_or("missing field \"balances\"")?;
    rows.iter()
        .map(|b| {
            Ok(Balance {
                asset: text(b, "asset")?,
                free: amount(b, "free")?,
                locked: amount(b, "locked")?,
            })
        })
        .collect()
}

/// `GET /api/v3/tradeFee`: `{"data":{"makerCommission":..,"takerCommission":..}}`.
pub fn parse_fees(v: &Value) -> Result<(Amount, Amount), String> {
    let d = v.get("data").unwrap_or(v);
    Ok((amount(d, "makerCommission")?, amount(d, "takerCommission")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_permissions_are_read_and_required() {
        let v: Value = serde_json::from_str(
            r#"{"canTrade":false,"canWithdraw":true,"canDeposit":true,"balances":[],"permissions":["SPOT"]}"#,
        )
        .unwrap();
        assert_eq!(
            parse_permissions(&v).unwrap(),
            KeyPermissions {
                trade: false,
                withdraw: true
            }
        );
        let e = parse_permissions(&serde_json::json!({"canTrade": true})).unwrap_err();
        assert!(e.contains("canWithdraw"), "{e}");
    }

    #[test]
    fn parses_real_shapes() {
        let v: Value = serde_json::from_str(r#"{"symbol":"BTCUSDT","orderId":"C02__426060921085927424065","clientOrderId":"ab_1_a","price":"100.00","origQty":"2","executedQty":"0.5","cummulativeQuoteQty":"50","status":"PARTIALLY_FILLED","type":"LIMIT","side":"BUY","time":1,"updateTime":2}"#).unwrap();
        let r = parse_order(Venue::MEXC, &v).unwrap();
        assert_eq!(r.status, OrderStatus::PartiallyFilled);
        assert_eq!(r.filled_qty, Some(Amount::parse("0.5").unwrap()));
        assert_eq!(r.client_id.unwrap().as_str(), "ab_1_a");
        let fees: Value = serde_json::from_str(
            r#"{"data":{"makerCommission":0,"takerCommission":0.0005},"code":0}"#,
        )
        .unwrap();
        assert_eq!(
            parse_fees(&fees).unwrap().1,
            Amount::parse("0.0005").unwrap()
        );
        let bad: Value =
            serde_json::from_str(r#"{"orderId":1,"symbol":"X","side":"BUY","status":"WEIRD"}"#)
                .unwrap();
        assert!(parse_order(Venue::MEXC, &bad)
            .unwrap_err()
            .contains("WEIRD"));
    }
}
