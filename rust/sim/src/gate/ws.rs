//! Gate WebSocket `/ws/v4/`: JSON requests `{time, id, channel, event, payload, auth}`;
//! public spot.ping, spot.order_book_update (U/u), spot.obu (full first push, then
//! increments), spot.order_book, spot.book_ticker, spot.trades; private spot.orders,
//! spot.usertrades, spot.balances with per-message auth; and the WebSocket trading API
//! (spot.login, spot.order_place, spot.order_cancel, spot.order_status).
//!
//! The send loop (event fan-out, batching, slow consumers, faults) is the shared
//! [`crate::ws`]; this file is Gate's [`Protocol`]. An obu subscription's full snapshot
//! is taken under the venue lock and the increments at or below its version are
//! skipped, so the stream continues exactly.

use std::sync::atomic::Ordering;

use super::sign::{gate_ws_api_sign, gate_ws_sign};
use crate::sign::signatures_equal;
use arb_core::fixed::{format_scaled, write_scaled};
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};

use super::rest::{fill_json, place_order};
use super::{order_json, side_name};
use crate::http::raw_json_field;
use crate::matching::{BookEvent, Event, Order, Side, Status};
use crate::spec::{SymbolSpec, BAL_SCALE};
use crate::state::{VenueRef, VenueState};
use crate::ws::Protocol;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// spot.order_book_update.
    Update,
    /// spot.obu with its depth.
    Obu(usize),
    /// spot.order_book with its depth.
    Snapshot(usize),
    BookTicker,
    Trades,
    Orders,
    UserTrades,
    Balances,
}

#[derive(Clone, Debug)]
struct Sub {
    kind: Kind,
    /// `None` = every symbol (`!all`, balances).
    symbol: Option<usize>,
    /// Book events with `to <= skip_to` are already in this subscription's snapshot.
    skip_to: u64,
    /// obu's stream name `ob.BTC_USDT.50`.
    name: String,
}

pub async fn upgrade(State(venue): State<VenueRef>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| crate::ws::serve(venue, socket, |_| Ok(Conn::default())))
}

fn now_pair() -> (i64, i64) {
    let ms = arb_core::time::now_ms();
    (ms / 1000, ms)
}

fn envelope(channel: &str, event: &str, result: Value) -> String {
    let (s, ms) = now_pair();
    json!({"time": s, "time_ms": ms, "channel": channel, "event": event, "result": result})
        .to_string()
}

#[derive(Default)]
struct Conn {
    subs: Vec<Sub>,
    /// Account logged in through spot.login, or authenticated by a private subscription.
    account: Option<u32>,
    api_key: Option<String>,
}

impl Protocol for Conn {
    fn request(&mut self, vs: &VenueState, text: &str) -> Vec<Message> {
        handle_request(vs, text, self)
            .into_iter()
            .map(|r| Message::Text(r.into()))
            .collect()
    }

    fn is_subscribed(&self) -> bool {
        !self.subs.is_empty()
    }

    fn frames(&self, vs: &VenueState, ev: &Event) -> Vec<Message> {
        frames(vs, ev, self)
            .into_iter()
            .map(|f| Message::Text(f.into()))
            .collect()
    }

    fn watches(&self, symbol: usize) -> bool {
        self.subs.iter().any(|s| s.symbol == Some(symbol))
    }

    fn is_private(&self) -> bool {
        self.account.is_some()
    }

    fn nested_frame(&self, depth: u32) -> Message {
        let n = depth as usize;
        let frame = format!(
            r#"{{"channel":"spot.obu","event":"update","result":{{"x":{}1{}}}}}"#,
            "[".repeat(n),
            "]".repeat(n)
        );
        Message::Text(frame.into())
    }

    fn malformed_frame(&self) -> Message {
        Message::Text(r#"{"channel":"spot.obu","event":"update","result":{"t":"#.into())
    }
}

fn reply(
    id: &Value,
    channel: &str,
    event: &str,
    error: Option<(i32, String)>,
    result: Value,
) -> String {
    let (s, ms) = now_pair();
    let (error, result) = match error {
        Some((code, message)) => (json!({"code": code, "message": message}), Value::Null),
        None => (Value::Null, result),
    };
    let mut v = json!({"time": s, "time_ms": ms, "channel": channel, "event": event,
                       "error": error, "result": result});
    if !id.is_null() {
        v["id"] = id.clone();
    }
    v.to_string()
}

fn handle_request(vs: &VenueState, text: &str, conn: &mut Conn) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return vec![reply(
            &Value::Null,
            "",
            "",
            Some((1, "invalid request body".into())),
            Value::Null,
        )];
    };
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let channel = v
        .get("channel")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let event = v
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if channel == "spot.ping" {
        let (s, ms) = now_pair();
        let mut r =
            json!({"time": s, "time_ms": ms, "channel": "spot.pong", "event": "", "result": null});
        if !id.is_null() {
            r["id"] = id;
        }
        return vec![r.to_string()];
    }
    if event == "api" {
        return api_request(vs, text, &v, &channel, conn);
    }
    if event != "subscribe" && event != "unsubscribe" {
        return vec![reply(
            &id,
            &channel,
            &event,
            Some((1, format!("unknown event {event:?}"))),
            Value::Null,
        )];
    }
    let payload: Vec<String> = v
        .get("payload")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let private = matches!(
        channel.as_str(),
        "spot.orders" | "spot.usertrades" | "spot.balances"
    );
    let mut account = None;
    if private {
        let time = v.get("time").and_then(Value::as_i64).unwrap_or(0);
        let auth = v.get("auth");
        let key = auth.and_then(|a| a.get("KEY")).and_then(Value::as_str);
        let sign = auth.and_then(|a| a.get("SIGN")).and_then(Value::as_str);
        let entry = key.and_then(|k| vs.keys.get(k));
        match (entry, sign) {
            (Some(e), Some(sig))
                if signatures_equal(&gate_ws_sign(&e.secret, &channel, &event, time), sig) =>
            {
                account = Some(e.account);
            }
            _ => {
                return vec![reply(
                    &id,
                    &channel,
                    &event,
                    Some((4, "Authentication failed".into())),
                    Value::Null,
                )];
            }
        }
    }
    let ch: &'static str = match channel.as_str() {
        "spot.order_book_update" => "spot.order_book_update",
        "spot.obu" => "spot.obu",
        "spot.order_book" => "spot.order_book",
        "spot.book_ticker" => "spot.book_ticker",
        "spot.trades" => "spot.trades",
        "spot.orders" => "spot.orders",
        "spot.usertrades" => "spot.usertrades",
        "spot.balances" => "spot.balances",
        _ => {
            return vec![reply(
                &id,
                &channel,
                &event,
                Some((2, format!("unknown channel {channel}"))),
                Value::Null,
            )];
        }
    };
    let bad_arg = |m: String| vec![reply(&id, &channel, &event, Some((2, m)), Value::Null)];
    let pair = |p: &str| vs.symbol_index(p);
    // Build the subscriptions this request names.
    let mut new_subs: Vec<Sub> = Vec::new();
    let mk = |kind: Kind, symbol: Option<usize>, name: String| Sub {
        kind,
        symbol,
        skip_to: 0,
        name,
    };
    match ch {
        "spot.order_book_update" => {
            let Some(s) = payload.first().and_then(|p| pair(p)) else {
                return bad_arg(format!("invalid currency pair in payload {payload:?}"));
            };
            new_subs.push(mk(Kind::Update, Some(s), String::new()));
        }
        "spot.obu" => {
            for p in &payload {
                let parts: Vec<&str> = p.split('.').collect();
                let (Some(s), Some(d)) = (
                    parts.get(1).and_then(|x| pair(x)),
                    parts.get(2).and_then(|d| match *d {
                        "50" => Some(50),
                        "400" => Some(400),
                        _ => None,
                    }),
                ) else {
                    return bad_arg(format!(
                        "invalid obu stream {p:?} (expected ob.<PAIR>.50|400)"
                    ));
                };
                if parts.len() != 3 || parts[0] != "ob" {
                    return bad_arg(format!("invalid obu stream {p:?}"));
                }
                new_subs.push(mk(Kind::Obu(d), Some(s), p.clone()));
            }
        }
        "spot.order_book" => {
            let Some(s) = payload.first().and_then(|p| pair(p)) else {
                return bad_arg(format!("invalid currency pair in payload {payload:?}"));
            };
            let level = payload
                .get(1)
                .and_then(|l| l.parse().ok())
                .unwrap_or(20usize);
            new_subs.push(mk(
                Kind::Snapshot(level.clamp(1, 100)),
                Some(s),
                String::new(),
            ));
        }
        "spot.book_ticker" | "spot.trades" | "spot.orders" | "spot.usertrades" => {
            let kind = match ch {
                "spot.book_ticker" => Kind::BookTicker,
                "spot.trades" => Kind::Trades,
                "spot.orders" => Kind::Orders,
                _ => Kind::UserTrades,
            };
            for p in &payload {
                if p == "!all" && private {
                    new_subs.push(mk(kind.clone(), None, String::new()));
                    continue;
                }
                let Some(s) = pair(p) else {
                    return bad_arg(format!("invalid currency pair {p}"));
                };
                new_subs.push(mk(kind.clone(), Some(s), String::new()));
            }
        }
        _ => new_subs.push(mk(Kind::Balances, None, String::new())),
    }
    if event == "unsubscribe" {
        conn.subs.retain(|s| {
            !new_subs
                .iter()
                .any(|n| n.kind == s.kind && n.symbol == s.symbol)
        });
        return vec![reply(
            &id,
            &channel,
            &event,
            None,
            json!({"status": "success"}),
        )];
    }
    if let Some(a) = account {
        conn.account = Some(a);
    }
    let mut out = vec![reply(
        &id,
        &channel,
        &event,
        None,
        json!({"status": "success"}),
    )];
    for mut sub in new_subs {
        conn.subs
            .retain(|s| !(s.kind == sub.kind && s.symbol == sub.symbol));
        if let (Kind::Obu(depth), Some(sym)) = (&sub.kind, sub.symbol) {
            // The full first push, consistent with the increments that follow.
            let spec = &vs.specs[sym];
            let ex = vs.exchange.lock();
            let (bids, asks) = ex.books[sym].levels(*depth);
            let version = ex.books[sym].version;
            drop(ex);
            let lv = |v: Vec<(u64, u64)>| -> Vec<Value> {
                v.into_iter()
                    .map(|(p, q)| json!([spec.fmt_price(p), spec.fmt_qty(q)]))
                    .collect()
            };
            sub.skip_to = version;
            out.push(envelope(
                "spot.obu",
                "update",
                json!({"t": arb_core::time::now_ms(), "full": true, "s": sub.name,
                       "u": version, "b": lv(bids), "a": lv(asks)}),
            ));
            vs.counters.frames_depth.fetch_add(1, Ordering::Relaxed);
        }
        conn.subs.push(sub);
        vs.counters.ws_subscriptions.fetch_add(1, Ordering::Relaxed);
    }
    out
}

/// A book increment written straight into one string (the hottest frame: no JSON tree).
/// `obu_name` = the spot.obu stream name; `None` = spot.order_book_update.
fn increment_frame(spec: &SymbolSpec, b: &BookEvent, obu_name: Option<&str>) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(160 + 40 * b.changes.len());
    let (sec, ms) = now_pair();
    let (channel, name) = match obu_name {
        Some(n) => ("spot.obu", n),
        None => ("spot.order_book_update", spec.venue_symbol.as_str()),
    };
    let _ = write!(
        out,
        r#"{{"time":{sec},"time_ms":{ms},"channel":"{channel}","event":"update","result":{{"t":{},"#,
        b.time_ms
    );
    if obu_name.is_none() {
        let _ = write!(
            out,
            r#""e":"depthUpdate","E":{},"l":"100","#,
            b.time_ms / 1000
        );
    }
    let _ = write!(out, r#""s":"{name}","U":{},"u":{},"b":["#, b.from, b.to);
    let side_levels = |out: &mut String, side: Side| {
        let mut first = true;
        for c in b.changes.iter().filter(|c| c.side == side) {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str("[\"");
            write_scaled(out, c.price as i128, spec.price_decimals, false);
            out.push_str("\",\"");
            write_scaled(out, c.qty as i128, spec.qty_decimals, false);
            out.push_str("\"]");
        }
    };
    side_levels(&mut out, Side::Buy);
    out.push_str(r#"],"a":["#);
    side_levels(&mut out, Side::Sell);
    out.push_str("]}}");
    out
}

fn order_event(o: &Order) -> &'static str {
    match o.status {
        Status::New if o.filled == 0 => "put",
        Status::New | Status::PartiallyFilled => "update",
        _ => "finish",
    }
}

fn frames(vs: &VenueState, ev: &Event, conn: &Conn) -> Vec<String> {
    let mut out = Vec::new();
    match ev {
        Event::Book(b) => {
            let spec = &vs.specs[b.symbol];
            for s in conn.subs.iter().filter(|s| s.symbol == Some(b.symbol)) {
                if b.to <= s.skip_to {
                    continue;
                }
                match &s.kind {
                    Kind::Update => {
                        out.push(increment_frame(spec, b, None));
                        vs.counters.frames_depth.fetch_add(1, Ordering::Relaxed);
                    }
                    Kind::Obu(_) => {
                        out.push(increment_frame(spec, b, Some(&s.name)));
                        vs.counters.frames_depth.fetch_add(1, Ordering::Relaxed);
                    }
                    Kind::Snapshot(n) => {
                        let ex = vs.exchange.lock();
                        let (bids, asks) = ex.books[b.symbol].levels(*n);
                        let version = ex.books[b.symbol].version;
                        drop(ex);
                        let lv = |v: Vec<(u64, u64)>| -> Vec<Value> {
                            v.into_iter()
                                .map(|(p, q)| json!([spec.fmt_price(p), spec.fmt_qty(q)]))
                                .collect()
                        };
                        out.push(envelope(
                            "spot.order_book",
                            "update",
                            json!({"t": b.time_ms, "lastUpdateId": version, "s": spec.venue_symbol,
                                   "l": n.to_string(), "bids": lv(bids), "asks": lv(asks)}),
                        ));
                        vs.counters.frames_depth.fetch_add(1, Ordering::Relaxed);
                    }
                    Kind::BookTicker => {
                        let (bp, bq) = b.best_bid.unwrap_or((0, 0));
                        let (ap, aq) = b.best_ask.unwrap_or((0, 0));
                        out.push(envelope(
                            "spot.book_ticker",
                            "update",
                            json!({"t": b.time_ms, "u": b.to, "s": spec.venue_symbol,
                                   "b": spec.fmt_price(bp), "B": spec.fmt_qty(bq),
                                   "a": spec.fmt_price(ap), "A": spec.fmt_qty(aq)}),
                        ));
                        vs.counters.frames_ticker.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {}
                }
            }
        }
        Event::Trade(t) => {
            let spec = &vs.specs[t.symbol];
            if conn
                .subs
                .iter()
                .any(|s| s.kind == Kind::Trades && s.symbol == Some(t.symbol))
            {
                out.push(envelope(
                    "spot.trades",
                    "update",
                    json!({"id": t.trade_id, "create_time": t.time_ms / 1000,
                           "create_time_ms": format!("{}.000", t.time_ms),
                           "side": side_name(t.taker_side), "currency_pair": spec.venue_symbol,
                           "amount": spec.fmt_qty(t.qty), "price": spec.fmt_price(t.price),
                           "range": format!("{}-{}", t.trade_id, t.trade_id)}),
                ));
                vs.counters.frames_trades.fetch_add(1, Ordering::Relaxed);
            }
        }
        Event::Order(o)
            if Some(o.account) == conn.account
                && conn
                    .subs
                    .iter()
                    .any(|s| s.kind == Kind::Orders && s.symbol.is_none_or(|x| x == o.symbol)) =>
        {
            let mut j = order_json(vs, o);
            j["event"] = json!(order_event(o));
            j["user"] = json!(10_000_000 + o.account as i64);
            j["create_time_ms"] = json!(o.create_ms.to_string());
            j["update_time_ms"] = json!(o.update_ms.to_string());
            out.push(envelope("spot.orders", "update", json!([j])));
            vs.counters.frames_private.fetch_add(1, Ordering::Relaxed);
        }
        Event::Fill(f)
            if Some(f.account) == conn.account
                && conn.subs.iter().any(|s| {
                    s.kind == Kind::UserTrades && s.symbol.is_none_or(|x| x == f.symbol)
                }) =>
        {
            let mut j = fill_json(vs, f);
            j["user_id"] = json!(10_000_000 + f.account as i64);
            out.push(envelope("spot.usertrades", "update", json!([j])));
            vs.counters.frames_private.fetch_add(1, Ordering::Relaxed);
        }
        Event::Balance {
            account,
            asset,
            balance,
            free_change,
            locked_change,
            time_ms,
        } if Some(*account) == conn.account
            && conn.subs.iter().any(|s| s.kind == Kind::Balances) =>
        {
            let total = balance.free + balance.locked;
            out.push(envelope(
                "spot.balances",
                "update",
                json!([{
                    "timestamp": (time_ms / 1000).to_string(),
                    "timestamp_ms": time_ms.to_string(),
                    "user": (10_000_000 + *account as i64).to_string(),
                    "currency": asset,
                    "change": format_scaled(free_change + locked_change, BAL_SCALE),
                    "total": format_scaled(total, BAL_SCALE),
                    "available": format_scaled(balance.free, BAL_SCALE),
                    "freeze": format_scaled(balance.locked, BAL_SCALE),
                    "freeze_change": format_scaled(*locked_change, BAL_SCALE),
                    "change_type": "order-match",
                }]),
            ));
            vs.counters.frames_private.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    }
    out
}

/// The WebSocket trading API (`event: "api"`).
fn api_request(
    vs: &VenueState,
    text: &str,
    v: &Value,
    channel: &str,
    conn: &mut Conn,
) -> Vec<String> {
    let payload = v.get("payload").cloned().unwrap_or(Value::Null);
    let req_id = payload.get("req_id").cloned().unwrap_or(Value::Null);
    let now = arb_core::time::now_ms();
    let header = |status: &str| {
        json!({"response_time": now.to_string(), "status": status, "channel": channel,
               "event": "api", "client_id": "127.0.0.1", "conn_id": "sim", "trace_id": "sim"})
    };
    let error = |status: &str, label: &str, message: String| {
        json!({"request_id": req_id, "header": header(status),
               "data": {"errs": {"label": label, "message": message}}})
        .to_string()
    };
    let req_param = payload.get("req_param").cloned().unwrap_or(json!({}));
    // Authentication: a signature on this request, or an earlier spot.login.
    let key = payload.get("api_key").and_then(Value::as_str);
    let sig = payload.get("signature").and_then(Value::as_str);
    let ts = match payload.get("timestamp") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let mut account = conn.account.filter(|_| conn.api_key.is_some());
    if let (Some(k), Some(sig)) = (key, sig) {
        let Some(entry) = vs.keys.get(k) else {
            return vec![error("401", "INVALID_KEY", "Invalid key provided".into())];
        };
        // The signature covers req_param exactly as the client serialized it (absent:
        // the empty string). The documented login has no req_param and signs it empty;
        // clients that send `"req_param":{}` with it sign `{}`: a login takes either.
        let raw = raw_json_field(text, "req_param").unwrap_or("").to_string();
        let login_forms: &[&str] = if channel == "spot.login" {
            &["", "{}"]
        } else {
            &[]
        };
        if !std::iter::once(raw.as_str())
            .chain(login_forms.iter().copied())
            .any(|p| signatures_equal(&gate_ws_api_sign(&entry.secret, channel, p, &ts), sig))
        {
            return vec![error(
                "401",
                "INVALID_SIGNATURE",
                "Signature mismatch".into(),
            )];
        }
        let t: i64 = ts
            .split('.')
            .next()
            .and_then(|x| x.parse().ok())
            .unwrap_or(0);
        if (now / 1000 - t).abs() > 60 {
            return vec![error(
                "401",
                "REQUEST_EXPIRED",
                "gap between request Timestamp and server time exceeds 60".into(),
            )];
        }
        account = Some(entry.account);
        if channel == "spot.login" {
            conn.account = Some(entry.account);
            conn.api_key = Some(k.to_string());
        }
    }
    let Some(account) = account else {
        return vec![error(
            "401",
            "MISSING_REQUIRED_HEADER",
            "not logged in: send spot.login or sign the request".into(),
        )];
    };
    let ok = |result: Value| {
        json!({"request_id": req_id, "ack": false, "header": header("200"), "data": {"result": result}})
            .to_string()
    };
    match channel {
        "spot.login" => vec![ok(
            json!({"api_key": key.unwrap_or(""), "uid": (10_000_000 + account as i64).to_string()}),
        )],
        "spot.order_place" => {
            let ack = json!({"request_id": req_id, "ack": true, "header": header("200"),
                             "data": {"result": {"req_id": req_id, "req_param": req_param}}})
            .to_string();
            match place_order(vs, account, &req_param) {
                // Apply-then-timeout: the order exists, the client hears nothing.
                Ok(p) if p.hang => Vec::new(),
                Ok(p) => vec![ack, ok(p.order)],
                Err((status, label, msg)) => vec![error(status.as_str(), label, msg)],
            }
        }
        "spot.order_cancel" | "spot.order_status" => {
            let oid = match req_param.get("order_id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return vec![error(
                        "400",
                        "MISSING_REQUIRED_PARAM",
                        "Missing required parameter: order_id".into(),
                    )]
                }
            };
            let pair = req_param
                .get("currency_pair")
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(sym) = vs.symbol_index(pair) else {
                return vec![error(
                    "400",
                    "INVALID_CURRENCY_PAIR",
                    format!("Invalid currency pair {pair}"),
                )];
            };
            let mut ex = vs.exchange.lock();
            let found = super::lookup(vs, &ex, account, &oid);
            let Some(id) = found.filter(|id| ex.orders[id].symbol == sym) else {
                return vec![error("404", "ORDER_NOT_FOUND", "Order not found".into())];
            };
            if channel == "spot.order_cancel" {
                if ex.cancel(account, id, now).is_err() {
                    return vec![error("404", "ORDER_NOT_FOUND", "Order not found".into())];
                }
                vs.flush(&mut ex, sym, now);
                vs.publish(&mut ex);
            }
            vec![ok(order_json(vs, &ex.orders[&id]))]
        }
        _ => vec![error(
            "400",
            "INVALID_PARAM_VALUE",
            format!("unsupported api channel {channel}"),
        )],
    }
}
