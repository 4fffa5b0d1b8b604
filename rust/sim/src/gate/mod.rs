//! Gate.io API v4: REST under `/api/v4` and the WebSocket at `/ws/v4/`.

use arb_core::fixed::format_scaled;
use axum::routing::any;
use axum::Router;
use serde_json::{json, Value};

use crate::adapter::Adapter;
use crate::matching::{Finish, Order, OrderKind, Side, Status, Tif};
use crate::spec::{Restriction, BAL_SCALE};
use crate::state::{hex_string, VenueRef, VenueState};

pub mod rest;
pub mod sign;
pub mod wallet;
pub mod ws;

/// Gate.io as the simulator hosts it.
pub static ADAPTER: Adapter = Adapter {
    first_order_id: 1_852_454_420,
    // A 32-hex key and a 64-hex secret.
    credentials: |rng| (hex_string(rng, 16), hex_string(rng, 32)),
    format_order_id: |id| id.to_string(),
    parse_order_id: |s| s.parse().ok(),
    symbol: |base, quote| format!("{base}_{quote}"),
    known_rules: |k| k.gate,
    generated_rules: |pd, qd| (pd.saturating_sub(1).max(1), qd, "0", "3", 1000, 1000),
    restrictions: &[
        Restriction::None,
        Restriction::NoApi,
        Restriction::BuyOnly,
        Restriction::SellOnly,
        Restriction::BuyLater,
    ],
    view_lag: 4,
    router,
    urls: |port| {
        (
            format!("http://127.0.0.1:{port}/api/v4"),
            format!("ws://127.0.0.1:{port}/ws/v4/"),
        )
    },
};

/// The routes of one Gate instance.
pub fn router(venue: VenueRef) -> Router {
    Router::new()
        .route("/ws/v4/", any(ws::upgrade))
        .route("/ws/v4", any(ws::upgrade))
        .fallback(crate::http::handle::<rest::Api>)
        .with_state(venue)
}

/// The order an `order_id` path segment names, as Gate resolves it: a numeric id
/// always; the `text` client id only while the order is open (Gate's SDK docs:
/// "Operations based on custom IDs can only be checked in pending orders. Only order
/// ID can be used after the order is finished"). A finished order is found by `text`
/// only in `GET /spot/orders?status=finished` and `GET /spot/my_trades`.
pub fn lookup(
    vs: &VenueState,
    ex: &crate::matching::Exchange,
    account: u32,
    id: &str,
) -> Option<u64> {
    if id.starts_with("t-") {
        return ex
            .find_order(account, None, Some(id))
            .filter(|o| o.status.is_open())
            .map(|o| o.id);
    }
    let n = vs.parse_order_id(id)?;
    ex.find_order(account, Some(n), None).map(|o| o.id)
}

pub fn side_name(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

pub fn finish_name(f: Finish) -> &'static str {
    match f {
        Finish::Open => "open",
        Finish::Filled => "filled",
        Finish::Cancelled => "cancelled",
        Finish::Ioc => "ioc",
        Finish::Fok => "fok",
        Finish::Poc => "poc",
    }
}

pub fn status_name(s: Status) -> &'static str {
    match s {
        Status::New | Status::PartiallyFilled => "open",
        Status::Filled => "closed",
        Status::Canceled | Status::PartiallyCanceled => "cancelled",
    }
}

/// An order as Gate's REST and `spot.orders` show it.
pub fn order_json(vs: &VenueState, o: &Order) -> Value {
    let spec = &vs.specs[o.symbol];
    let market_buy = o.kind == OrderKind::Market && o.side == Side::Buy && o.quote_qty > 0;
    // A market buy's amount and left are in quote; everything else in base.
    let (amount, left) = if market_buy {
        (
            spec.fmt_notional(o.quote_qty),
            spec.fmt_notional(o.quote_qty - o.filled_quote),
        )
    } else {
        (spec.fmt_qty(o.qty), spec.fmt_qty(o.remaining()))
    };
    let avg = if o.filled > 0 {
        // filled_quote / filled at the price scale, rounded down.
        let p = o.filled_quote / o.filled as u128;
        spec.fmt_price(p as u64)
    } else {
        "0".to_string()
    };
    let tif = match o.tif {
        Tif::Gtc => "gtc",
        Tif::Ioc => "ioc",
        Tif::Fok => "fok",
        Tif::PostOnly => "poc",
    };
    json!({
        "id": o.id.to_string(),
        "text": if o.client_id.is_empty() { "apiv4".to_string() } else { o.client_id.clone() },
        "amend_text": "-",
        "create_time": (o.create_ms / 1000).to_string(),
        "update_time": (o.update_ms / 1000).to_string(),
        "create_time_ms": o.create_ms,
        "update_time_ms": o.update_ms,
        "status": status_name(o.status),
        "currency_pair": spec.venue_symbol,
        "type": if o.kind == OrderKind::Market { "market" } else { "limit" },
        "account": "spot",
        "side": side_name(o.side),
        "amount": amount,
        "price": if o.kind == OrderKind::Market { "0".to_string() } else { spec.fmt_price(o.price) },
        "time_in_force": tif,
        "iceberg": "0",
        "left": left,
        "filled_amount": spec.fmt_qty(o.filled),
        "fill_price": spec.fmt_notional(o.filled_quote),
        "filled_total": spec.fmt_notional(o.filled_quote),
        "avg_deal_price": avg,
        "fee": format_scaled(o.fee, BAL_SCALE),
        "fee_currency": o.fee_asset,
        "point_fee": "0",
        "gt_fee": "0",
        "gt_maker_fee": "0",
        "gt_taker_fee": "0",
        "gt_discount": false,
        "rebated_fee": "0",
        "rebated_fee_currency": spec.quote,
        "finish_as": finish_name(o.finish),
    })
}
