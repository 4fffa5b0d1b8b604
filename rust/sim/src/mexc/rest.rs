//! MEXC spot v3 REST: public market data, signed trading and account endpoints, the
//! listenKey lifecycle, HMAC-SHA256 verification over `query + body`, recvWindow checks,
//! `{code, msg}` errors and the documented weight limits.

// Handlers return a ready HTTP response as their error: it is built once per refused
// request, never on a hot path, so its size does not matter.
#![allow(clippy::result_large_err)]

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::sign::mexc_sign;
use super::weights;
use crate::sign::signatures_equal;
use arb_core::fixed::{format_scaled, parse_scaled, FixedError};
use axum::body::Body;
use axum::http::{Method, Response, StatusCode};
use serde_json::{json, Value};

use super::{side_name, status_name, type_name};
use crate::faults::{FaultKind, Hang, Hook, OrderError};
use crate::http::{
    get, json_response, parse_form, set_retry_after, Params, RawRequest, Refusal, RestApi,
};
use crate::matching::{NewOrder, Order, OrderKind, Reject, Side, Size, Tif};
use crate::spec::{Restriction, SymbolSpec, BAL_SCALE};
use crate::state::VenueState;

type Resp = Response<Body>;

pub(super) fn err(status: StatusCode, code: i64, msg: impl Into<String>) -> Resp {
    json_response(status, &json!({"code": code, "msg": msg.into()}))
}

pub(super) fn bad(code: i64, msg: impl Into<String>) -> Resp {
    err(StatusCode::BAD_REQUEST, code, msg)
}

pub(super) fn ok(v: Value) -> Resp {
    json_response(StatusCode::OK, &v)
}

pub(super) fn missing(name: &str) -> Resp {
    bad(
        400,
        format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
    )
}

/// A signed request's identity.
struct Auth {
    account: u32,
}

/// MEXC's REST API behind the shared prologue ([`crate::http::handle`]).
pub struct Api;

impl RestApi for Api {
    fn refusal(why: Refusal) -> Resp {
        match why {
            Refusal::UnreadableBody => bad(400, "request body too large or unreadable"),
            Refusal::Halted => err(
                StatusCode::SERVICE_UNAVAILABLE,
                503,
                "service not available, please try again",
            ),
            Refusal::ShuttingDown => err(StatusCode::SERVICE_UNAVAILABLE, 503, "shutting down"),
            Refusal::Status(status) => {
                let s = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let msg = if status == 503 {
                    "service not available, please try again"
                } else {
                    "Internal error"
                };
                err(s, status as i64, msg)
            }
            Refusal::RateLimited { retry_after_secs } => {
                let mut r = err(StatusCode::TOO_MANY_REQUESTS, 429, "Too Many Requests");
                set_retry_after(&mut r, retry_after_secs);
                r
            }
        }
    }

    fn route(vs: &VenueState, req: &RawRequest) -> Resp {
        let api_key = req
            .headers
            .get("x-mexc-apikey")
            .and_then(|v| v.to_str().ok());
        let body = String::from_utf8_lossy(&req.body);
        route(vs, &req.method, &req.path, &req.query, &body, api_key)
    }
}

fn order_error(spec: &SymbolSpec, e: OrderError) -> Resp {
    match e {
        OrderError::InsufficientBalance => bad(10101, "Insufficient balance"),
        OrderError::BelowMinimum => bad(
            30002,
            format!(
                "Minimum transaction volume cannot be less than：{}{}",
                spec.fmt_notional(spec.min_notional),
                spec.quote
            ),
        ),
        OrderError::SymbolNotTradable => bad(10007, "symbol not support api"),
        OrderError::MarketOrderDisabled => bad(30019, "api market order is disabled"),
        OrderError::MarketOrdersNotListed => bad(30051, "api market order is disabled"),
        OrderError::SideNotOpen => bad(30016, "trading disabled"),
    }
}

fn route(
    vs: &VenueState,
    method: &Method,
    path: &str,
    raw_query: &str,
    body: &str,
    api_key: Option<&str>,
) -> Resp {
    // Parameters from the query and the body (form or JSON); the query wins.
    let mut params = parse_form(raw_query);
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(trimmed) {
            for (k, v) in m {
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                params.push((k, v));
            }
        }
    } else if !trimmed.is_empty() {
        params.extend(parse_form(trimmed));
    }

    if vs.cfg.rate_limits {
        if let Err(r) = charge_weight(vs, method.as_str(), path, api_key, &params) {
            return r;
        }
    }

    let m = method.as_str();
    match (m, path) {
        ("GET", "/api/v3/ping") => return ok(json!({})),
        ("GET", "/api/v3/time") => return ok(json!({"serverTime": arb_core::time::now_ms()})),
        ("GET", "/api/v3/exchangeInfo") => return exchange_info(vs, &params),
        ("GET", "/api/v3/depth") => return depth(vs, &params),
        ("GET", "/api/v3/ticker/bookTicker") => return book_ticker(vs, &params),
        ("GET", "/api/v3/ticker/price") => return ticker_price(vs, &params),
        ("GET", "/api/v3/ticker/24hr") => return ticker_24h(vs, &params),
        ("GET", "/api/v3/defaultSymbols") => {
            let syms: Vec<&str> = vs.specs.iter().map(|s| s.venue_symbol.as_str()).collect();
            return ok(json!({"code": 0, "data": syms, "msg": null}));
        }
        // Futures metadata: ccxt asks for it during load_markets unless swap is off. The
        // simulator lists no contracts.
        ("GET", "/api/v1/contract/detail") => {
            return ok(json!({"success": true, "code": 0, "data": []}))
        }
        _ => {}
    }
    if !weights::is_signed(m, path) {
        return err(StatusCode::NOT_FOUND, 404, format!("Not Found: {m} {path}"));
    }
    let auth = match authenticate(vs, raw_query, body, api_key, &params) {
        Ok(a) => a,
        Err(r) => return r,
    };
    match (m, path) {
        ("GET", "/api/v3/account") => account(vs, &auth),
        ("POST", "/api/v3/order") => place(vs, &auth, &params, false),
        ("POST", "/api/v3/order/test") => place(vs, &auth, &params, true),
        ("DELETE", "/api/v3/order") => cancel(vs, &auth, &params),
        ("GET", "/api/v3/order") => query_order(vs, &auth, &params),
        ("GET", "/api/v3/openOrders") => open_orders(vs, &auth, &params),
        ("DELETE", "/api/v3/openOrders") => cancel_open(vs, &auth, &params),
        ("GET", "/api/v3/allOrders") => all_orders(vs, &auth, &params),
        ("GET", "/api/v3/myTrades") => my_trades(vs, &auth, &params),
        ("GET", "/api/v3/tradeFee") => trade_fee(vs, &params),
        (_, "/api/v3/userDataStream") => user_data_stream(vs, &auth, m, &params),
        _ => super::capital::route(vs, auth.account, m, path, &params)
            .unwrap_or_else(|| err(StatusCode::NOT_FOUND, 404, "Not Found")),
    }
}

/// Charges the request's documented weight (see [`weights`]) to its endpoint's budget
/// per IP (every loopback client is one IP) and per account (the API key), and
/// refuses it with 429 and `Retry-After` when it does not fit. `GET /api/v3/account`
/// is also limited to 2 requests a second per account.
fn charge_weight(
    vs: &VenueState,
    method: &str,
    path: &str,
    api_key: Option<&str>,
    params: &Params,
) -> Result<(), Resp> {
    let cost = weights::cost_of(method, path, get(params, "symbol").is_none());
    let budget = vs.cfg.mexc_requests_per_10s;
    let mut buckets: Vec<(String, u32, u32, u64)> = Vec::with_capacity(3);
    if cost.budget.per_ip() {
        buckets.push((
            format!("ip|{method}|{path}"),
            cost.weight,
            budget,
            weights::WINDOW_MS,
        ));
    }
    if cost.budget.per_account() {
        let uid = api_key.unwrap_or("");
        buckets.push((
            format!("uid:{uid}|{method}|{path}"),
            cost.weight,
            budget,
            weights::WINDOW_MS,
        ));
        if path == "/api/v3/account" {
            buckets.push((format!("uid:{uid}|account per second"), 1, 2, 1_000));
        }
    }
    for (key, weight, limit, window_ms) in buckets {
        let v = vs.limiter.charge(&key, weight, limit, window_ms);
        if !v.allowed {
            vs.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            let mut r = err(StatusCode::TOO_MANY_REQUESTS, 429, "Too Many Requests");
            set_retry_after(&mut r, v.reset_in_ms.div_ceil(1000).max(1));
            return Err(r);
        }
    }
    Ok(())
}

/// Verifies key, signature and timestamp window. The signed payload is the raw query
/// string without its `signature` parameter, followed directly by the raw body.
fn authenticate(
    vs: &VenueState,
    raw_query: &str,
    body: &str,
    api_key: Option<&str>,
    params: &Params,
) -> Result<Auth, Resp> {
    let key = api_key.ok_or_else(|| bad(700001, "API-key format invalid."))?;
    let entry = vs
        .keys
        .get(key)
        .ok_or_else(|| bad(700001, "API-key format invalid."))?;
    let sig = get(params, "signature")
        .ok_or_else(|| bad(700002, "Signature for this request is not valid."))?;
    let query_unsigned = strip_param(raw_query, "signature");
    let body_unsigned = if body.trim_start().starts_with('{') {
        body.to_string()
    } else {
        strip_param(body, "signature")
    };
    let expected = mexc_sign(&entry.secret, &format!("{query_unsigned}{body_unsigned}"));
    if !signatures_equal(&expected, sig) {
        return Err(bad(700002, "Signature for this request is not valid."));
    }
    let recv_window: i64 = match get(params, "recvWindow") {
        Some(s) => s.parse().map_err(|_| missing("recvWindow"))?,
        None => 5000,
    };
    if recv_window > 60_000 {
        return Err(bad(700005, "recvWindow must less than 60000"));
    }
    let ts: i64 = get(params, "timestamp")
        .ok_or_else(|| missing("timestamp"))?
        .parse()
        .map_err(|_| missing("timestamp"))?;
    let now = arb_core::time::now_ms();
    if !(ts < now + 1000 && now - ts <= recv_window) {
        return Err(bad(
            700003,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    Ok(Auth {
        account: entry.account,
    })
}

/// Removes every `name=...` pair from a raw `a=b&c=d` string, keeping the rest verbatim.
fn strip_param(raw: &str, name: &str) -> String {
    let prefix = format!("{name}=");
    raw.split('&')
        .filter(|kv| !kv.starts_with(&prefix) && !kv.is_empty())
        .collect::<Vec<_>>()
        .join("&")
}

fn symbol_param(vs: &VenueState, params: &Params) -> Result<usize, Resp> {
    let s = get(params, "symbol").ok_or_else(|| missing("symbol"))?;
    vs.symbol_index(&s.to_ascii_uppercase())
        .ok_or_else(|| bad(30014, "Invalid symbol."))
}

fn symbol_info(s: &SymbolSpec) -> Value {
    let market = s.restriction != Restriction::NoMarket;
    let order_types: &[&str] = if market {
        &[
            "LIMIT",
            "MARKET",
            "LIMIT_MAKER",
            "IMMEDIATE_OR_CANCEL",
            "FILL_OR_KILL",
        ]
    } else {
        &[
            "LIMIT",
            "LIMIT_MAKER",
            "IMMEDIATE_OR_CANCEL",
            "FILL_OR_KILL",
        ]
    };
    json!({
        "symbol": s.venue_symbol,
        "status": "1",
        "baseAsset": s.base,
        "baseAssetPrecision": s.qty_decimals,
        "quoteAsset": s.quote,
        "quotePrecision": s.price_decimals,
        "quoteAssetPrecision": s.price_decimals,
        "baseCommissionPrecision": s.qty_decimals,
        "quoteCommissionPrecision": s.price_decimals,
        "orderTypes": order_types,
        "isSpotTradingAllowed": s.restriction != Restriction::NoApi,
        "quoteOrderQtyMarketAllowed": market,
        "isMarginTradingAllowed": false,
        "quoteAmountPrecision": s.fmt_notional(s.min_notional),
        "baseSizePrecision": s.fmt_qty(s.min_qty),
        "permissions": ["SPOT"],
        "filters": [],
        "maxQuoteAmount": s.fmt_notional(s.max_notional),
        "makerCommission": format_scaled(s.maker_ppm as i128, 6),
        "takerCommission": format_scaled(s.taker_ppm as i128, 6),
        "quoteAmountPrecisionMarket": s.fmt_notional(s.min_notional),
        "maxQuoteAmountMarket": s.fmt_notional(s.max_notional),
        "fullName": s.base,
        "tradeSideType": match s.restriction {
            Restriction::BuyOnly => 2,
            Restriction::SellOnly => 3,
            _ => 1,
        },
        "st": false,
    })
}

fn exchange_info(vs: &VenueState, params: &Params) -> Resp {
    let wanted: Option<Vec<String>> = get(params, "symbol")
        .or_else(|| get(params, "symbols"))
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_ascii_uppercase())
                .collect()
        });
    let mut symbols = Vec::new();
    if let Some(w) = &wanted {
        for s in w {
            match vs.symbol_index(s) {
                Some(i) => symbols.push(symbol_info(&vs.specs[i])),
                None => return bad(-1121, "Invalid symbol."),
            }
        }
    } else {
        symbols = vs.specs.iter().map(symbol_info).collect();
    }
    ok(json!({
        "timezone": "CST",
        "serverTime": arb_core::time::now_ms(),
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": symbols,
    }))
}

fn depth(vs: &VenueState, params: &Params) -> Resp {
    let i = match symbol_param(vs, params) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let limit = get(params, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 5000);
    let spec = &vs.specs[i];
    let ex = vs.exchange.lock();
    let book = &ex.books[i];
    let (bids, asks) = book.levels(limit);
    let version = book.version;
    drop(ex);
    let lv = |v: Vec<(u64, u64)>| -> Vec<Value> {
        v.into_iter()
            .map(|(p, q)| json!([spec.fmt_price(p), spec.fmt_qty(q)]))
            .collect()
    };
    ok(json!({
        "lastUpdateId": version,
        "bids": lv(bids),
        "asks": lv(asks),
        "timestamp": arb_core::time::now_ms(),
    }))
}

fn for_symbols(vs: &VenueState, params: &Params, f: impl Fn(usize) -> Value) -> Resp {
    if get(params, "symbol").is_some() {
        match symbol_param(vs, params) {
            Ok(i) => ok(f(i)),
            Err(r) => r,
        }
    } else {
        ok(Value::Array((0..vs.specs.len()).map(f).collect()))
    }
}

fn book_ticker(vs: &VenueState, params: &Params) -> Resp {
    for_symbols(vs, params, |i| {
        let spec = &vs.specs[i];
        let ex = vs.exchange.lock();
        let b = ex.books[i].best_bid().unwrap_or((0, 0));
        let a = ex.books[i].best_ask().unwrap_or((0, 0));
        json!({
            "symbol": spec.venue_symbol,
            "bidPrice": spec.fmt_price(b.0), "bidQty": spec.fmt_qty(b.1),
            "askPrice": spec.fmt_price(a.0), "askQty": spec.fmt_qty(a.1),
        })
    })
}

fn last_price(vs: &VenueState, i: usize) -> u64 {
    let ex = vs.exchange.lock();
    let b = &ex.books[i];
    if b.last_trade_price > 0 {
        b.last_trade_price
    } else {
        b.best_bid().map_or(0, |x| x.0)
    }
}

fn ticker_price(vs: &VenueState, params: &Params) -> Resp {
    for_symbols(vs, params, |i| {
        let spec = &vs.specs[i];
        json!({"symbol": spec.venue_symbol, "price": spec.fmt_price(last_price(vs, i))})
    })
}

fn ticker_24h(vs: &VenueState, params: &Params) -> Resp {
    for_symbols(vs, params, |i| {
        let spec = &vs.specs[i];
        let last = spec.fmt_price(last_price(vs, i));
        let ex = vs.exchange.lock();
        let b = ex.books[i].best_bid().unwrap_or((0, 0));
        let a = ex.books[i].best_ask().unwrap_or((0, 0));
        drop(ex);
        let now = arb_core::time::now_ms();
        json!({
            "symbol": spec.venue_symbol, "priceChange": "0", "priceChangePercent": "0",
            "prevClosePrice": last, "lastPrice": last,
            "bidPrice": spec.fmt_price(b.0), "bidQty": spec.fmt_qty(b.1),
            "askPrice": spec.fmt_price(a.0), "askQty": spec.fmt_qty(a.1),
            "openPrice": last, "highPrice": last, "lowPrice": last,
            "volume": "0", "quoteVolume": "0", "openTime": now - 86_400_000, "closeTime": now, "count": null,
        })
    })
}

fn account(vs: &VenueState, auth: &Auth) -> Resp {
    let ex = vs.exchange.lock();
    let balances: Vec<Value> = ex.accounts[auth.account as usize]
        .balances
        .iter()
        .map(|(a, b)| {
            json!({
                "asset": a,
                "free": format_scaled(b.free, BAL_SCALE),
                "locked": format_scaled(b.locked, BAL_SCALE),
                "available": format_scaled(b.free, BAL_SCALE),
            })
        })
        .collect();
    let can_trade = vs.may_trade(auth.account);
    ok(json!({
        "makerCommission": null, "takerCommission": null, "buyerCommission": null,
        "sellerCommission": null, "canTrade": can_trade, "canWithdraw": true, "canDeposit": true,
        "updateTime": null, "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"],
    }))
}

fn parse_num(name: &str, s: &str, scale: u32) -> Result<u64, Resp> {
    parse_scaled(s, scale).map_err(|e| match e {
        FixedError::TooPrecise { .. } => bad(400, format!("{name} scale is invalid")),
        FixedError::Negative => bad(400, format!("{name} cannot be negative")),
        _ => bad(
            700008,
            format!("Illegal characters found in parameter '{name}'"),
        ),
    })
}

fn place(vs: &VenueState, auth: &Auth, params: &Params, test: bool) -> Resp {
    let sym = match symbol_param(vs, params) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let spec = &vs.specs[sym];
    let side = match get(params, "side").map(str::to_ascii_uppercase).as_deref() {
        Some("BUY") => Side::Buy,
        Some("SELL") => Side::Sell,
        Some(_) => return bad(700008, "Illegal characters found in parameter 'side'"),
        None => return missing("side"),
    };
    let (kind, tif) = match get(params, "type").map(str::to_ascii_uppercase).as_deref() {
        Some("LIMIT") => (OrderKind::Limit, Tif::Gtc),
        Some("LIMIT_MAKER") => (OrderKind::Limit, Tif::PostOnly),
        Some("IMMEDIATE_OR_CANCEL") => (OrderKind::Limit, Tif::Ioc),
        Some("FILL_OR_KILL") => (OrderKind::Limit, Tif::Fok),
        Some("MARKET") => (OrderKind::Market, Tif::Ioc),
        Some(_) => return bad(700008, "Illegal characters found in parameter 'type'"),
        None => return missing("type"),
    };
    let mut price = 0;
    let size;
    if kind == OrderKind::Limit {
        let Some(p) = get(params, "price") else {
            return missing("price");
        };
        price = match parse_num("price", p, spec.price_decimals) {
            Ok(v) => v,
            Err(r) => return r,
        };
        let Some(q) = get(params, "quantity") else {
            return missing("quantity");
        };
        size = match parse_num("quantity", q, spec.qty_decimals) {
            Ok(v) => Size::Base(v),
            Err(r) => return r,
        };
    } else if let Some(q) = get(params, "quantity") {
        size = match parse_num("quantity", q, spec.qty_decimals) {
            Ok(v) => Size::Base(v),
            Err(r) => return r,
        };
    } else if let Some(q) = get(params, "quoteOrderQty") {
        if side == Side::Sell {
            return missing("quantity");
        }
        size = match parse_num("amount", q, spec.notional_scale()) {
            Ok(v) => Size::Quote(v as u128),
            Err(r) => return r,
        };
    } else {
        return missing("quantity");
    }
    let client_id = get(params, "newClientOrderId").unwrap_or("").to_string();
    if client_id.len() > 64 {
        return bad(
            700008,
            "Illegal characters found in parameter 'newClientOrderId'",
        );
    }
    let mut req = NewOrder {
        symbol: sym,
        side,
        kind,
        tif,
        price,
        size,
        client_id,
        max_fill_pct: None,
    };
    if !vs.may_trade(auth.account) {
        return err(
            StatusCode::FORBIDDEN,
            700007,
            "No permission to access the endpoint.",
        );
    }
    let now_s = arb_core::time::now_ms() / 1000;
    if let Some(e) = spec.refusal(side, kind == OrderKind::Market, now_s) {
        return order_error(spec, e);
    }
    if test {
        // The checks of a real placement, without placing.
        return match validate_only(vs, auth, &req) {
            Ok(()) => ok(json!({})),
            Err(r) => reject(spec, &r),
        };
    }
    vs.order_arrived(sym);
    let mut hang = false;
    match vs.faults.take(Hook::Order, Some(sym)) {
        Some(FaultKind::RejectWithoutApply) => {
            return err(StatusCode::INTERNAL_SERVER_ERROR, 500, "Internal error")
        }
        Some(FaultKind::RejectOrder { error }) => return order_error(spec, error),
        Some(FaultKind::PartialFill { pct }) => req.max_fill_pct = Some(pct),
        Some(FaultKind::ApplyThenTimeout) => hang = true,
        _ => {}
    }
    let now = arb_core::time::now_ms();
    let mut ex = vs.exchange.lock();
    let res = ex.place(auth.account, &req, now);
    let out = match res {
        Ok(id) => {
            let o = &ex.orders[&id];
            Ok(json!({
                "symbol": spec.venue_symbol,
                "orderId": vs.order_id_str(id),
                "orderListId": -1,
                "price": spec.fmt_price(o.price),
                "origQty": spec.fmt_qty(o.qty),
                "type": type_name(o),
                "side": side_name(o.side),
                "transactTime": now,
            }))
        }
        Err(e) => Err(e),
    };
    vs.flush(&mut ex, sym, now);
    vs.publish(&mut ex);
    drop(ex);
    vs.counters.orders.fetch_add(1, Ordering::Relaxed);
    let mut resp = match out {
        Ok(v) => ok(v),
        Err(e) => reject(spec, &e),
    };
    if hang {
        resp.extensions_mut().insert(Hang);
    }
    resp
}

/// The checks of a placement without placing (for `/order/test`).
fn validate_only(vs: &VenueState, auth: &Auth, req: &NewOrder) -> Result<(), Reject> {
    let spec = &vs.specs[req.symbol];
    let ex = vs.exchange.lock();
    let (lock, asset) = match (req.side, req.size) {
        (Side::Buy, Size::Base(q)) => {
            if q < spec.min_qty {
                return Err(Reject::BelowMinQty {
                    min: spec.fmt_qty(spec.min_qty),
                });
            }
            let n = req.price as u128 * q as u128;
            if req.kind == OrderKind::Limit && n < spec.min_notional {
                return Err(Reject::BelowMinNotional {
                    min: spec.fmt_notional(spec.min_notional),
                    value: spec.fmt_notional(n),
                    quote: spec.quote.clone(),
                });
            }
            (spec.notional_to_bal(n), &spec.quote)
        }
        (Side::Buy, Size::Quote(n)) => (spec.notional_to_bal(n), &spec.quote),
        (Side::Sell, Size::Base(q)) => (spec.qty_to_bal(q), &spec.base),
        (Side::Sell, Size::Quote(_)) => return Err(Reject::ZeroSize),
    };
    let free = ex.accounts[auth.account as usize]
        .balances
        .get(asset)
        .map_or(0, |b| b.free);
    if free < lock {
        return Err(Reject::InsufficientBalance {
            asset: asset.clone(),
        });
    }
    Ok(())
}

fn reject(spec: &SymbolSpec, r: &Reject) -> Resp {
    match r {
        Reject::UnknownSymbol => bad(30014, "Invalid symbol."),
        Reject::InsufficientBalance { asset } if *asset == spec.quote => {
            bad(10101, "Insufficient balance")
        }
        Reject::InsufficientBalance { .. } => bad(30004, "Insufficient position"),
        Reject::BelowMinQty { min } => bad(
            30002,
            format!(
                "Minimum order quantity cannot be less than：{min}{}",
                spec.base
            ),
        ),
        Reject::BelowMinNotional { min, quote, .. } => bad(
            30002,
            format!("Minimum transaction volume cannot be less than：{min}{quote}"),
        ),
        Reject::AboveMaxNotional { max } => bad(
            30003,
            format!(
                "Maximum transaction volume cannot be more than：{max}{}",
                spec.quote
            ),
        ),
        Reject::ZeroSize => bad(400, "quantity cannot be zero"),
        Reject::ZeroPrice => bad(400, "price cannot be zero"),
        Reject::DuplicateClientId => bad(400, "Duplicate newClientOrderId"),
        Reject::TooManyOpenOrders => bad(30029, "Max open orders limit reached"),
    }
}

pub fn order_json(vs: &VenueState, o: &Order) -> Value {
    let spec = &vs.specs[o.symbol];
    json!({
        "symbol": spec.venue_symbol,
        "orderId": vs.order_id_str(o.id),
        "orderListId": -1,
        "clientOrderId": if o.client_id.is_empty() { Value::Null } else { Value::String(o.client_id.clone()) },
        "price": spec.fmt_price(o.price),
        "origQty": spec.fmt_qty(o.qty),
        "executedQty": spec.fmt_qty(o.filled),
        "cummulativeQuoteQty": spec.fmt_notional(o.filled_quote),
        "status": status_name(o.status),
        "timeInForce": null,
        "type": type_name(o),
        "side": side_name(o.side),
        "stopPrice": null,
        "icebergQty": null,
        "time": o.create_ms,
        "updateTime": o.update_ms,
        "isWorking": true,
        "origQuoteOrderQty": spec.fmt_notional(o.quote_qty),
    })
}

fn find<'a>(
    vs: &VenueState,
    ex: &'a crate::matching::Exchange,
    auth: &Auth,
    sym: usize,
    params: &Params,
) -> Result<&'a Order, Resp> {
    let id = get(params, "orderId");
    let cid = get(params, "origClientOrderId");
    if id.is_none() && cid.is_none() {
        return Err(bad(
            700004,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        ));
    }
    let id = match id {
        Some(s) => Some(
            vs.parse_order_id(s)
                .ok_or_else(|| bad(-2011, "Unknown order sent."))?,
        ),
        None => None,
    };
    ex.find_order(auth.account, id, cid)
        .filter(|o| o.symbol == sym)
        .ok_or_else(|| bad(-2011, "Unknown order sent."))
}

fn query_order(vs: &VenueState, auth: &Auth, params: &Params) -> Resp {
    let sym = match symbol_param(vs, params) {
        Ok(i) => i,
        Err(r) => return r,
    };
    // A live `GET /api/v3/order` answers -2013 for a missing order, and also for a
    // just-accepted one while the venue's read lags its write.
    let not_exist = || bad(-2013, "Order does not exist.");
    let lag = vs.cfg.mexc_read_lag_ms as i64;
    let now = arb_core::time::now_ms();
    let ex = vs.exchange.lock();
    match find(vs, &ex, auth, sym, params) {
        Ok(o) if now - o.create_ms < lag => not_exist(),
        Ok(o) => ok(order_json(vs, o)),
        Err(_) => not_exist(),
    }
}

fn cancel(vs: &VenueState, auth: &Auth, params: &Params) -> Resp {
    let sym = match symbol_param(vs, params) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let now = arb_core::time::now_ms();
    let mut ex = vs.exchange.lock();
    let id = match find(vs, &ex, auth, sym, params) {
        Ok(o) => o.id,
        Err(r) => return r,
    };
    let res = ex.cancel(auth.account, id, now);
    vs.flush(&mut ex, sym, now);
    vs.publish(&mut ex);
    match res {
        Ok(()) => ok(order_json(vs, &ex.orders[&id])),
        Err(_) => bad(-2011, "Unknown order sent."),
    }
}

fn open_orders(vs: &VenueState, auth: &Auth, params: &Params) -> Resp {
    let sym = if get(params, "symbol").is_some() {
        match symbol_param(vs, params) {
            Ok(i) => Some(i),
            Err(r) => return r,
        }
    } else {
        None
    };
    let ex = vs.exchange.lock();
    let list: Vec<Value> = ex
        .open_orders(auth.account, sym)
        .into_iter()
        .map(|id| order_json(vs, &ex.orders[&id]))
        .collect();
    ok(Value::Array(list))
}

fn cancel_open(vs: &VenueState, auth: &Auth, params: &Params) -> Resp {
    let Some(list) = get(params, "symbol") else {
        return missing("symbol");
    };
    let mut syms = Vec::new();
    for s in list.split(',').take(5) {
        match vs.symbol_index(&s.trim().to_ascii_uppercase()) {
            Some(i) => syms.push(i),
            None => return bad(30014, "Invalid symbol."),
        }
    }
    let now = arb_core::time::now_ms();
    let mut ex = vs.exchange.lock();
    let mut out = Vec::new();
    for sym in syms {
        for id in ex.open_orders(auth.account, Some(sym)) {
            if ex.cancel(auth.account, id, now).is_ok() {
                out.push(order_json(vs, &ex.orders[&id]));
            }
        }
        vs.flush(&mut ex, sym, now);
    }
    vs.publish(&mut ex);
    ok(Value::Array(out))
}

fn all_orders(vs: &VenueState, auth: &Auth, params: &Params) -> Resp {
    let sym = match symbol_param(vs, params) {
        Ok(i) => i,
        Err(r) => return r,
    };
    // Documented: `startTime`/`endTime` (ms, on the creation time), `limit` default
    // 500, at most 1000.
    let limit = get(params, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(500usize)
        .min(1000);
    let start = get(params, "startTime").and_then(|s| s.parse::<i64>().ok());
    let end = get(params, "endTime").and_then(|s| s.parse::<i64>().ok());
    let ex = vs.exchange.lock();
    let ids = &ex.accounts[auth.account as usize].order_ids;
    let mut list: Vec<Value> = ids
        .iter()
        .filter_map(|id| ex.orders.get(id))
        .filter(|o| o.symbol == sym)
        .filter(|o| start.is_none_or(|s| o.create_ms >= s) && end.is_none_or(|e| o.create_ms <= e))
        .map(|o| order_json(vs, o))
        .collect();
    if list.len() > limit {
        list.drain(..list.len() - limit);
    }
    ok(Value::Array(list))
}

fn my_trades(vs: &VenueState, auth: &Auth, params: &Params) -> Resp {
    let sym = match symbol_param(vs, params) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let spec = &vs.specs[sym];
    let order_id = get(params, "orderId").and_then(|s| vs.parse_order_id(s));
    let limit = get(params, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100usize)
        .min(100);
    let start = get(params, "startTime").and_then(|s| s.parse::<i64>().ok());
    let end = get(params, "endTime").and_then(|s| s.parse::<i64>().ok());
    let ex = vs.exchange.lock();
    let mut list: Vec<Value> = ex.accounts[auth.account as usize]
        .fills
        .iter()
        .filter(|f| f.symbol == sym)
        .filter(|f| order_id.is_none_or(|o| f.order_id == o))
        .filter(|f| start.is_none_or(|s| f.time_ms >= s) && end.is_none_or(|e| f.time_ms <= e))
        .map(|f| {
            json!({
                "symbol": spec.venue_symbol,
                "id": f.trade_id.to_string(),
                "orderId": vs.order_id_str(f.order_id),
                "orderListId": -1,
                "price": spec.fmt_price(f.price),
                "qty": spec.fmt_qty(f.qty),
                "quoteQty": spec.fmt_notional(f.quote),
                "commission": format_scaled(f.fee, BAL_SCALE),
                "commissionAsset": f.fee_asset,
                "time": f.time_ms,
                "isBuyer": f.side == Side::Buy,
                "isMaker": f.is_maker,
                "isBestMatch": true,
                "isSelfTrade": false,
                "clientOrderId": if f.client_id.is_empty() { Value::Null } else { Value::String(f.client_id.clone()) },
            })
        })
        .collect();
    if list.len() > limit {
        list.drain(..list.len() - limit);
    }
    ok(Value::Array(list))
}

fn trade_fee(vs: &VenueState, params: &Params) -> Resp {
    let sym = match symbol_param(vs, params) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let s = &vs.specs[sym];
    // Real responses carry numbers here, not strings.
    let maker: f64 = format_scaled(s.maker_ppm as i128, 6).parse().unwrap_or(0.0);
    let taker: f64 = format_scaled(s.taker_ppm as i128, 6).parse().unwrap_or(0.0);
    ok(json!({
        "data": {"makerCommission": maker, "takerCommission": taker},
        "code": 0, "msg": "success", "timestamp": arb_core::time::now_ms(),
    }))
}

fn user_data_stream(vs: &VenueState, auth: &Auth, method: &str, params: &Params) -> Resp {
    match method {
        "POST" => {
            let key = vs.new_listen_key(auth.account);
            ok(json!({"listenKey": key}))
        }
        "PUT" | "DELETE" => {
            let Some(k) = get(params, "listenKey") else {
                return missing("listenKey");
            };
            let mut keys = vs.listen_keys.lock();
            match keys.get_mut(k) {
                Some((acc, exp)) if *acc == auth.account => {
                    if method == "PUT" {
                        *exp = Instant::now() + Duration::from_secs(vs.cfg.listen_key_ttl_secs);
                    } else {
                        keys.remove(k);
                    }
                    ok(json!({"listenKey": k}))
                }
                _ => bad(730707, "listenKey not found"),
            }
        }
        "GET" => {
            let keys = vs.listen_keys.lock();
            let now = Instant::now();
            let list: Vec<&String> = keys
                .iter()
                .filter(|(_, (a, e))| *a == auth.account && *e > now)
                .map(|(k, _)| k)
                .collect();
            ok(json!({"listenKey": list}))
        }
        _ => err(StatusCode::METHOD_NOT_ALLOWED, 405, "Method not allowed"),
    }
}
