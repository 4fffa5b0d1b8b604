//! Gate.io API v4 spot: the venue adapter of the execution layer. REST with JSON bodies
//! signed by HMAC-SHA512 headers, client ids as `text` (`t-...`), market buys sized in
//! quote, rate-limit headers that announce exhaustion, signed private channels and a
//! WebSocket trading API.

use std::time::Duration;

use arb_core::{Side, Venue, VenueKind};
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::amount::Amount;
use crate::client::OrderRef;
use crate::lifecycle::{Balance, Fill, OrderReport, Source};
use crate::order::{ClientOrderId, OrderKind, PreparedOrder};
use crate::ratelimit::{Endpoint, Limit};
use crate::venue_api::{
    Call, ErrorBody, HttpRequest, RequestCtx, TradePaging, UserSession, VenueApi, WsTradeApi,
};

pub mod errors;
pub mod limits;
pub mod parse;
pub mod requests;
pub mod sign;
pub mod stream;
pub mod wallet;
pub mod ws_trade;

pub use errors::classify_gate;
pub use parse::{parse_balances, parse_fees, parse_order, parse_trade};
pub use requests::place_body;
pub use sign::sign_headers;

/// Pages of a finished-order history read before giving up on proving absence (a
/// window this busy is left unknown rather than guessed).
const HISTORY_PAGES: u32 = 10;

/// The Gate adapter.
pub struct GateApi;

static WS_TRADING: ws_trade::GateWsApi = ws_trade::GateWsApi;

impl VenueApi for GateApi {
    fn kind(&self) -> VenueKind {
        VenueKind::Gate
    }

    fn request(&self, ctx: &RequestCtx<'_>, c: &Call) -> HttpRequest {
        requests::request(ctx, c)
    }

    fn error_of(&self, http_status: u16, body: &Value) -> ErrorBody {
        errors::error_of(http_status, body)
    }

    fn is_order_not_found(&self, code: Option<&str>) -> bool {
        errors::is_order_not_found(code)
    }

    fn is_timestamp_refused(&self, code: Option<&str>) -> bool {
        errors::is_timestamp_refused(code)
    }

    fn rate_reset_ms(&self, h: &HeaderMap, after_refusal: bool) -> Option<i64> {
        limits::reset_ms(h, after_refusal)
    }

    fn rate_exhausted(&self, h: &HeaderMap) -> bool {
        limits::exhausted(h)
    }

    fn documented_limits(&self, ep: Endpoint) -> &'static [Limit] {
        limits::documented_limits(ep)
    }

    fn limit_per_symbol(&self, ep: Endpoint) -> bool {
        limits::per_symbol(ep)
    }

    /// Gate's order query sees an order as soon as it is accepted.
    fn default_read_after_write(&self) -> Duration {
        Duration::ZERO
    }

    /// Gate sizes a market buy in quote currency and a market sell in base.
    fn check_sizing(&self, side: Side, kind: &OrderKind) -> Result<(), &'static str> {
        match (kind, side) {
            (OrderKind::Market { .. }, Side::Buy) => {
                Err("Gate market buys are sized in quote currency: use a quote-sized market order")
            }
            (OrderKind::MarketQuote { .. }, Side::Sell) => {
                Err("Gate market sells are sized in base currency: use a base-sized market order")
            }
            _ => Ok(()),
        }
    }

    fn client_id_wire(&self, id: &ClientOrderId) -> String {
        requests::client_id_wire(id)
    }

    fn trade_paging(&self) -> TradePaging {
        TradePaging::Numbered { limit: 1000 }
    }

    fn history_pages(&self) -> u32 {
        HISTORY_PAGES
    }

    fn server_time(&self) -> (Call, &'static str) {
        requests::server_time()
    }

    fn balances(&self) -> Call {
        requests::balances()
    }

    fn fees(&self, symbol: &str) -> Call {
        requests::fees(symbol)
    }

    fn query(&self, symbol: &str, order: &OrderRef) -> Call {
        requests::query(symbol, order)
    }

    fn cancel(&self, symbol: &str, order: &OrderRef) -> Call {
        requests::cancel(symbol, order)
    }

    fn open_orders(&self, symbol: &str) -> Call {
        requests::open_orders(symbol)
    }

    fn trades_page(
        &self,
        symbol: &str,
        since_ms: Option<i64>,
        until_ms: Option<i64>,
        page: u32,
        limit: u32,
    ) -> Call {
        requests::trades_page(symbol, since_ms, until_ms, page, limit)
    }

    fn order_history(
        &self,
        symbol: &str,
        since_ms: i64,
        until_ms: i64,
        limit: u32,
        page: u32,
    ) -> Call {
        requests::order_history(symbol, since_ms, until_ms, limit, page)
    }

    fn place(&self, p: &PreparedOrder) -> Call {
        requests::place(p)
    }

    fn parse_balances(&self, v: &Value) -> Result<Vec<Balance>, String> {
        parse::parse_balances(v)
    }

    fn parse_fees(&self, v: &Value) -> Result<(Amount, Amount), String> {
        parse::parse_fees(v)
    }

    /// `gt_discount` of `/wallet/fee`: fees paid in GT at a discount.
    fn parse_fee_token(&self, v: &Value) -> Option<bool> {
        v.get("gt_discount").and_then(Value::as_bool)
    }

    fn parse_order(&self, venue: Venue, v: &Value) -> Result<OrderReport, String> {
        parse::parse_order(venue, v, Source::Rest)
    }

    /// Gate answers a placement with the whole order.
    fn parse_ack(
        &self,
        venue: Venue,
        v: &Value,
        _p: &PreparedOrder,
    ) -> Result<OrderReport, String> {
        parse::parse_order(venue, v, Source::Rest)
    }

    fn parse_trade(&self, venue: Venue, v: &Value) -> Result<Fill, String> {
        parse::parse_trade(venue, v, Source::Rest)
    }

    fn ws_trading(&self) -> Option<&'static dyn WsTradeApi> {
        Some(&WS_TRADING)
    }

    fn user_session(&self) -> Box<dyn UserSession> {
        Box::new(stream::GateSession)
    }

    fn wallet(&self) -> &'static dyn crate::wallet::WalletApi {
        &wallet::GateWallet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A capability of the adapter: which market sizings Gate offers.
    #[test]
    fn market_sizing() {
        let q = crate::Amount::parse("1").unwrap();
        let api = GateApi;
        assert!(api
            .check_sizing(Side::Buy, &OrderKind::Market { qty: q })
            .is_err());
        assert!(api
            .check_sizing(Side::Sell, &OrderKind::Market { qty: q })
            .is_ok());
        assert!(api
            .check_sizing(Side::Buy, &OrderKind::MarketQuote { quote: q })
            .is_ok());
        assert!(api
            .check_sizing(Side::Sell, &OrderKind::MarketQuote { quote: q })
            .is_err());
    }
}
