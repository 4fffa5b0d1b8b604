//! The adapter interfaces of the execution layer: what the generic machinery (the
//! client's retry policy, the limiter, the breaker, the private-stream driver, the
//! WebSocket order path) asks of a venue. Each venue implements them once, in its own
//! folder under `venues/`; [`crate::venues::adapter_for`] picks one by [`Venue`].
//!
//! Adapters are stateless `'static` values reached through `&'static dyn`: a vtable call
//! per request, and nothing allocated or locked for the choice on the hot path.

use std::time::Duration;

use arb_core::{ErrorClass, Side, Venue, VenueKind};
use futures_util::future::BoxFuture;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::amount::Amount;
use crate::client::{OrderRef, VenueClient};
use crate::config::VenueConfig;
use crate::error::ExecError;
use crate::lifecycle::{Balance, Fill, OrderReport};
use crate::order::{ClientOrderId, OrderKind, PreparedOrder};
use crate::ratelimit::{Endpoint, Limit};
use crate::user_stream::StreamStats;

/// One REST call before signing (signing happens per attempt: timestamps move).
pub struct Call {
    pub ep: Endpoint,
    pub op: &'static str,
    pub symbol: String,
    pub method: Method,
    /// The path below the REST base URL.
    pub path: String,
    pub params: Vec<(&'static str, String)>,
    pub body: Option<String>,
    pub signed: bool,
}

impl Call {
    /// A signed call with no parameters yet.
    pub fn new(
        ep: Endpoint,
        op: &'static str,
        symbol: &str,
        method: Method,
        path: impl Into<String>,
    ) -> Call {
        Call {
            ep,
            op,
            symbol: symbol.to_string(),
            method,
            path: path.into(),
            params: Vec::new(),
            body: None,
            signed: true,
        }
    }

    pub fn param(mut self, k: &'static str, v: impl Into<String>) -> Call {
        self.params.push((k, v.into()));
        self
    }
}

/// What a request is built with besides the call itself.
pub struct RequestCtx<'a> {
    pub cfg: &'a VenueConfig,
    /// The path part of the REST base URL, without a trailing `/` (Gate signs
    /// `/api/v4/...`; every request target starts with it).
    pub base_path: &'a str,
    /// The venue's clock as estimated now (signed timestamps).
    pub venue_now_ms: i64,
}

/// One signed attempt as bytes for the wire, independent of the HTTP client that sends
/// it: reqwest for reads, or the order connections of [`crate::h1`] that the deciding
/// task writes itself.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: Method,
    /// Origin-relative: the base URL's path, the call's path and its query.
    pub target: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

/// What a venue's error answer says.
pub struct ErrorBody {
    pub class: ErrorClass,
    /// The venue's code or label.
    pub code: Option<String>,
    pub message: Option<String>,
}

/// How a venue pages its trade history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradePaging {
    /// Numbered pages of at most `limit` rows, newest first: pages 1, 2, ... until a
    /// short one.
    Numbered { limit: u32 },
    /// No page numbers: the newest `limit` rows of `[startTime, endTime]`; the next
    /// window ends at a full page's oldest time.
    NewestInWindow { limit: u32 },
}

/// What an API key may do, as far as the venue says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KeyPermissions {
    pub trade: bool,
    pub withdraw: bool,
}

/// A venue's REST API: signing, the endpoint per operation, response parsers, error
/// classification, documented rate limits, the client-order-id wire format and the
/// capabilities the generic code must respect.
pub trait VenueApi: Send + Sync {
    /// The protocol family this adapter speaks (every instance of it shares the adapter).
    fn kind(&self) -> VenueKind;

    // ------------------------------------------------------------ signing, errors

    /// The signed (if `c.signed`) request of one attempt.
    fn request(&self, ctx: &RequestCtx<'_>, c: &Call) -> HttpRequest;

    /// Classifies a non-2xx answer from its HTTP status and JSON body (`Null` if none).
    fn error_of(&self, http_status: u16, body: &Value) -> ErrorBody;

    /// The venue's code for "no order with the id asked for".
    fn is_order_not_found(&self, code: Option<&str>) -> bool;

    /// The venue's code for "your timestamp is outside my window": refused, not
    /// executed, so worth one re-signed attempt after re-reading the clock.
    fn is_timestamp_refused(&self, code: Option<&str>) -> bool;

    /// The venue's rate-limit reset time (venue ms since the epoch) from its own
    /// headers, when it sends one. `after_refusal`: a reset in whole seconds is
    /// rounded to the end of its second.
    fn rate_reset_ms(&self, _h: &HeaderMap, _after_refusal: bool) -> Option<i64> {
        None
    }

    /// The venue announced that the endpoint class is exhausted (the next request
    /// would be refused).
    fn rate_exhausted(&self, _h: &HeaderMap) -> bool {
        false
    }

    // ------------------------------------------------------------ limits, capabilities

    /// The documented limits of an endpoint class (every one applies).
    fn documented_limits(&self, ep: Endpoint) -> &'static [Limit];

    /// What a call counts against a limit in weight units ([`crate::ratelimit::Unit`]):
    /// the venue's documented weight of its endpoint; 1 where the venue counts requests.
    fn weight(&self, _c: &Call) -> u32 {
        1
    }

    /// Whether that limit is counted per symbol.
    fn limit_per_symbol(&self, ep: Endpoint) -> bool;

    /// How long after accepting an order its query may still miss it, when the
    /// configuration does not say.
    fn default_read_after_write(&self) -> Duration;

    /// Refuses an order sizing the venue does not offer (with why).
    fn check_sizing(&self, side: Side, kind: &OrderKind) -> Result<(), &'static str>;

    /// The client order id as sent to the venue.
    fn client_id_wire(&self, id: &ClientOrderId) -> String;

    fn trade_paging(&self) -> TradePaging;

    /// Pages of the finished-order history read before giving up on proving absence.
    fn history_pages(&self) -> u32;

    // ------------------------------------------------------------ endpoints

    /// The unsigned server-time call and the field of its answer that holds the time.
    fn server_time(&self) -> (Call, &'static str);
    fn balances(&self) -> Call;
    fn fees(&self, symbol: &str) -> Call;
    fn query(&self, symbol: &str, order: &OrderRef) -> Call;
    fn cancel(&self, symbol: &str, order: &OrderRef) -> Call;
    fn open_orders(&self, symbol: &str) -> Call;
    /// One page of our fills in `[since_ms, until_ms]` (either end open).
    fn trades_page(
        &self,
        symbol: &str,
        since_ms: Option<i64>,
        until_ms: Option<i64>,
        page: u32,
        limit: u32,
    ) -> Call;
    /// One page of the symbol's orders created in `[since_ms, until_ms]` that are
    /// finished (or in any state, where the venue has no finished-only list).
    fn order_history(
        &self,
        symbol: &str,
        since_ms: i64,
        until_ms: i64,
        limit: u32,
        page: u32,
    ) -> Call;
    fn place(&self, p: &PreparedOrder) -> Call;

    // ------------------------------------------------------------ parsers

    fn parse_balances(&self, v: &Value) -> Result<Vec<Balance>, String>;
    /// `(maker, taker)` fee rates.
    fn parse_fees(&self, v: &Value) -> Result<(Amount, Amount), String>;
    /// Whether the fee answer says fees are paid in the venue's token at a discount
    /// (`None`: it does not say).
    fn parse_fee_token(&self, _v: &Value) -> Option<bool> {
        None
    }
    /// An order as the query, cancel and list endpoints return it.
    fn parse_order(&self, venue: Venue, v: &Value) -> Result<OrderReport, String>;
    /// The placement answer.
    fn parse_ack(&self, venue: Venue, v: &Value, p: &PreparedOrder) -> Result<OrderReport, String>;
    fn parse_trade(&self, venue: Venue, v: &Value) -> Result<Fill, String>;

    /// The read-only call whose answer says what the key may do (MEXC `GET
    /// /api/v3/account`: `canTrade`, `canWithdraw`), if the venue has one (Gate does not:
    /// its keys' permissions show only when an order is refused).
    fn permissions(&self) -> Option<Call> {
        None
    }
    /// What that answer says.
    fn parse_permissions(&self, _v: &Value) -> Result<KeyPermissions, String> {
        Err("the venue reports no key permissions".into())
    }

    // ------------------------------------------------------------ sessions

    /// The venue's WebSocket trading API, if it has one (`order_path: ws`).
    fn ws_trading(&self) -> Option<&'static dyn WsTradeApi> {
        None
    }

    /// A new private-stream session (its state lives across reconnections).
    fn user_session(&self) -> Box<dyn UserSession>;

    /// The venue's wallet API (networks, deposit addresses, withdrawals, histories).
    fn wallet(&self) -> &'static dyn crate::wallet::WalletApi;
}

/// Why a private-stream connection ended.
pub enum End {
    Stopped,
    /// Reconnect; `new_credentials` when the stream's credentials (MEXC's listenKey)
    /// must be replaced.
    Reconnect {
        why: String,
        new_credentials: bool,
    },
}

/// What a private-stream connection runs with.
pub struct SessionCtx<'a> {
    pub client: &'a VenueClient,
    /// Markets reconciled over REST after the connection is up.
    pub symbols: &'a [String],
    /// Fills are reconciled from here (ms).
    pub since: i64,
    pub stop: &'a CancellationToken,
    pub stats: &'a std::sync::Arc<StreamStats>,
}

/// One venue's private stream: connect, authenticate, subscribe and feed the tracker
/// until the connection ends. The driver (`user_stream`) reconnects, backs off and
/// reports; it knows no venue.
pub trait UserSession: Send {
    /// One connection, start to end. Calls [`crate::user_stream::connected`] once
    /// subscribed.
    fn run<'a>(&'a mut self, ctx: &'a SessionCtx<'a>) -> BoxFuture<'a, End>;

    /// Gives up the stream's credentials, so the next run makes new ones (also called
    /// once when the stream stops).
    fn discard<'a>(&'a mut self, client: &'a VenueClient) -> BoxFuture<'a, ()>;
}

/// A venue's WebSocket trading API, as frames: the generic session
/// (`crate::ws_trade`) owns the connection, routes answers by request id and times
/// requests out.
pub trait WsTradeApi: Send + Sync {
    /// The application-level ping frame.
    fn ping_frame(&self, now_ms: i64) -> String;
    /// The login request: channel and parameters (`Null`: the request has none).
    fn login(&self) -> (&'static str, Value);
    /// The placement request.
    fn place(&self, p: &PreparedOrder) -> (&'static str, Value);
    /// The cancel request.
    fn cancel(&self, symbol: &str, order: &OrderRef) -> (&'static str, Value);
    /// A signed request frame.
    fn request_frame(
        &self,
        cfg: &VenueConfig,
        channel: &str,
        req_param: &str,
        req_id: &str,
        venue_now_ms: i64,
    ) -> String;
    /// The request id an answer belongs to, unless it is only an intermediate ack.
    fn answer_id<'v>(&self, v: &'v Value) -> Option<&'v str>;
    /// The result of a final answer, or the venue's classified error.
    fn result(&self, venue: Venue, op: &'static str, answer: Value) -> Result<Value, ExecError>;
}
