//! MEXC spot v3: REST under `/api/v3` and the protobuf WebSocket at `/ws`.

use std::sync::Arc;

use axum::routing::any;
use axum::Router;

use crate::matching::{Order, OrderKind, Side, Status, Tif};
use crate::state::Shared;

pub mod rest;
pub mod sign;
pub mod ws;

/// The MEXC server's routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/ws", any(ws::upgrade))
        .fallback(rest::handle)
        .with_state(shared)
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
