//! MEXC spot v3: REST under `/api/v3` and the protobuf WebSocket at `/ws`.

use axum::routing::any;
use axum::Router;

use crate::adapter::Adapter;
use crate::matching::{Order, OrderKind, Side, Status, Tif};
use crate::spec::Restriction;
use crate::state::{hex_string, VenueRef};

pub mod capital;
pub mod proto;
pub mod rest;
pub mod sign;
pub mod weights;
pub mod ws;

/// MEXC as the simulator hosts it.
pub static ADAPTER: Adapter = Adapter {
    first_order_id: 426_060_921_085_927_424,
    // Keys look like "mx0v..." with a 32-hex secret.
    credentials: |rng| (format!("mx0v{}", hex_string(rng, 14)), hex_string(rng, 16)),
    format_order_id: |id| format!("C02__{id}"),
    parse_order_id: |s| s.strip_prefix("C02__").unwrap_or(s).parse().ok(),
    symbol: |base, quote| format!("{base}{quote}"),
    known_rules: |k| k.mexc,
    generated_rules: |pd, qd| (pd, qd, "0", "1", 0, 500),
    restrictions: &[
        Restriction::None,
        Restriction::NoApi,
        Restriction::NoMarket,
        Restriction::BuyOnly,
        Restriction::SellOnly,
    ],
    view_lag: 2,
    router,
    urls: |port| {
        (
            format!("http://127.0.0.1:{port}"),
            format!("ws://127.0.0.1:{port}/ws"),
        )
    },
};

/// The routes of one MEXC instance.
pub fn router(venue: VenueRef) -> Router {
    Router::new()
        .route("/ws", any(ws::upgrade))
        .fallback(crate::http::handle::<rest::Api>)
        .with_state(venue)
}

pub fn side_name(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

pub fn type_name(o: &Order) -> &'static str {
    match (o.kind, o.tif) {
        (OrderKind::Market, _) => "MARKET",
        (_, Tif::PostOnly) => "LIMIT_MAKER",
        (_, Tif::Ioc) => "IMMEDIATE_OR_CANCEL",
        (_, Tif::Fok) => "FILL_OR_KILL",
        (_, Tif::Gtc) => "LIMIT",
    }
}

pub fn status_name(s: Status) -> &'static str {
    match s {
        Status::New => "NEW",
        Status::PartiallyFilled => "PARTIALLY_FILLED",
        Status::Filled => "FILLED",
        Status::Canceled => "CANCELED",
        Status::PartiallyCanceled => "PARTIALLY_CANCELED",
    }
}

/// The protobuf `orderType` code.
pub fn type_code(o: &Order) -> i32 {
    match (o.kind, o.tif) {
        (OrderKind::Market, _) => 5,
        (_, Tif::PostOnly) => 2,
        (_, Tif::Ioc) => 3,
        (_, Tif::Fok) => 4,
        (_, Tif::Gtc) => 1,
    }
}

/// The protobuf `status` code.
pub fn status_code(s: Status) -> i32 {
    match s {
        Status::New => 1,
        Status::Filled => 2,
        Status::PartiallyFilled => 3,
        Status::Canceled => 4,
        Status::PartiallyCanceled => 5,
    }
}
