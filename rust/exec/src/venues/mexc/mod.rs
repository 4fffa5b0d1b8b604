//! MEXC spot v3: the venue adapter of the execution layer. Requests carry every
//! parameter in the query string, signed with HMAC-SHA256 over exactly the string sent;
//! the private stream is protobuf over a listenKey URL.

use std::time::Duration;

use arb_core::{Side, Venue, VenueKind};
use serde_json::Value;

use crate::amount::Amount;
use crate::client::OrderRef;
use crate::lifecycle::{Balance, Fill, OrderReport};
use crate::order::{ClientOrderId, OrderKind, PreparedOrder};
use crate::ratelimit::{Endpoint, Limit};
use crate::venue_api::{
    Call, ErrorBody, HttpRequest, KeyPermissions, RequestCtx, TradePaging, UserSession, VenueApi,
};

pub mod errors;
pub mod limits;
pub mod parse;
pub mod requests;
pub mod sign;
pub mod stream;
pub mod wallet;

pub use errors::classify_mexc;
pub use parse::{parse_ack, parse_balances, parse_fees, parse_order, parse_trade, status};
pub use requests::place_params;
pub use sign::{push_param, signed_query};

/// The MEXC adapter.
pub struct MexcApi;

impl VenueApi for MexcApi {
    fn kind(&self) -> VenueKind {
        VenueKind::Mexc
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

    fn documented_limits(&self, ep: Endpoint) -> &'static [Limit] {
        limits::documented_limits(ep)
    }

    fn weight(&self, c: &Call) -> u32 {
        limits::weight(&c.method, &c.path)
    }

    fn limit_per_symbol(&self, _ep: Endpoint) -> bool {
        false
    }

    /// MEXC answers -2013 "Order does not exist." briefly after accepting an order;
    /// 1000 ms is well above the lag seen.
    fn default_read_after_write(&self) -> Duration {
        Duration::from_millis(1_000)
    }

    /// MEXC sizes a market order either way (`quantity` or `quoteOrderQty`).
    fn check_sizing(&self, _side: Side, _kind: &OrderKind) -> Result<(), &'static str> {
        Ok(())
    }

    fn client_id_wire(&self, id: &ClientOrderId) -> String {
        requests::client_id_wire(id)
    }

    fn trade_paging(&self) -> TradePaging {
        TradePaging::NewestInWindow { limit: 100 }
    }

    /// `allOrders` has no pages: one full page is already too many.
    fn history_pages(&self) -> u32 {
        1
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
        _page: u32,
        limit: u32,
    ) -> Call {
        requests::trades_page(symbol, since_ms, until_ms, limit)
    }

    fn order_history(
        &self,
        symbol: &str,
        since_ms: i64,
        until_ms: i64,
        limit: u32,
        _page: u32,
    ) -> Call {
        requests::order_history(symbol, since_ms, until_ms, limit)
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

    fn permissions(&self) -> Option<Call> {
        Some(requests::balances())
    }

    fn parse_permissions(&self, v: &Value) -> Result<KeyPermissions, String> {
        parse::parse_permissions(v)
    }

    fn parse_order(&self, venue: Venue, v: &Value) -> Result<OrderReport, String> {
        parse::parse_order(venue, v)
    }

    fn parse_ack(&self, venue: Venue, v: &Value, p: &PreparedOrder) -> Result<OrderReport, String> {
        parse::parse_ack(venue, v, p)
    }

    fn parse_trade(&self, venue: Venue, v: &Value) -> Result<Fill, String> {
        parse::parse_trade(venue, v)
    }

    fn user_session(&self) -> Box<dyn UserSession> {
        Box::new(stream::MexcSession::default())
    }

    fn wallet(&self) -> &'static dyn crate::wallet::WalletApi {
        &wallet::MexcWallet
    }
}
