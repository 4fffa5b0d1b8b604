//! MEXC spot v3 REST: the requests the client sends (every parameter in the query
//! string, as ccxt does, signed with HMAC-SHA256 over exactly the string sent) and the
//! parsing of its answers into the venue-neutral types.

use arb_core::Venue;
use serde_json::Value;

use crate::amount::Amount;
use crate::json::{amount, int, opt_amount, opt_int, opt_text, text};
use crate::lifecycle::{Balance, Fill, OrderReport, OrderStatus, Source};
use crate::order::{ClientOrderId, PreparedKind, PreparedOrder, Side, TimeInForce};

/// Appends `k=v` to a query string, percent-encoding anything outside the unreserved
/// set. The signature is computed over the encoded string, which is what is sent.
pub fn push_param(q: &mut String, k: &str, v: &str) {
    if !q.is_empty() {
        q.push('&');
    }
    q.push_str(k);
    q.push('=');
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            q.push(b as char);
        } else {
            q.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The parameters of `POST /api/v3/order`, in ccxt's order.
pub fn place_params(p: &PreparedOrder) -> Vec<(&'static str, String)> {
    let side = match p.side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    };
    let mut v = vec![("symbol", p.symbol.clone()), ("side", side.to_string())];
    match &p.kind {
        PreparedKind::Limit { price, qty, tif } => {
            let t = match tif {
                TimeInForce::Gtc => "LIMIT",
                TimeInForce::Ioc => "IMMEDIATE_OR_CANCEL",
                TimeInForce::Fok => "FILL_OR_KILL",
                TimeInForce::PostOnly => "LIMIT_MAKER",
            };
            v.push(("type", t.to_string()));
            v.push(("quantity", qty.clone()));
            v.push(("price", price.clone()));
        }
        PreparedKind::Market { qty } => {
            v.push(("type", "MARKET".to_string()));
            v.push(("quantity", qty.clone()));
        }
        PreparedKind::MarketQuote { quote } => {
            v.push(("type", "MARKET".to_string()));
            v.push(("quoteOrderQty", quote.clone()));
        }
    }
    v.push(("newClientOrderId", p.client_id.wire(Venue::Mexc)));
    v
}

/// The signed query string for `params` at venue time `timestamp_ms`:
/// `<params>&timestamp=..&recvWindow=..&signature=<hex>`.
pub fn signed_query(
    params: &[(&str, String)],
    timestamp_ms: i64,
    recv_window_ms: u64,
    secret: &str,
) -> String {
    let mut q = String::with_capacity(256);
    for (k, v) in params {
        push_param(&mut q, k, v);
    }
    push_param(&mut q, "timestamp", &timestamp_ms.to_string());
    push_param(&mut q, "recvWindow", &recv_window_ms.to_string());
    let sig = arb_core::sign::mexc_sign(secret, &q);
    q.push_str("&signature=");
    q.push_str(&sig);
    q
}

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
pub fn parse_order(v: &Value) -> Result<OrderReport, String> {
    let side = Side::parse(&text(v, "side")?);
    Ok(OrderReport {
        venue: Venue::Mexc,
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
pub fn parse_ack(v: &Value, p: &PreparedOrder) -> Result<OrderReport, String> {
    Ok(OrderReport {
        venue: Venue::Mexc,
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
pub fn parse_trade(v: &Value) -> Result<Fill, String> {
    let is_buyer = v
        .get("isBuyer")
        .and_then(Value::as_bool)
        .ok_or("missing field \"isBuyer\"")?;
    Ok(Fill {
        venue: Venue::Mexc,
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
    use crate::order::{Leg, OrderKind, OrderRequest, SymbolRules};
    use std::sync::Arc;

    #[test]
    fn signed_query_matches_the_known_answer() {
        // The documented example: the same payload, then `&signature=`.
        let params = vec![
            ("symbol", "BTCUSDT".to_string()),
            ("side", "BUY".to_string()),
            ("type", "LIMIT".to_string()),
            ("quantity", "1".to_string()),
            ("price", "11".to_string()),
        ];
        let mut q = String::new();
        for (k, v) in &params {
            push_param(&mut q, k, v);
        }
        push_param(&mut q, "recvWindow", "5000");
        push_param(&mut q, "timestamp", "1644489390087");
        assert_eq!(
            arb_core::sign::mexc_sign("45d0b3c26f2644f19bfb98b07741b2f5", &q),
            "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
        );
        let s = signed_query(
            &params,
            1_644_489_390_087,
            5000,
            "45d0b3c26f2644f19bfb98b07741b2f5",
        );
        let (payload, sig) = s.split_once("&signature=").unwrap();
        assert_eq!(
            sig,
            arb_core::sign::mexc_sign("45d0b3c26f2644f19bfb98b07741b2f5", payload)
        );
        assert!(payload.ends_with("timestamp=1644489390087&recvWindow=5000"));
    }

    #[test]
    fn order_params_per_kind() {
        let rules = Arc::new(SymbolRules::new(
            Venue::Mexc,
            "BTCUSDT",
            2,
            6,
            Amount::parse("0.000001").unwrap(),
            Amount::parse("1").unwrap(),
        ));
        let id = ClientOrderId::for_leg("ab", 42, Leg::A).unwrap();
        let req = OrderRequest {
            rules,
            side: Side::Buy,
            kind: OrderKind::MarketQuote {
                quote: Amount::parse("25.5").unwrap(),
            },
            client_id: id,
        };
        let p = place_params(&req.prepare().unwrap());
        assert_eq!(
            p,
            vec![
                ("symbol", "BTCUSDT".to_string()),
                ("side", "BUY".to_string()),
                ("type", "MARKET".to_string()),
                ("quoteOrderQty", "25.50".to_string()),
                ("newClientOrderId", "ab_16_a".to_string()),
            ]
        );
        let post_only = OrderRequest {
            kind: OrderKind::Limit {
                price: Amount::parse("100").unwrap(),
                qty: Amount::parse("0.5").unwrap(),
                tif: TimeInForce::PostOnly,
            },
            ..req
        };
        assert!(place_params(&post_only.prepare().unwrap())
            .contains(&("type", "LIMIT_MAKER".to_string())));
    }

    #[test]
    fn parses_real_shapes() {
        let v: Value = serde_json::from_str(r#"{"symbol":"BTCUSDT","orderId":"C02__426060921085927424065","clientOrderId":"ab_1_a","price":"100.00","origQty":"2","executedQty":"0.5","cummulativeQuoteQty":"50","status":"PARTIALLY_FILLED","type":"LIMIT","side":"BUY","time":1,"updateTime":2}"#).unwrap();
        let r = parse_order(&v).unwrap();
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
        assert!(parse_order(&bad).unwrap_err().contains("WEIRD"));
    }
}
