//! Gate.io v4 REST (spot): public market data, signed account and order endpoints,
//! HMAC-SHA512 verification of `METHOD\npath\nquery\nsha512(body)\nTimestamp`, the 60 s
//! timestamp window, `{label, message}` errors, 201 on order creation and the
//! documented rate limits with their `X-Gate-RateLimit-*` headers.

// Handlers return a ready HTTP response as their error: it is built once per refused
// request, never on a hot path, so its size does not matter.
#![allow(clippy::result_large_err)]

use std::sync::atomic::Ordering;

use super::sign::gate_rest_sign;
use crate::sign::signatures_equal;
use arb_core::fixed::{format_scaled, parse_scaled, FixedError};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::{json, Value};

use super::order_json;
use crate::faults::{FaultKind, Hang, Hook, OrderError};
use crate::http::{
    get, json_response, parse_form, set_retry_after, Params, RawRequest, Refusal, RestApi,
};
use crate::matching::{NewOrder, OrderKind, Reject, Side, Size, Tif};
use crate::spec::{Restriction, SymbolSpec, BAL_SCALE};
use crate::state::VenueState;

type Resp = Response<Body>;

pub fn err(status: StatusCode, label: &str, message: impl Into<String>) -> Resp {
    json_response(status, &json!({"label": label, "message": message.into()}))
}

fn bad(label: &str, message: impl Into<String>) -> Resp {
    err(StatusCode::BAD_REQUEST, label, message)
}

fn ok(v: Value) -> Resp {
    json_response(StatusCode::OK, &v)
}

/// Gate's REST API behind the shared prologue ([`crate::http::handle`]).
pub struct Api;

impl RestApi for Api {
    fn refusal(why: Refusal) -> Resp {
        match why {
            Refusal::UnreadableBody => bad(
                "INVALID_PARAM_VALUE",
                "request body too large or unreadable",
            ),
            Refusal::Halted => err(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_ERROR",
                "Service unavailable, please try again later",
            ),
            Refusal::ShuttingDown => err(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_ERROR",
                "shutting down",
            ),
            Refusal::Status(status) => {
                let s = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let label = if status == 503 {
                    "TOO_BUSY"
                } else {
                    "SERVER_ERROR"
                };
                err(s, label, "Internal server error")
            }
            Refusal::RateLimited { retry_after_secs } => {
                let mut r = err(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TOO_MANY_REQUESTS",
                    "Request Rate limit Exceeded",
                );
                let reset = arb_core::time::now_ms() / 1000 + retry_after_secs as i64;
                add_limit_headers(&mut r, Some((0, 0, reset)));
                set_retry_after(&mut r, retry_after_secs);
                r
            }
        }
    }

    fn route(vs: &VenueState, req: &RawRequest) -> Resp {
        route(
            vs,
            req.method.as_str(),
            &req.path,
            &req.query,
            &req.body,
            &req.headers,
        )
    }
}

fn order_error(spec: &SymbolSpec, e: OrderError) -> GErr {
    match e {
        OrderError::InsufficientBalance => gbad("BALANCE_NOT_ENOUGH", "Not enough balance"),
        OrderError::BelowMinimum => gbad(
            "INVALID_PARAM_VALUE",
            format!(
                "Your order size is too small. The minimum is {} {}",
                spec.fmt_notional(spec.min_notional),
                spec.quote
            ),
        ),
        OrderError::SymbolNotTradable
        | OrderError::MarketOrderDisabled
        | OrderError::MarketOrdersNotListed => gbad(
            "INVALID_CURRENCY_PAIR",
            format!(
                "currency pair {} is not tradable via the API",
                spec.venue_symbol
            ),
        ),
        OrderError::SideNotOpen => gbad(
            "INVALID_CURRENCY_PAIR",
            format!(
                "currency pair {} does not take orders on this side now",
                spec.venue_symbol
            ),
        ),
    }
}

fn route(
    vs: &VenueState,
    method: &str,
    path: &str,
    raw_query: &str,
    body: &[u8],
    headers: &HeaderMap,
) -> Resp {
    let Some(sub) = path.strip_prefix("/api/v4") else {
        return err(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("{method} {path} not found"),
        );
    };
    let sub = sub.trim_end_matches('/');
    let params = parse_form(raw_query);
    let public = matches!(
        (method, sub),
        ("GET", "/spot/time")
            | ("GET", "/spot/currency_pairs")
            | ("GET", "/spot/order_book")
            | ("GET", "/spot/tickers")
            | ("GET", "/spot/trades")
            | ("GET", "/margin/currency_pairs")
    ) || (method == "GET" && sub.starts_with("/spot/currency_pairs/"))
        || super::wallet::is_public(method, sub);
    let private = !public;

    // Rate limits: public per endpoint per IP, private per endpoint per key, order
    // placement per key per market per second.
    let key_hdr = headers
        .get("KEY")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut limit_headers = None;
    if vs.cfg.rate_limits {
        let endpoint = endpoint_group(sub);
        let (bucket, limit, window) = if method == "POST" && sub == "/spot/orders" {
            let pair = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| {
                    v.get("currency_pair")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_default();
            (
                format!("order|{key_hdr}|{pair}"),
                vs.cfg.gate_orders_per_sec,
                1_000,
            )
        } else if private {
            (
                format!("priv|{key_hdr}|{method}|{endpoint}"),
                vs.cfg.gate_private_per_10s,
                10_000,
            )
        } else {
            (
                format!("pub|{method}|{endpoint}"),
                vs.cfg.gate_public_per_10s,
                10_000,
            )
        };
        let v = vs.limiter.check(&bucket, limit, window);
        let reset = (arb_core::time::now_ms() + v.reset_in_ms as i64) / 1000;
        limit_headers = Some((v.remaining, v.limit, reset));
        if !v.allowed {
            vs.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            let mut r = err(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_REQUESTS",
                "Request Rate limit Exceeded",
            );
            add_limit_headers(&mut r, limit_headers);
            return r;
        }
    }
    let mut resp = if private {
        match authenticate(vs, method, path, raw_query, body, headers) {
            Ok(account) => private_route(vs, account, method, sub, &params, body),
            Err(r) => r,
        }
    } else {
        public_route(vs, sub, &params)
    };
    add_limit_headers(&mut resp, limit_headers);
    resp
}

fn endpoint_group(sub: &str) -> &str {
    // `/spot/orders/123` counts with `/spot/orders`.
    if sub.starts_with("/spot/orders/") {
        "/spot/orders/{id}"
    } else if sub.starts_with("/spot/currency_pairs/") {
        "/spot/currency_pairs/{pair}"
    } else {
        sub
    }
}

fn add_limit_headers(r: &mut Resp, h: Option<(u32, u32, i64)>) {
    let Some((remain, limit, reset)) = h else {
        return;
    };
    let hs = r.headers_mut();
    for (name, v) in [
        ("x-gate-ratelimit-requests-remain", remain.to_string()),
        ("x-gate-ratelimit-limit", limit.to_string()),
        ("x-gate-ratelimit-reset-timestamp", reset.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            hs.insert(name, v);
        }
    }
}

/// Verifies KEY, Timestamp and SIGN; returns the account.
fn authenticate(
    vs: &VenueState,
    method: &str,
    path: &str,
    raw_query: &str,
    body: &[u8],
    headers: &HeaderMap,
) -> Result<u32, Resp> {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let unauth = |label: &str, msg: &str| err(StatusCode::UNAUTHORIZED, label, msg);
    let (Some(key), Some(ts), Some(sign)) = (h("KEY"), h("Timestamp"), h("SIGN")) else {
        return Err(bad(
            "MISSING_REQUIRED_HEADER",
            "Missing required header: KEY, Timestamp or SIGN",
        ));
    };
    let entry = vs
        .keys
        .get(key)
        .ok_or_else(|| unauth("INVALID_KEY", "Invalid key provided"))?;
    // The query is signed un-URL-encoded; clients differ in whether they encode it on
    // the wire, so accept the string as received and its decoded form.
    let decoded = url::form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let good = [raw_query, decoded.as_str()].iter().any(|q| {
        signatures_equal(
            &gate_rest_sign(&entry.secret, method, path, q, body, ts),
            sign,
        )
    });
    if !good {
        return Err(unauth("INVALID_SIGNATURE", "Signature mismatch"));
    }
    // The timestamp is time, not money: a float comparison is fine here.
    let t: f64 = ts
        .parse()
        .map_err(|_| bad("INVALID_PARAM_VALUE", "Invalid Timestamp header"))?;
    let now = arb_core::time::now_ms() as f64 / 1000.0;
    if (now - t).abs() > 60.0 {
        return Err(unauth(
            "REQUEST_EXPIRED",
            "gap between request Timestamp and server time exceeds 60",
        ));
    }
    Ok(entry.account)
}

fn pair_json(s: &SymbolSpec) -> Value {
    json!({
        "id": s.venue_symbol,
        "base": s.base,
        "base_name": s.base,
        "quote": s.quote,
        "quote_name": s.quote,
        "fee": format_scaled(s.taker_ppm as i128, 4),
        "min_base_amount": s.fmt_qty(s.min_qty),
        "min_quote_amount": s.fmt_notional(s.min_notional),
        "max_base_amount": null,
        "max_quote_amount": s.fmt_notional(s.max_notional),
        "amount_precision": s.qty_decimals,
        "precision": s.price_decimals,
        "trade_status": match s.restriction {
            Restriction::NoApi => "untradable",
            Restriction::BuyOnly => "buyable",
            Restriction::SellOnly => "sellable",
            _ => "tradable",
        },
        "sell_start": 0,
        "buy_start": s.buy_start_s,
        "delisting_time": 0,
        "type": "normal",
        "trade_url": "",
        "st_tag": false,
    })
}

fn pair_param(vs: &VenueState, params: &Params) -> Result<usize, Resp> {
    let p = get(params, "currency_pair").ok_or_else(|| {
        bad(
            "MISSING_REQUIRED_PARAM",
            "Missing required parameter: currency_pair",
        )
    })?;
    vs.symbol_index(p).ok_or_else(|| {
        bad(
            "INVALID_CURRENCY_PAIR",
            format!("Invalid currency pair {p}"),
        )
    })
}

fn public_route(vs: &VenueState, sub: &str, params: &Params) -> Resp {
    match sub {
        "/spot/time" => ok(json!({"server_time": arb_core::time::now_ms()})),
        "/spot/currency_pairs" => ok(Value::Array(vs.specs.iter().map(pair_json).collect())),
        "/margin/currency_pairs" => ok(json!([])),
        "/spot/order_book" => order_book(vs, params),
        "/spot/tickers" => tickers(vs, params),
        "/spot/trades" => ok(json!([])),
        s if s.starts_with("/spot/currency_pairs/") => {
            let p = &s["/spot/currency_pairs/".len()..];
            match vs.symbol_index(p) {
                Some(i) => ok(pair_json(&vs.specs[i])),
                None => bad(
                    "INVALID_CURRENCY_PAIR",
                    format!("Invalid currency pair {p}"),
                ),
            }
        }
        _ => super::wallet::public(vs, sub, params).unwrap_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("{sub} not found"),
            )
        }),
    }
}

/// A boolean query parameter, spelled any way clients send one: `true` (ccxt, curl),
/// `True` (the official gate-api SDK writes Python's `str(True)`), `TRUE`, `1`. Gate's
/// server reads booleans leniently; only lowercase `true` would leave a gate-api user
/// without the book's `id`.
fn flag(params: &Params, key: &str) -> bool {
    get(params, key).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

fn order_book(vs: &VenueState, params: &Params) -> Resp {
    let i = match pair_param(vs, params) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let limit = get(params, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 1000);
    let with_id = flag(params, "with_id");
    let spec = &vs.specs[i];
    let ex = vs.exchange.lock();
    let (bids, asks) = ex.books[i].levels(limit);
    let version = ex.books[i].version;
    drop(ex);
    let lv = |v: Vec<(u64, u64)>| -> Vec<Value> {
        v.into_iter()
            .map(|(p, q)| json!([spec.fmt_price(p), spec.fmt_qty(q)]))
            .collect()
    };
    let now = arb_core::time::now_ms();
    let mut v = json!({"current": now, "update": now, "asks": lv(asks), "bids": lv(bids)});
    if with_id {
        v["id"] = json!(version);
    }
    ok(v)
}

fn tickers(vs: &VenueState, params: &Params) -> Resp {
    let idx: Vec<usize> = match get(params, "currency_pair") {
        Some(_) => match pair_param(vs, params) {
            Ok(i) => vec![i],
            Err(r) => return r,
        },
        None => (0..vs.specs.len()).collect(),
    };
    let ex = vs.exchange.lock();
    let list: Vec<Value> = idx
        .into_iter()
        .map(|i| {
            let s = &vs.specs[i];
            let b = &ex.books[i];
            let bid = b.best_bid().map_or(0, |x| x.0);
            let ask = b.best_ask().map_or(0, |x| x.0);
            let last = if b.last_trade_price > 0 {
                b.last_trade_price
            } else {
                bid
            };
            json!({
                "currency_pair": s.venue_symbol, "last": s.fmt_price(last),
                "lowest_ask": s.fmt_price(ask), "highest_bid": s.fmt_price(bid),
                "change_percentage": "0", "base_volume": "0", "quote_volume": "0",
                "high_24h": s.fmt_price(last), "low_24h": s.fmt_price(last),
            })
        })
        .collect();
    ok(Value::Array(list))
}

fn private_route(
    vs: &VenueState,
    account: u32,
    method: &str,
    sub: &str,
    params: &Params,
    body: &[u8],
) -> Resp {
    match (method, sub) {
        ("GET", "/account/detail") => ok(json!({
            "user_id": 10_000_000 + account as i64, "ip_whitelist": [], "currency_pairs": [],
            "key": {"mode": 1}, "tier": 0,
        })),
        ("GET", "/spot/accounts") => accounts(vs, account, params),
        ("GET", "/wallet/fee") | ("GET", "/spot/fee") => {
            let s = match get(params, "currency_pair") {
                Some(_) => match pair_param(vs, params) {
                    Ok(i) => &vs.specs[i],
                    Err(r) => return r,
                },
                None => &vs.specs[0],
            };
            let taker = format_scaled(s.taker_ppm as i128, 6);
            let maker = format_scaled(s.maker_ppm as i128, 6);
            ok(json!({
                "user_id": 10_000_000 + account as i64, "taker_fee": taker, "maker_fee": maker,
                "gt_discount": false, "gt_taker_fee": "0", "gt_maker_fee": "0",
                "loan_fee": "0.18", "point_type": "1", "futures_taker_fee": "0.0005",
                "futures_maker_fee": "0", "delivery_taker_fee": "0.0005", "delivery_maker_fee": "0",
                "debit_fee": 3,
            }))
        }
        ("POST", "/spot/orders") => place(vs, account, body),
        ("GET", "/spot/orders") => list_orders(vs, account, params),
        ("DELETE", "/spot/orders") => cancel_all(vs, account, params),
        ("GET", "/spot/open_orders") => open_orders(vs, account, params),
        ("GET", "/spot/my_trades") => my_trades(vs, account, params),
        (m, s) if s.starts_with("/spot/orders/") && (m == "GET" || m == "DELETE") => {
            let id = &s["/spot/orders/".len()..];
            one_order(vs, account, m == "DELETE", id, params)
        }
        _ => super::wallet::private(vs, account, method, sub, params, body).unwrap_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("{method} {sub} not found"),
            )
        }),
    }
}

fn accounts(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let want = get(params, "currency");
    let ex = vs.exchange.lock();
    let list: Vec<Value> = ex.accounts[account as usize]
        .balances
        .iter()
        .filter(|(a, _)| want.is_none_or(|w| w.eq_ignore_ascii_case(a)))
        .map(|(a, b)| {
            json!({
                "currency": a,
                "available": format_scaled(b.free, BAL_SCALE),
                "locked": format_scaled(b.locked, BAL_SCALE),
                "update_id": 1,
            })
        })
        .collect();
    ok(Value::Array(list))
}

fn parse_num(name: &str, s: &str, scale: u32) -> Result<u64, GErr> {
    parse_scaled(s, scale).map_err(|e| match e {
        FixedError::TooPrecise { scale } => gbad(
            "INVALID_PRECISION",
            format!("{name} {s} has more than {scale} decimal places"),
        ),
        _ => gbad("INVALID_PARAM_VALUE", format!("Invalid {name}: {s}")),
    })
}

fn place(vs: &VenueState, account: u32, body: &[u8]) -> Resp {
    let v: Value = match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Value::Object(m),
        _ => return bad("INVALID_REQUEST_BODY", "Request body is not a JSON object"),
    };
    match place_order(vs, account, &v) {
        Ok(p) => {
            let mut r = json_response(StatusCode::CREATED, &p.order);
            if p.hang {
                r.extensions_mut().insert(Hang);
            }
            r
        }
        Err((status, label, msg)) => err(status, label, msg),
    }
}

/// A placed order as Gate shows it; `hang` = an apply-then-timeout fault says the
/// answer must never be sent.
pub struct Placed {
    pub order: Value,
    pub hang: bool,
}

/// A Gate error: HTTP status, label, message.
pub type GErr = (StatusCode, &'static str, String);

fn gbad(label: &'static str, msg: impl Into<String>) -> GErr {
    (StatusCode::BAD_REQUEST, label, msg.into())
}

/// Validates and places an order from a REST body or a WebSocket `req_param`; returns
/// the order as Gate shows it.
///
/// # Errors
/// The venue's label and message for an invalid or unfunded order.
pub fn place_order(vs: &VenueState, account: u32, v: &Value) -> Result<Placed, GErr> {
    let s = |k: &str| -> Option<String> {
        match v.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let Some(pair) = s("currency_pair") else {
        return Err(gbad(
            "MISSING_REQUIRED_PARAM",
            "Missing required parameter: currency_pair",
        ));
    };
    let Some(sym) = vs.symbol_index(&pair) else {
        return Err(gbad(
            "INVALID_CURRENCY_PAIR",
            format!("Invalid currency pair {pair}"),
        ));
    };
    let spec = &vs.specs[sym];
    let side = match s("side").as_deref() {
        Some("buy") => Side::Buy,
        Some("sell") => Side::Sell,
        Some(x) => return Err(gbad("INVALID_PARAM_VALUE", format!("Invalid side: {x}"))),
        None => {
            return Err(gbad(
                "MISSING_REQUIRED_PARAM",
                "Missing required parameter: side",
            ))
        }
    };
    if let Some(acc) = s("account") {
        if !matches!(acc.as_str(), "spot" | "unified") {
            return Err(gbad(
                "INVALID_PARAM_VALUE",
                format!("account {acc} is not supported"),
            ));
        }
    }
    let kind = match s("type").as_deref().unwrap_or("limit") {
        "limit" => OrderKind::Limit,
        "market" => OrderKind::Market,
        x => return Err(gbad("INVALID_PARAM_VALUE", format!("Invalid type: {x}"))),
    };
    let tif = match (
        kind,
        s("time_in_force").as_deref().unwrap_or(match kind {
            OrderKind::Limit => "gtc",
            OrderKind::Market => "ioc",
        }),
    ) {
        (OrderKind::Limit, "gtc") => Tif::Gtc,
        (_, "ioc") => Tif::Ioc,
        (_, "fok") => Tif::Fok,
        (OrderKind::Limit, "poc") => Tif::PostOnly,
        (_, x) => {
            return Err(gbad(
                "INVALID_PARAM_VALUE",
                format!(
                    "Invalid time_in_force {x} for {} order",
                    s("type").unwrap_or_default()
                ),
            ))
        }
    };
    if !vs.may_trade(account) {
        return Err((
            StatusCode::FORBIDDEN,
            "READ_ONLY",
            "API key is read-only".into(),
        ));
    }
    let now_s = arb_core::time::now_ms() / 1000;
    if let Some(e) = spec.refusal(side, kind == OrderKind::Market, now_s) {
        return Err(order_error(spec, e));
    }
    let text = s("text").unwrap_or_default();
    if !text.is_empty() {
        let valid = text.strip_prefix("t-").is_some_and(|t| {
            t.len() <= 28
                && t.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(&c))
        });
        if !valid {
            return Err(gbad(
                "INVALID_PARAM_VALUE",
                format!("Invalid text {text:?}: must start with t- and be at most 28 bytes of [0-9A-Za-z_.-] after it"),
            ));
        }
    }
    let Some(amount) = s("amount") else {
        return Err(gbad(
            "MISSING_REQUIRED_PARAM",
            "Missing required parameter: amount",
        ));
    };
    let mut price = 0;
    let size;
    if kind == OrderKind::Limit {
        let Some(p) = s("price") else {
            return Err(gbad(
                "MISSING_REQUIRED_PARAM",
                "Missing required parameter: price",
            ));
        };
        price = parse_num("price", &p, spec.price_decimals)?;
        size = Size::Base(parse_num("amount", &amount, spec.qty_decimals)?);
    } else if side == Side::Buy {
        // Market buy: amount is the quote to spend.
        size = Size::Quote(parse_num("amount", &amount, spec.notional_scale())? as u128);
    } else {
        size = Size::Base(parse_num("amount", &amount, spec.qty_decimals)?);
    }
    let mut req = NewOrder {
        symbol: sym,
        side,
        kind,
        tif,
        price,
        size,
        client_id: text,
        max_fill_pct: None,
    };
    vs.order_arrived(sym);
    let mut hang = false;
    match vs.faults.take(Hook::Order, Some(sym)) {
        Some(FaultKind::RejectWithoutApply) => {
            return Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                "SERVER_ERROR",
                "Internal server error".into(),
            ))
        }
        Some(FaultKind::RejectOrder { error }) => return Err(order_error(spec, error)),
        Some(FaultKind::PartialFill { pct }) => req.max_fill_pct = Some(pct),
        Some(FaultKind::ApplyThenTimeout) => hang = true,
        _ => {}
    }
    let now = arb_core::time::now_ms();
    let mut ex = vs.exchange.lock();
    let res = ex.place(account, &req, now);
    let out = res.map(|id| order_json(vs, &ex.orders[&id]));
    vs.flush(&mut ex, sym, now);
    vs.publish(&mut ex);
    drop(ex);
    vs.counters.orders.fetch_add(1, Ordering::Relaxed);
    out.map(|order| Placed { order, hang })
        .map_err(|e| reject(spec, &e))
}

pub fn reject(spec: &SymbolSpec, r: &Reject) -> GErr {
    match r {
        Reject::UnknownSymbol => gbad("INVALID_CURRENCY_PAIR", "Invalid currency pair"),
        Reject::InsufficientBalance { .. } => gbad("BALANCE_NOT_ENOUGH", "Not enough balance"),
        Reject::BelowMinQty { min } => gbad(
            "INVALID_PARAM_VALUE",
            format!(
                "Your order size is too small. The minimum is {min} {}",
                spec.base
            ),
        ),
        Reject::BelowMinNotional { min, value, quote } => gbad(
            "INVALID_PARAM_VALUE",
            format!("Your order size {value} {quote} is too small. The minimum is {min} {quote}"),
        ),
        Reject::AboveMaxNotional { max } => gbad(
            "AMOUNT_TOO_MUCH",
            format!(
                "Your order size is too large. The maximum is {max} {}",
                spec.quote
            ),
        ),
        Reject::ZeroSize => gbad("INVALID_PARAM_VALUE", "amount must be positive"),
        Reject::ZeroPrice => gbad("INVALID_PARAM_VALUE", "price must be positive"),
        Reject::DuplicateClientId => gbad("INVALID_PARAM_VALUE", "Duplicate text"),
        Reject::TooManyOpenOrders => gbad("TOO_MANY_ORDERS", "Too many open orders"),
    }
}

fn one_order(vs: &VenueState, account: u32, cancel: bool, id: &str, params: &Params) -> Resp {
    let sym = match pair_param(vs, params) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let not_found = || err(StatusCode::NOT_FOUND, "ORDER_NOT_FOUND", "Order not found");
    let now = arb_core::time::now_ms();
    let mut ex = vs.exchange.lock();
    let Some(oid) = super::lookup(vs, &ex, account, id).filter(|o| ex.orders[o].symbol == sym)
    else {
        return not_found();
    };
    if cancel {
        if ex.cancel(account, oid, now).is_err() {
            return not_found();
        }
        vs.flush(&mut ex, sym, now);
        vs.publish(&mut ex);
    }
    ok(order_json(vs, &ex.orders[&oid]))
}

/// `limit` (default 100, at most `max`) and `page` (from 1) of a list endpoint.
fn paging(params: &Params, max: usize) -> (usize, usize) {
    let n = |k: &str, d: usize| get(params, k).and_then(|l| l.parse().ok()).unwrap_or(d);
    (n("limit", 100).min(max), n("page", 1).max(1))
}

/// `from` / `to` (unix seconds) of a list endpoint.
fn window(params: &Params) -> (Option<i64>, Option<i64>) {
    let t = |k: &str| get(params, k).and_then(|s| s.parse::<i64>().ok());
    (t("from"), t("to"))
}

fn list_orders(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let sym = match pair_param(vs, params) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let open = match get(params, "status") {
        Some("open") => true,
        Some("finished") => false,
        Some(x) => return bad("INVALID_PARAM_VALUE", format!("Invalid status {x}")),
        None => {
            return bad(
                "MISSING_REQUIRED_PARAM",
                "Missing required parameter: status",
            )
        }
    };
    // Documented: `limit` (at most 100 for open orders, 1000 for finished ones),
    // `page` from 1, `from`/`to` in seconds (here on the order's creation time), `side`.
    let (limit, page) = paging(params, if open { 100 } else { 1000 });
    let (from, to) = window(params);
    let side = match get(params, "side") {
        Some("buy") => Some(Side::Buy),
        Some("sell") => Some(Side::Sell),
        _ => None,
    };
    let ex = vs.exchange.lock();
    let list: Vec<Value> = ex.accounts[account as usize]
        .order_ids
        .iter()
        .rev()
        .filter_map(|id| ex.orders.get(id))
        .filter(|o| o.symbol == sym && o.status.is_open() == open)
        .filter(|o| side.is_none_or(|s| o.side == s))
        .filter(|o| {
            let t = o.create_ms.div_euclid(1000);
            from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e)
        })
        .skip((page - 1) * limit)
        .take(limit)
        .map(|o| order_json(vs, o))
        .collect();
    ok(Value::Array(list))
}

fn cancel_all(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let sym = match pair_param(vs, params) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let side = match get(params, "side") {
        Some("buy") => Some(Side::Buy),
        Some("sell") => Some(Side::Sell),
        _ => None,
    };
    let now = arb_core::time::now_ms();
    let mut ex = vs.exchange.lock();
    let mut out = Vec::new();
    for id in ex.open_orders(account, Some(sym)) {
        if side.is_some_and(|s| ex.orders[&id].side != s) {
            continue;
        }
        if ex.cancel(account, id, now).is_ok() {
            out.push(order_json(vs, &ex.orders[&id]));
        }
    }
    vs.flush(&mut ex, sym, now);
    vs.publish(&mut ex);
    ok(Value::Array(out))
}

fn open_orders(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let ex = vs.exchange.lock();
    let mut per: Vec<(usize, Vec<Value>)> = Vec::new();
    for id in ex.open_orders(account, None) {
        let o = &ex.orders[&id];
        if let Some(p) = get(params, "currency_pair") {
            if vs.specs[o.symbol].venue_symbol != p {
                continue;
            }
        }
        match per.iter_mut().find(|(s, _)| *s == o.symbol) {
            Some((_, v)) => v.push(order_json(vs, o)),
            None => per.push((o.symbol, vec![order_json(vs, o)])),
        }
    }
    ok(Value::Array(
        per.into_iter()
            .map(|(s, orders)| {
                json!({"currency_pair": vs.specs[s].venue_symbol, "total": orders.len(), "orders": orders})
            })
            .collect(),
    ))
}

fn my_trades(vs: &VenueState, account: u32, params: &Params) -> Resp {
    let sym = match get(params, "currency_pair") {
        Some(_) => match pair_param(vs, params) {
            Ok(i) => Some(i),
            Err(r) => return r,
        },
        None => None,
    };
    let order_id = get(params, "order_id").and_then(|s| vs.parse_order_id(s));
    let (limit, page) = paging(params, 1000);
    let (from, to) = window(params);
    let ex = vs.exchange.lock();
    let list: Vec<Value> = ex.accounts[account as usize]
        .fills
        .iter()
        .rev()
        .filter(|f| sym.is_none_or(|s| f.symbol == s))
        .filter(|f| order_id.is_none_or(|o| f.order_id == o))
        .filter(|f| {
            from.is_none_or(|s| f.time_ms / 1000 >= s) && to.is_none_or(|e| f.time_ms / 1000 <= e)
        })
        .skip((page - 1) * limit)
        .take(limit)
        .map(|f| fill_json(vs, f))
        .collect();
    ok(Value::Array(list))
}

pub fn fill_json(vs: &VenueState, f: &crate::matching::Fill) -> Value {
    let spec = &vs.specs[f.symbol];
    json!({
        "id": f.trade_id.to_string(),
        "create_time": (f.time_ms / 1000).to_string(),
        "create_time_ms": format!("{}.000", f.time_ms),
        "currency_pair": spec.venue_symbol,
        "side": super::side_name(f.side),
        "role": if f.is_maker { "maker" } else { "taker" },
        "amount": spec.fmt_qty(f.qty),
        "price": spec.fmt_price(f.price),
        "order_id": f.order_id.to_string(),
        "fee": format_scaled(f.fee, BAL_SCALE),
        "fee_currency": f.fee_asset,
        "point_fee": "0",
        "gt_fee": "0",
        "amend_text": "-",
        "sequence_id": f.trade_id.to_string(),
        "text": if f.client_id.is_empty() { "apiv4".to_string() } else { f.client_id.clone() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boolean_parameters_take_every_spelling() {
        let p = |v: &str| vec![("with_id".to_string(), v.to_string())];
        for yes in ["true", "True", "TRUE", "1"] {
            assert!(flag(&p(yes), "with_id"), "{yes}");
        }
        for no in ["false", "False", "0", "", "yes"] {
            assert!(!flag(&p(no), "with_id"), "{no}");
        }
        assert!(!flag(&Vec::new(), "with_id"));
    }
}
