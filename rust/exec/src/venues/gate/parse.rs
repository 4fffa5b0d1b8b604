//! Gate.io API v4 spot answers (REST and the private channels) parsed into the
//! venue-neutral types.

use arb_core::Venue;
use serde_json::Value;

use crate::amount::Amount;
use crate::json::{amount, opt_amount, opt_int, opt_text, text};
use crate::lifecycle::{Balance, Fill, OrderReport, OrderStatus, Source};
use crate::order::{ClientOrderId, Side};

fn client_id(v: &Value) -> Option<ClientOrderId> {
    opt_text(v, "text")
        .filter(|s| s.starts_with("t-"))
        .map(|s| ClientOrderId::from_venue(&s))
}

/// An order as `POST/GET/DELETE /spot/orders` and the `spot.orders` channel send it.
pub fn parse_order(venue: Venue, v: &Value, source: Source) -> Result<OrderReport, String> {
    let side = Side::parse(&text(v, "side")?);
    let is_market_buy = opt_text(v, "type").as_deref() == Some("market") && side == Some(Side::Buy);
    let amount_ = opt_amount(v, "amount")?;
    let left = opt_amount(v, "left")?;
    let filled = match opt_amount(v, "filled_amount")? {
        Some(f) => Some(f),
        None if !is_market_buy => match (amount_, left) {
            (Some(a), Some(l)) => Some(a - l),
            _ => None,
        },
        None => None,
    };
    let filled_nonzero = filled.is_some_and(|f| !f.is_zero());
    let finish_as = opt_text(v, "finish_as").unwrap_or_default();
    let status = match text(v, "status").or_else(|_| text(v, "event"))?.as_str() {
        "open" | "put" | "update" if finish_as.is_empty() || finish_as == "open" => {
            if filled_nonzero {
                OrderStatus::PartiallyFilled
            } else {
                OrderStatus::Open
            }
        }
        "open" | "put" | "update" | "closed" | "cancelled" | "finish" => match finish_as.as_str() {
            "filled" => OrderStatus::Filled,
            "ioc" | "fok" | "poc" | "small" | "depth_not_enough" | "trader_not_enough" => {
                OrderStatus::Expired
            }
            "cancelled" | "stp" | "liquidate_cancelled" => OrderStatus::Canceled,
            _ => {
                if left.is_some_and(|l| l.is_zero()) {
                    OrderStatus::Filled
                } else {
                    OrderStatus::Canceled
                }
            }
        },
        other => return Err(format!("unknown order status {other:?}")),
    };
    Ok(OrderReport {
        venue,
        order_id: text(v, "id")?,
        client_id: client_id(v),
        symbol: text(v, "currency_pair")?,
        side,
        status,
        price: opt_amount(v, "price")?.filter(|p| !p.is_zero()),
        orig_qty: if is_market_buy { None } else { amount_ },
        filled_qty: filled,
        filled_quote: opt_amount(v, "filled_total")?,
        time_ms: opt_int(v, "update_time_ms")
            .or_else(|| opt_int(v, "create_time_ms"))
            .unwrap_or(0),
        source,
    })
}

/// One row of `GET /spot/my_trades` or one `spot.usertrades` item.
pub fn parse_trade(venue: Venue, v: &Value, source: Source) -> Result<Fill, String> {
    let price = amount(v, "price")?;
    let qty = amount(v, "amount")?;
    let quote_qty = price
        .checked_mul(qty)
        .ok_or("fields \"price\" x \"amount\" out of range")?;
    Ok(Fill {
        venue,
        trade_id: text(v, "id")?,
        order_id: text(v, "order_id")?,
        client_id: client_id(v),
        symbol: text(v, "currency_pair")?,
        side: Side::parse(&text(v, "side")?).ok_or("field \"side\" is not buy/sell")?,
        price,
        qty,
        quote_qty,
        fee: opt_amount(v, "fee")?.unwrap_or(Amount::ZERO),
        fee_currency: opt_text(v, "fee_currency").unwrap_or_default(),
        is_maker: opt_text(v, "role").as_deref() == Some("maker"),
        time_ms: opt_int(v, "create_time_ms")
            .or_else(|| {
                // `create_time_ms` is sometimes a decimal string ("1710488334073.123").
                opt_text(v, "create_time_ms")
                    .and_then(|s| s.split('.').next().and_then(|i| i.parse().ok()))
            })
            .unwrap_or(0),
        source,
    })
}

/// `GET /spot/accounts`.
pub fn parse_balances(v: &Value) -> Result<Vec<Balance>, String> {
    crate::json::array(v, "accounts")?
        .iter()
        .map(|b| {
            Ok(Balance {
                asset: text(b, "currency")?,
                free: amount(b, "available")?,
                locked: amount(b, "locked")?,
            })
        })
        .collect()
}

/// `GET /wallet/fee`: `(maker_fee, taker_fee)` as rates.
pub fn parse_fees(v: &Value) -> Result<(Amount, Amount), String> {
    Ok((amount(v, "maker_fee")?, amount(v, "taker_fee")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_order_and_trade() {
        let v: Value = serde_json::from_str(r#"{"id":"1852454420","text":"t-abc123","amend_text":"-","create_time":"1710488334","create_time_ms":1710488334073,"status":"closed","currency_pair":"BTC_USDT","type":"limit","account":"unified","side":"buy","amount":"0.001","price":"65000","time_in_force":"gtc","iceberg":"0","left":"0","filled_amount":"0.001","filled_total":"63.4693","avg_deal_price":"63469.3","fee":"0.00000022","fee_currency":"BTC","finish_as":"filled"}"#).unwrap();
        let r = parse_order(Venue::GATE, &v, Source::Rest).unwrap();
        assert_eq!(r.status, OrderStatus::Filled);
        assert_eq!(r.client_id.unwrap().as_str(), "abc123");
        assert_eq!(r.filled_qty, Some(Amount::parse("0.001").unwrap()));
        let ioc: Value = serde_json::from_str(r#"{"id":"1","status":"closed","currency_pair":"BTC_USDT","type":"limit","side":"sell","amount":"1","price":"1","left":"0.4","finish_as":"ioc"}"#).unwrap();
        let r = parse_order(Venue::GATE, &ioc, Source::Rest).unwrap();
        assert_eq!(
            (r.status, r.filled_qty),
            (OrderStatus::Expired, Some(Amount::parse("0.6").unwrap()))
        );
        let t: Value = serde_json::from_str(r#"{"id":"5","create_time_ms":"1710488334073.123","currency_pair":"BTC_USDT","side":"buy","role":"maker","amount":"0.5","price":"2.5","order_id":"1","fee":"0.001","fee_currency":"BTC","text":"t-x"}"#).unwrap();
        let f = parse_trade(Venue::GATE, &t, Source::Stream).unwrap();
        assert_eq!(
            (f.quote_qty, f.is_maker, f.time_ms),
            (Amount::parse("1.25").unwrap(), true, 1_710_488_334_073)
        );
    }
}
