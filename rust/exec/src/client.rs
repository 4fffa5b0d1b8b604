//! `VenueClient`: one venue's signed REST client with the retry policy, rate limiter,
//! circuit breaker and order tracker wired in. Cheap to clone (one `Arc`); every clone
//! shares the pool, the limiter, the breaker and the tracker.
//!
//! Retry policy, by error class:
//! - rate limit: the limiter holds the endpoint class until the venue's Retry-After /
//!   reset time, then the request is retried (a 429 means it was not executed);
//! - authentication, invalid order, insufficient funds, not tradable: fail at once;
//! - network (the connection failed, nothing was written): retried with backoff;
//! - timeout / 5xx / broken answer: reads and cancels retry with backoff; an order
//!   placement is **never** resent blindly: its outcome is unknown until
//!   [`VenueClient::locate`] has asked every source that also covers finished orders
//!   (the tracker fed by the private stream, the order by client id, the finished-order
//!   history and the trade history around the send). Only absence from all of them,
//!   twice, spaced out (so an order still inside the venue has landed) and after the
//!   venue's read-after-write lag, allows placing it again, with the same client id.
//!   A lookup by client id alone proves nothing: Gate finds a finished order by its
//!   `text` only in its histories, and MEXC's query misses an order it just accepted.
//!
//! The venue itself (signing, endpoints, parsers, error codes, limits, paging) is its
//! adapter ([`VenueApi`], chosen once by [`crate::venues::adapter_for`]); nothing here
//! names a venue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arb_core::{ErrorClass, Venue};
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::time::Instant;

use crate::amount::Amount;
use crate::breaker::{Breaker, BreakerState};
use crate::config::{OrderPath, VenueConfig};
use crate::error::ExecError;
use crate::http::{build_client, header_i64, Clock, ConnStats};
use crate::lifecycle::{Balance, Fill, OrderReport, OrderState, OrderTracker};
use crate::order::{ClientOrderId, OrderRequest, PreparedOrder};
use crate::ratelimit::{Endpoint, RateLimiter};
use crate::rest_stats::{RestCounters, RestOutcomes};
use crate::venue_api::{
    Call, HttpRequest, KeyPermissions, RequestCtx, TradePaging, VenueApi, WsTradeApi,
};
use crate::ws_trade::WsTrader;

/// Code set on errors raised before anything was sent (breaker open, limiter wait too
/// long): such a placement certainly did not happen.
pub const NOT_SENT: &str = "NOT_SENT";

/// Maker and taker fee rates (fractions: 0.001 = 0.1%).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FeeRates {
    pub maker: Amount,
    pub taker: Amount,
    /// Whether fees are paid in the venue's token at a discount, where the fee answer
    /// says (Gate `gt_discount`); `None` where it does not.
    pub fee_token: Option<bool>,
}

/// An order named by the venue's id or by our client id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderRef {
    Venue(String),
    Client(ClientOrderId),
}

/// Whether a call may be retried after an unknown outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Cancel,
    Place,
}

pub(crate) struct Inner {
    pub cfg: VenueConfig,
    /// The venue's adapter (a `'static` value: no allocation, one vtable call a use).
    pub api: &'static dyn VenueApi,
    pub http: reqwest::Client,
    /// Order placements: connections the deciding task writes on itself
    /// ([`crate::h1`]), plain or TLS, opened by the hot thread or handed to it, and kept
    /// warm ([`VenueClient::warm_orders`], [`VenueClient::prefill_orders`]).
    pub orders: crate::h1::H1Pool,
    /// `scheme://host[:port]`: request targets are relative to it.
    origin: String,
    base_path: String,
    pub limiter: RateLimiter,
    pub rest: RestCounters,
    pub breaker: Breaker,
    pub clock: Clock,
    connects: Arc<AtomicU64>,
    requests: AtomicU64,
    pub tracker: Arc<OrderTracker>,
    pub ws_trader: tokio::sync::Mutex<Option<Arc<WsTrader>>>,
}

/// The client of one venue. See the module docs for the retry policy.
#[derive(Clone)]
pub struct VenueClient {
    pub(crate) inner: Arc<Inner>,
}

/// Where an order whose placement outcome was unknown stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Located {
    /// The venue has (or had) it; the tracker holds what the venue said about it.
    Found(Box<OrderState>),
    /// No source that covers finished orders has it, asked after the venue's
    /// read-after-write lag.
    Absent,
}

/// How far the history search reaches beyond the send and now: Gate's windows are in
/// whole seconds and the venue clock estimate is off by up to a round trip.
const HISTORY_MARGIN_MS: i64 = 5_000;

impl VenueClient {
    /// Builds the client (no network traffic).
    ///
    /// # Errors
    /// A malformed base URL or a TLS backend that cannot start.
    pub fn new(cfg: VenueConfig) -> Result<Self, ExecError> {
        let venue = cfg.venue;
        let bad = |m: String| ExecError::new(venue, "config", ErrorClass::Malformed, m);
        let url = url::Url::parse(&cfg.rest_url)
            .map_err(|e| bad(format!("rest_url {:?}: {e}", cfg.rest_url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad(format!(
                "rest_url {:?} must be http or https",
                cfg.rest_url
            )));
        }
        let (http, connects) = build_client(&cfg).map_err(|e| bad(format!("HTTP client: {e}")))?;
        let origin = url.origin().ascii_serialization();
        let base_path = url.path().trim_end_matches('/').to_string();
        let orders = crate::h1::H1Pool::for_url(
            &url,
            connects.clone(),
            Duration::from_millis(cfg.connect_timeout_ms),
            cfg.request_timeout(),
            Duration::from_millis(cfg.order_idle_ms),
            None,
        )
        .ok_or_else(|| bad(format!("rest_url {:?} has no host", cfg.rest_url)))?;
        Ok(VenueClient {
            inner: Arc::new(Inner {
                limiter: RateLimiter::new(venue, cfg.rate_limit).sharing_ip_of(&cfg.rest_url),
                rest: RestCounters::default(),
                breaker: Breaker::new(
                    cfg.breaker_threshold,
                    Duration::from_millis(cfg.breaker_cooldown_ms),
                ),
                clock: Clock::default(),
                connects,
                requests: AtomicU64::new(0),
                api: crate::venues::adapter_for(venue),
                tracker: Arc::new(OrderTracker::new(venue)),
                ws_trader: tokio::sync::Mutex::new(None),
                http,
                orders,
                origin,
                base_path,
                cfg,
            }),
        })
    }

    pub fn venue(&self) -> Venue {
        self.inner.cfg.venue
    }

    /// Opens (or keeps alive) `n` connections of the order pool with as many concurrent
    /// unsigned server-time calls (weight 1, public). Call it on the runtime that will
    /// place orders: the connections' tasks live where they were opened. Returns how many
    /// calls answered.
    pub async fn warm_orders(&self, n: usize) -> usize {
        let i = &*self.inner;
        let (call, _) = i.api.server_time();
        let one = || {
            let req = i.api.request(&self.ctx(), &call);
            async move { i.orders.send(&req).await.is_ok() }
        };
        futures_util::future::join_all((0..n).map(|_| one()))
            .await
            .into_iter()
            .filter(|ok| *ok)
            .count()
    }

    /// Dials (and TLS-handshakes) until `n` unused order connections are ready, on the
    /// calling runtime — the background one, so that replacing connections costs the hot
    /// thread nothing. Returns how many are ready.
    pub async fn prefill_orders(&self, n: usize) -> usize {
        self.inner.orders.prefill(n).await
    }

    fn ctx(&self) -> RequestCtx<'_> {
        let i = &*self.inner;
        RequestCtx {
            cfg: &i.cfg,
            base_path: &i.base_path,
            venue_now_ms: i.clock.venue_now_ms(),
        }
    }

    /// The request on reqwest (every call but placements).
    fn reqwest(&self, http: &reqwest::Client, r: HttpRequest) -> reqwest::RequestBuilder {
        let mut rb = http.request(r.method, format!("{}{}", self.inner.origin, r.target));
        for (k, v) in r.headers {
            rb = rb.header(k, v);
        }
        if let Some(b) = r.body {
            rb = rb.body(b);
        }
        rb
    }

    pub fn config(&self) -> &VenueConfig {
        &self.inner.cfg
    }

    /// The venue's adapter.
    pub(crate) fn api(&self) -> &'static dyn VenueApi {
        self.inner.api
    }

    /// The orders of this venue, as REST answers and private streams report them.
    pub fn tracker(&self) -> &Arc<OrderTracker> {
        &self.inner.tracker
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.inner.breaker.state()
    }

    /// What the venue's REST answers were, by class (counts since start).
    pub fn rest_outcomes(&self) -> RestOutcomes {
        self.inner.rest.snapshot()
    }

    pub fn limiter(&self) -> &RateLimiter {
        &self.inner.limiter
    }

    pub fn clock_offset_ms(&self) -> i64 {
        self.inner.clock.offset_ms()
    }

    /// The venue's clock as we estimate it (used for signed timestamps).
    pub fn venue_now_ms(&self) -> i64 {
        self.inner.clock.venue_now_ms()
    }

    /// REST requests sent and new TCP connections dialled so far.
    pub fn conn_stats(&self) -> ConnStats {
        ConnStats {
            requests: self.inner.requests.load(Ordering::Relaxed),
            new_connections: self.inner.connects.load(Ordering::Relaxed),
        }
    }

    fn err(&self, op: &'static str, class: ErrorClass, msg: impl Into<String>) -> ExecError {
        ExecError::new(self.venue(), op, class, msg)
    }

    fn reqwest_err(&self, op: &'static str, e: reqwest::Error) -> ExecError {
        // Never the URL: a MEXC URL carries the signature.
        let e = e.without_url();
        let class = if e.is_timeout() {
            ErrorClass::Timeout
        } else if e.is_connect() {
            ErrorClass::Network
        } else {
            // Written (at least partly) and then the connection broke.
            ErrorClass::UnknownOutcome
        };
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        self.err(op, class, msg)
    }

    /// Sends one signed attempt and classifies the answer.
    pub(crate) async fn send_once(&self, c: &Call) -> Result<Value, ExecError> {
        let i = &*self.inner;
        let req = i.api.request(&self.ctx(), c);
        i.requests.fetch_add(1, Ordering::Relaxed);
        let (status, headers, bytes) = if c.ep == Endpoint::Place {
            let a = i
                .orders
                .send(&req)
                .await
                .map_err(|e| self.h1_err(c.op, e))?;
            (a.status, a.headers, a.body)
        } else {
            let resp = self
                .reqwest(&i.http, req)
                .send()
                .await
                .map_err(|e| self.reqwest_err(c.op, e))?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let bytes = resp.bytes().await.map_err(|e| self.reqwest_err(c.op, e))?;
            (status, headers, bytes)
        };
        self.note_rate_headers(c.ep, &headers);
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes).map_err(|e| {
                self.err(
                    c.op,
                    ErrorClass::Malformed,
                    format!("HTTP {status} body is not JSON: {e}"),
                )
                .with_status(status)
            });
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let crate::venue_api::ErrorBody {
            class,
            code,
            message: msg,
        } = i.api.error_of(status, &body);
        let msg = msg.unwrap_or_else(|| {
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned()
        });
        let mut e = self.err(c.op, class, msg).with_status(status);
        if let Some(code) = code {
            e = e.with_code(code);
        }
        if class == ErrorClass::RateLimit {
            let wait = self
                .retry_after(&headers, true)
                .unwrap_or(Duration::from_secs(1));
            i.limiter.block_until(c.ep, Instant::now() + wait);
            e = e.with_retry_after(Some(wait));
        }
        Err(e)
    }

    /// The class of an order connection's failure: as reqwest's (nothing written is a
    /// network error, safe to retry; written and unanswered is an unknown outcome).
    fn h1_err(&self, op: &'static str, e: crate::h1::SendError) -> ExecError {
        match e {
            crate::h1::SendError::NotSent(m) => self.err(op, ErrorClass::Network, m),
            crate::h1::SendError::Unknown(m) => self.err(op, ErrorClass::UnknownOutcome, m),
            crate::h1::SendError::Timeout => self.err(op, ErrorClass::Timeout, "request timed out"),
        }
    }

    /// How long a rate-limit answer asks us to wait: `Retry-After` (seconds), else
    /// the reset time of the venue's own headers (its adapter reads them; after a
    /// refusal, `after_refusal`, one in whole seconds runs to the end of its second).
    fn retry_after(&self, h: &HeaderMap, after_refusal: bool) -> Option<Duration> {
        if let Some(s) = header_i64(h, "retry-after") {
            return Some(Duration::from_secs(s.max(0) as u64));
        }
        let reset_ms = self.inner.api.rate_reset_ms(h, after_refusal)?;
        Some(Duration::from_millis(
            (reset_ms - self.inner.clock.venue_now_ms()).max(0) as u64,
        ))
    }

    /// A venue that announces exhaustion before it refuses (Gate's `Requests-Remain: 0`)
    /// blocks the endpoint class until the reset time, so the next request is not a 429.
    fn note_rate_headers(&self, ep: Endpoint, h: &HeaderMap) {
        if self.inner.api.rate_exhausted(h) {
            if let Some(wait) = self.retry_after(h, false) {
                self.inner.limiter.block_until(ep, Instant::now() + wait);
            }
        }
    }

    /// Runs a call under the breaker, the limiter and the retry policy.
    pub(crate) async fn execute(&self, c: &Call, kind: Kind) -> Result<Value, ExecError> {
        let i = &*self.inner;
        let max_rl_wait = Duration::from_millis(i.cfg.max_rate_limit_wait_ms);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Err(left) = i.breaker.admit() {
                return Err(self
                    .err(
                        c.op,
                        ErrorClass::Venue,
                        format!("circuit breaker open ({} ms left)", left.as_millis()),
                    )
                    .with_code(NOT_SENT)
                    .with_retry_after(Some(left)));
            }
            let at = i.limiter.reserve(c.ep, &c.symbol, i.api.weight(c));
            let now = Instant::now();
            if at > now {
                if at - now > max_rl_wait {
                    i.breaker.record(Ok(()));
                    return Err(self
                        .err(
                            c.op,
                            ErrorClass::RateLimit,
                            "rate limit wait longer than allowed",
                        )
                        .with_code(NOT_SENT)
                        .with_retry_after(Some(at - now)));
                }
                tokio::time::sleep_until(at).await;
            }
            let r = self.send_once(c).await;
            i.breaker
                .record(r.as_ref().map(|_| ()).map_err(|e| e.class));
            let e = match r {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            i.rest.on_error(&e);
            let backoff =
                Duration::from_millis(i.cfg.backoff_ms.saturating_mul(1 << (attempt - 1).min(6)));
            let retry = match e.class {
                // Not executed: the limiter now holds the class until the venue's time.
                ErrorClass::RateLimit => (attempt <= i.cfg.read_attempts
                    && e.retry_after.unwrap_or_default() <= max_rl_wait)
                    .then_some(Duration::ZERO),
                // Nothing was written: safe for every kind.
                ErrorClass::Network => (attempt < i.cfg.read_attempts).then_some(backoff),
                ErrorClass::Timeout
                | ErrorClass::Venue
                | ErrorClass::UnknownOutcome
                | ErrorClass::Malformed
                    if kind != Kind::Place =>
                {
                    (attempt < i.cfg.read_attempts).then_some(backoff)
                }
                // Our timestamp was outside the venue's window (MEXC 700003, Gate
                // REQUEST_EXPIRED): the request was refused, not executed, so after
                // re-reading the venue's clock it is sent once more, newly signed.
                ErrorClass::Authentication
                    if attempt == 1
                        && c.signed
                        && i.api.is_timestamp_refused(e.code.as_deref()) =>
                {
                    match Box::pin(self.server_time()).await {
                        Ok(_) => Some(Duration::ZERO),
                        Err(_) => None,
                    }
                }
                _ => None,
            };
            match retry {
                Some(d) => {
                    i.rest.on_retry();
                    tokio::time::sleep(d).await
                }
                None => return Err(e),
            }
        }
    }

    /// Re-reads the venue's clock every `every` on the current runtime, so signed
    /// timestamps follow a drifting local clock. Stops when the handle is aborted.
    pub fn start_clock_sync(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let c = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let _ = c.server_time().await;
            }
        })
    }

    /// Shifts the clock estimate by `delta_ms` (tests simulate a drifting local clock).
    #[doc(hidden)]
    pub fn skew_clock_for_test(&self, delta_ms: i64) {
        let now = arb_core::time::now_ms();
        let venue = self.inner.clock.venue_now_ms();
        self.inner.clock.observe(venue + delta_ms, now, now);
    }

    fn malformed(&self, op: &'static str) -> impl Fn(String) -> ExecError + '_ {
        move |m| self.err(op, ErrorClass::Malformed, m)
    }

    // ------------------------------------------------------------------ reads

    /// The venue's clock (ms); also updates the offset applied to signed timestamps.
    pub async fn server_time(&self) -> Result<i64, ExecError> {
        let (c, field) = self.inner.api.server_time();
        let sent = arb_core::time::now_ms();
        let v = self.execute(&c, Kind::Read).await?;
        let received = arb_core::time::now_ms();
        let t = crate::json::int(&v, field).map_err(self.malformed("server_time"))?;
        self.inner.clock.observe(t, sent, received);
        Ok(t)
    }

    /// Every balance of the account.
    pub async fn balances(&self) -> Result<Vec<Balance>, ExecError> {
        let v = self.execute(&self.inner.api.balances(), Kind::Read).await?;
        self.inner
            .api
            .parse_balances(&v)
            .map_err(self.malformed("balances"))
    }

    /// What the key may do, where the venue says so read-only (`None` where it does not).
    pub async fn permissions(&self) -> Result<Option<KeyPermissions>, ExecError> {
        let Some(c) = self.inner.api.permissions() else {
            return Ok(None);
        };
        let v = self.execute(&c, Kind::Read).await?;
        let p = self.inner.api.parse_permissions(&v);
        p.map(Some).map_err(self.malformed("permissions"))
    }

    /// Maker/taker fee rates for a symbol (`tradeFee` / `wallet/fee`).
    pub async fn fees(&self, symbol: &str) -> Result<FeeRates, ExecError> {
        let v = self
            .execute(&self.inner.api.fees(symbol), Kind::Read)
            .await?;
        let (maker, taker) = self
            .inner
            .api
            .parse_fees(&v)
            .map_err(self.malformed("fees"))?;
        let fee_token = self.inner.api.parse_fee_token(&v);
        Ok(FeeRates {
            maker,
            taker,
            fee_token,
        })
    }

    fn parse_order(&self, op: &'static str, v: &Value) -> Result<OrderReport, ExecError> {
        self.inner
            .api
            .parse_order(self.venue(), v)
            .map_err(self.malformed(op))
    }

    /// One order by venue id or client id; the answer also updates the tracker.
    ///
    /// # Errors
    /// "Not found" only once it held over the venue's read-after-write lag
    /// ([`crate::config::VenueConfig::read_after_write`]); else the venue's error.
    pub async fn query(&self, symbol: &str, order: &OrderRef) -> Result<OrderReport, ExecError> {
        let c = self.inner.api.query(symbol, order);
        // A venue whose read lags its write (MEXC answers -2013 "Order does not exist."
        // for a moment after accepting an order) proves absence only when "not found"
        // holds over that lag: asked again until then. Gate's lag is zero.
        let lag = self.inner.cfg.read_after_write();
        let deadline = tokio::time::Instant::now() + lag;
        let v = loop {
            match self.execute(&c, Kind::Read).await {
                Err(e) if e.is_order_not_found() && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100).min(lag)).await;
                }
                r => break r?,
            }
        };
        let r = self.parse_order("query", &v)?;
        self.inner.tracker.on_report(&r);
        Ok(r)
    }

    /// Open orders of a symbol.
    pub async fn open_orders(&self, symbol: &str) -> Result<Vec<OrderReport>, ExecError> {
        let c = self.inner.api.open_orders(symbol);
        let v = self.execute(&c, Kind::Read).await?;
        let rows = crate::json::array(&v, "open orders").map_err(self.malformed("open_orders"))?;
        let out = rows
            .iter()
            .map(|o| self.parse_order("open_orders", o))
            .collect::<Result<Vec<_>, _>>()?;
        for r in &out {
            self.inner.tracker.on_report(r);
        }
        Ok(out)
    }

    /// Our fills on a symbol (newest `limit`, optionally since `since_ms`); recorded in
    /// the tracker, which drops any it has already seen.
    pub async fn my_trades(
        &self,
        symbol: &str,
        since_ms: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Fill>, ExecError> {
        self.trades_page(symbol, since_ms, None, 1, limit).await
    }

    /// One page of our fills, as the venue pages them ([`TradePaging`]).
    async fn trades_page(
        &self,
        symbol: &str,
        since_ms: Option<i64>,
        until_ms: Option<i64>,
        page: u32,
        limit: u32,
    ) -> Result<Vec<Fill>, ExecError> {
        let c = self
            .inner
            .api
            .trades_page(symbol, since_ms, until_ms, page, limit);
        let v = self.execute(&c, Kind::Read).await?;
        let rows = crate::json::array(&v, "trades").map_err(self.malformed("my_trades"))?;
        let fills = rows
            .iter()
            .map(|t| self.inner.api.parse_trade(self.venue(), t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.malformed("my_trades"))?;
        for f in &fills {
            // A fill whose sums with its order's do not fit is bad venue data like an
            // unparsable row: the answer is malformed, with the fill named.
            self.inner
                .tracker
                .on_fill(f)
                .map_err(|e| self.malformed("my_trades")(e.to_string()))?;
        }
        Ok(fills)
    }

    /// One page of the symbol's orders created in `[since_ms, until_ms]` (venue clock)
    /// that are finished (or in any state, where the venue has no finished-only list).
    /// Not recorded in the tracker: the caller picks the one it looks for.
    async fn order_history(
        &self,
        symbol: &str,
        since_ms: i64,
        until_ms: i64,
        limit: u32,
        page: u32,
    ) -> Result<Vec<OrderReport>, ExecError> {
        let c = self
            .inner
            .api
            .order_history(symbol, since_ms, until_ms, limit, page);
        let v = self.execute(&c, Kind::Read).await?;
        let rows = crate::json::array(&v, "orders").map_err(self.malformed("order_history"))?;
        rows.iter()
            .map(|o| self.parse_order("order_history", o))
            .collect()
    }

    /// Every row of a paged history (`fetch(page)` with `limit` rows a page), or an
    /// [`ErrorClass::UnknownOutcome`] error when the window holds more than
    /// the venue's [`VenueApi::history_pages`] (MEXC has no pages: one full page is
    /// already too many).
    async fn all_pages<T, F, Fut>(&self, limit: u32, fetch: F) -> Result<Vec<T>, ExecError>
    where
        F: Fn(u32) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<T>, ExecError>>,
    {
        let pages = self.inner.api.history_pages();
        let mut out = Vec::new();
        for page in 1..=pages {
            let rows = fetch(page).await?;
            let full = rows.len() as u32 >= limit;
            out.extend(rows);
            if !full {
                return Ok(out);
            }
        }
        Err(self.err(
            "locate",
            ErrorClass::UnknownOutcome,
            "history window too busy to read completely",
        ))
    }

    // ------------------------------------------------------------------ orders

    /// Places an order: quantized and checked locally, sent once, and on an unknown
    /// outcome resolved by client id (see the module docs). Returns the tracked state.
    ///
    /// # Errors
    /// The venue's refusal (classified), or [`ErrorClass::UnknownOutcome`] when the
    /// venue could not be asked; the order then stays `unknown` in the tracker.
    pub async fn place(&self, req: &OrderRequest) -> Result<OrderState, ExecError> {
        let p = req.prepare()?;
        self.place_prepared(&p).await
    }

    fn is_unknown_outcome(e: &ExecError) -> bool {
        if e.code.as_deref() == Some(NOT_SENT) {
            return false;
        }
        match e.class {
            ErrorClass::Timeout | ErrorClass::UnknownOutcome => true,
            ErrorClass::Venue => e.http_status.is_none_or(|s| s >= 500),
            // A 2xx we could not read: the venue accepted something.
            ErrorClass::Malformed => e.http_status.is_some_and(|s| (200..300).contains(&s)),
            _ => false,
        }
    }

    /// [`Self::place`] for an order already prepared (the engine prepares off the
    /// critical path).
    pub async fn place_prepared(&self, p: &PreparedOrder) -> Result<OrderState, ExecError> {
        let tracker = &self.inner.tracker;
        let mut attempts = 0;
        loop {
            attempts += 1;
            tracker.on_submit(&p.client_id, &p.symbol, p.side, p.qty);
            let r = self.send_place(p).await;
            match r {
                Ok(report) => {
                    tracker.on_report(&report);
                    return Ok(tracker.get(&p.client_id).expect("tracked on submit"));
                }
                Err(e) if Self::is_unknown_outcome(&e) => {
                    tracker.on_unknown(&p.client_id, &e.to_string());
                    match self.resolve_unknown(&p.symbol, &p.client_id).await {
                        Ok(Located::Found(st)) => return Ok(*st),
                        Ok(Located::Absent) if attempts < self.inner.cfg.max_place_attempts => {
                            continue
                        }
                        Ok(Located::Absent) => {
                            tracker.on_rejected(
                                &p.client_id,
                                "proven absent after unknown outcomes; attempts exhausted",
                            );
                            return Err(e);
                        }
                        Err(q) => {
                            return Err(self.err(
                                "place",
                                ErrorClass::UnknownOutcome,
                                format!("{e}; resolving client id {} failed: {q}", p.client_id),
                            ));
                        }
                    }
                }
                Err(e) => {
                    tracker.on_rejected(&p.client_id, &e.to_string());
                    return Err(e);
                }
            }
        }
    }

    async fn send_place(&self, p: &PreparedOrder) -> Result<OrderReport, ExecError> {
        let api = self.inner.api;
        let v = match self.ws_trading() {
            Some(ws) => {
                let t = self.ws_trader(ws).await?;
                t.place(self, p).await?
            }
            None => self.execute(&api.place(p), Kind::Place).await?,
        };
        api.parse_ack(self.venue(), &v, p)
            .map_err(|m| self.err("place", ErrorClass::Malformed, m).with_status(200))
    }

    /// The venue's WebSocket trading API when the configuration sends orders that way
    /// and the venue has one.
    fn ws_trading(&self) -> Option<&'static dyn WsTradeApi> {
        if self.inner.cfg.order_path == OrderPath::Ws {
            self.inner.api.ws_trading()
        } else {
            None
        }
    }

    /// The WebSocket trading session, opened on first use.
    pub(crate) async fn ws_trader(
        &self,
        ws: &'static dyn WsTradeApi,
    ) -> Result<Arc<WsTrader>, ExecError> {
        let mut slot = self.inner.ws_trader.lock().await;
        if let Some(t) = slot.as_ref().filter(|t| t.is_alive()) {
            return Ok(t.clone());
        }
        let t = Arc::new(WsTrader::connect(self, ws).await?);
        *slot = Some(t.clone());
        Ok(t)
    }

    /// Resolves an order whose placement outcome is unknown: [`Self::locate`] after the
    /// settle time, and once more after it again if it was absent (an order still in
    /// flight inside the venue lands meanwhile). `Absent` is proof; an error means the
    /// order stays unknown.
    ///
    /// # Errors
    /// A source could not be read (the order's fate is still unknown).
    pub async fn resolve_unknown(
        &self,
        symbol: &str,
        client_id: &ClientOrderId,
    ) -> Result<Located, ExecError> {
        let r = self.resolve_unknown_once(symbol, client_id).await;
        self.inner.rest.on_resolution(&r);
        r
    }

    async fn resolve_unknown_once(
        &self,
        symbol: &str,
        client_id: &ClientOrderId,
    ) -> Result<Located, ExecError> {
        let settle = Duration::from_millis(self.inner.cfg.unknown_settle_ms);
        for _ in 0..2 {
            tokio::time::sleep(settle).await;
            if let Located::Found(st) = self.locate(symbol, client_id, None).await? {
                return Ok(Located::Found(st));
            }
        }
        Ok(Located::Absent)
    }

    /// Looks for an order by client id in every source that also covers finished
    /// orders: the tracker (private-stream events and earlier answers), the venue's
    /// order by client id (Gate: open orders only), its order history and its trade
    /// history in a window around the send. A match is recorded in the tracker with its
    /// fills. `Absent` only once the venue's read-after-write lag has passed since the
    /// outcome became unknown, or since `sent_hint_ms` for an order the tracker does not
    /// know (waited out here); the hint also bounds the history window (at most a day).
    ///
    /// # Errors
    /// A source could not be read, or a history window was too busy to read whole.
    pub async fn locate(
        &self,
        symbol: &str,
        client_id: &ClientOrderId,
        sent_hint_ms: Option<i64>,
    ) -> Result<Located, ExecError> {
        let tracker = &self.inner.tracker;
        let st = tracker.get(client_id);
        let now = arb_core::time::now_ms();
        if let Some(u) = st
            .as_ref()
            .and_then(|s| s.unknown_since_ms)
            .or(sent_hint_ms)
        {
            let lag = self.inner.cfg.read_after_write().as_millis() as i64;
            if u + lag > now {
                tokio::time::sleep(Duration::from_millis((u + lag - now) as u64)).await;
            }
        }
        let found = || {
            tracker
                .get(client_id)
                .filter(|s| s.order_id.is_some())
                .map(|s| Located::Found(Box::new(s)))
        };
        // Named by the stream or an earlier answer: its venue id always finds it.
        if let Some(id) = st.as_ref().and_then(|s| s.order_id.clone()) {
            self.query(symbol, &OrderRef::Venue(id)).await?;
            return Ok(found().unwrap_or(Located::Absent));
        }
        match self
            .query(symbol, &OrderRef::Client(client_id.clone()))
            .await
        {
            Ok(_) => return Ok(found().unwrap_or(Located::Absent)),
            Err(e) if e.is_order_not_found() => {}
            Err(e) => return Err(e),
        }
        // The histories, from just before the send to now, on the venue's clock.
        let offset = self.inner.clock.offset_ms();
        // When it was sent: as tracked, else as the caller knows (a journal after a
        // restart), at most a day back; else the last day.
        let day_ago = now - 24 * 3_600_000;
        let sent = st
            .and_then(|s| s.sent_ms)
            .or(sent_hint_ms.map(|t| t.max(day_ago)))
            .unwrap_or(day_ago);
        let (from, to) = (
            sent + offset - HISTORY_MARGIN_MS,
            self.venue_now_ms() + HISTORY_MARGIN_MS,
        );
        let limit = 1000;
        let orders = self
            .all_pages(limit, |page| {
                self.order_history(symbol, from, to, limit, page)
            })
            .await?;
        let mine = orders
            .into_iter()
            .find(|r| r.client_id.as_ref() == Some(client_id));
        let fills = self.fills_between(symbol, Some(from), Some(to)).await?;
        let order_id = mine.as_ref().map(|r| r.order_id.clone()).or_else(|| {
            fills
                .iter()
                .find(|f| f.client_id.as_ref() == Some(client_id))
                .map(|f| f.order_id.clone())
        });
        match (&mine, &order_id) {
            (Some(r), _) => tracker.on_report(r),
            // Only its trades show it (a history that lags): its venue id finds it.
            (None, Some(id)) => {
                self.query(symbol, &OrderRef::Venue(id.clone())).await?;
            }
            (None, None) => {}
        }
        // Its fills are in the tracker already: the pager records every fill it reads
        // (one named by venue id only is folded in once the report above names both).
        Ok(found().unwrap_or(Located::Absent))
    }

    /// Cancels an order. An order that is already final answers "not found / closed":
    /// then its final state is queried and returned instead of an error.
    pub async fn cancel(&self, symbol: &str, order: &OrderRef) -> Result<OrderReport, ExecError> {
        if let Some(ws) = self.ws_trading() {
            let t = self.ws_trader(ws).await?;
            let r = t.cancel(self, symbol, order).await;
            return self.after_cancel(symbol, order, r).await;
        }
        let r = self
            .execute(&self.inner.api.cancel(symbol, order), Kind::Cancel)
            .await;
        self.after_cancel(symbol, order, r).await
    }

    async fn after_cancel(
        &self,
        symbol: &str,
        order: &OrderRef,
        r: Result<Value, ExecError>,
    ) -> Result<OrderReport, ExecError> {
        match r {
            Ok(v) => {
                let rep = self.parse_order("cancel", &v)?;
                self.inner.tracker.on_report(&rep);
                Ok(rep)
            }
            Err(e) if e.class == ErrorClass::InvalidOrder => {
                match self.query(symbol, order).await {
                    Ok(rep) if rep.status.is_final() => Ok(rep),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Every fill of `symbol` since `since_ms` (and up to `until_ms` when given), however
    /// many, oldest first (trade ids
    /// de-duplicated). Each venue is paged the way it orders its rows
    /// ([`VenueApi::trade_paging`]):
    ///
    /// - numbered pages (Gate: newest first, at most 1000 rows): pages 1, 2, ... until
    ///   a short one.
    /// - no page numbers (MEXC): the newest 100 rows of
    ///   `[startTime, endTime]`: after a full page the next window ends at that page's
    ///   oldest time (inclusive, so rows sharing that millisecond are not cut off), until
    ///   a short page. A full page all in one millisecond cannot be walked past: that is
    ///   an error, never a silent loss. Without `since_ms`, MEXC is asked once (its
    ///   newest page).
    ///
    /// # Errors
    /// A page the venue did not answer (nothing is returned then: a partial list would
    /// look complete).
    pub async fn fills_between(
        &self,
        symbol: &str,
        since_ms: Option<i64>,
        until_ms: Option<i64>,
    ) -> Result<Vec<Fill>, ExecError> {
        let mut out: Vec<Fill> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut add = |rows: Vec<Fill>, out: &mut Vec<Fill>| {
            for f in rows {
                if seen.insert(f.trade_id.clone()) {
                    out.push(f);
                }
            }
        };
        match self.inner.api.trade_paging() {
            TradePaging::Numbered { limit } => {
                for page in 1.. {
                    let rows = self
                        .trades_page(symbol, since_ms, until_ms, page, limit)
                        .await?;
                    let full = rows.len() as u32 >= limit;
                    add(rows, &mut out);
                    if !full {
                        break;
                    }
                }
            }
            TradePaging::NewestInWindow { limit } => {
                let mut until = until_ms;
                loop {
                    let rows = self.trades_page(symbol, since_ms, until, 1, limit).await?;
                    let full = rows.len() as u32 >= limit;
                    let oldest = rows.iter().map(|f| f.time_ms).min();
                    add(rows, &mut out);
                    match (full, since_ms, oldest) {
                        (true, Some(_), Some(o)) if until != Some(o) => until = Some(o),
                        (true, Some(_), Some(o)) => {
                            return Err(ExecError::new(
                                self.venue(),
                                "my_trades",
                                ErrorClass::Venue,
                                format!(
                                    "my_trades {symbol}: more than {limit} fills at {o} ms; \
                                     the trade list cannot be paged past them"
                                ),
                            ))
                        }
                        _ => break,
                    }
                }
            }
        }
        out.sort_by(|a, b| (a.time_ms, &a.trade_id).cmp(&(b.time_ms, &b.trade_id)));
        Ok(out)
    }

    /// After a stream reconnect: re-query every live order and fetch recent fills of
    /// `symbols`, so an event missed while disconnected is still recorded (the tracker
    /// de-duplicates what it already had). Returns how many fills were new.
    pub async fn reconcile(
        &self,
        symbols: &[String],
        since_ms: Option<i64>,
    ) -> Result<usize, ExecError> {
        let tracker = &self.inner.tracker;
        for o in tracker.live() {
            let r = match (&o.order_id, &o.client_id) {
                (Some(id), _) => OrderRef::Venue(id.clone()),
                (None, Some(c)) => OrderRef::Client(c.clone()),
                _ => continue,
            };
            if o.symbol.is_empty() {
                continue;
            }
            match self.query(&o.symbol, &r).await {
                Ok(_) => {}
                // An acknowledged order exists: MEXC's query missed it while its read
                // lags the write, so it is asked again once the lag has passed. One
                // never acknowledged is absent only if no history has it either.
                Err(e) if e.is_order_not_found() => match &r {
                    OrderRef::Venue(_) => {
                        tokio::time::sleep(self.inner.cfg.read_after_write()).await;
                        match self.query(&o.symbol, &r).await {
                            Err(e) if e.is_order_not_found() => {}
                            x => {
                                x?;
                            }
                        }
                    }
                    OrderRef::Client(c) if o.status == crate::lifecycle::OrderStatus::Unknown => {
                        if self.locate(&o.symbol, c, None).await? == Located::Absent {
                            tracker.on_rejected(c, "not found at the venue during reconciliation");
                        }
                    }
                    OrderRef::Client(_) => {}
                },
                Err(e) => return Err(e),
            }
        }
        let before = tracker.all().iter().map(|o| o.fills.len()).sum::<usize>();
        for s in symbols {
            self.fills_between(s, since_ms, None).await?;
        }
        let after = tracker.all().iter().map(|o| o.fills.len()).sum::<usize>();
        Ok(after - before)
    }
}
