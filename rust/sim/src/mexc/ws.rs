//! MEXC WebSocket `/ws`: JSON text requests (SUBSCRIPTION / UNSUBSCRIPTION / PING),
//! binary protobuf pushes (`PushDataV3ApiWrapper`) for aggre.depth (fromVersion/toVersion
//! chain), aggre.bookTicker, aggre.deals and limit.depth; private orders/deals/account on
//! `?listenKey=` connections. At most `mexc_ws_max_subscriptions` per connection.
//!
//! The send loop (event fan-out, batching, slow consumers, faults) is the shared
//! [`crate::ws`]; this file is MEXC's [`Protocol`]: its requests, channels and frames.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::proto::{
    Body, DealItem, DepthItem, PrivateAccountV3Api, PrivateDealsV3Api, PrivateOrdersV3Api,
    PublicAggreBookTickerV3Api, PublicAggreDealsV3Api, PublicAggreDepthsV3Api,
    PublicLimitDepthsV3Api, PushDataV3ApiWrapper,
};
use arb_core::fixed::format_scaled;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use prost::Message as _;
use serde_json::{json, Value};

use super::{status_code, type_code};
use crate::matching::{Event, LevelChange, Side};
use crate::spec::BAL_SCALE;
use crate::state::{VenueRef, VenueState};
use crate::ws::Protocol;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Depth,
    BookTicker,
    Deals,
    LimitDepth(usize),
    Orders,
    PrivateDeals,
    Account,
}

#[derive(Clone, Debug)]
struct Sub {
    channel: String,
    kind: Kind,
    symbol: usize,
    /// For pushes: the channel without the symbol (`eventType`).
    event_type: String,
}

pub async fn upgrade(
    State(venue): State<VenueRef>,
    RawQuery(q): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    let listen_key = q.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "listenKey")
            .map(|(_, v)| v.into_owned())
    });
    ws.on_upgrade(move |socket| crate::ws::serve(venue, socket, move |vs| open(vs, listen_key)))
}

/// One MEXC connection: public, or private on a `?listenKey=`.
struct Conn {
    subs: Vec<Sub>,
    /// The listenKey's account on a private connection.
    account: Option<u32>,
    listen_key: Option<String>,
}

/// A private connection needs a live listenKey; MEXC refuses any other in plain text.
fn open(vs: &VenueState, listen_key: Option<String>) -> Result<Conn, String> {
    let account = match &listen_key {
        Some(k) => Some(
            vs.listen_key_account(k)
                .ok_or_else(|| "Invalid listen key".to_string())?,
        ),
        None => None,
    };
    Ok(Conn {
        subs: Vec::new(),
        account,
        listen_key,
    })
}

impl Protocol for Conn {
    fn request(&mut self, vs: &VenueState, text: &str) -> Vec<Message> {
        let max_subs = vs.cfg.mexc_ws_max_subscriptions;
        let reply = handle_request(vs, text, &mut self.subs, self.account.is_some(), max_subs);
        vec![Message::Text(reply.to_string().into())]
    }

    fn is_subscribed(&self) -> bool {
        !self.subs.is_empty()
    }

    fn frames(&self, vs: &VenueState, ev: &Event) -> Vec<Message> {
        frames(vs, ev, &self.subs, self.account)
            .into_iter()
            .map(|f| Message::Binary(f.into()))
            .collect()
    }

    fn watches(&self, symbol: usize) -> bool {
        self.subs.iter().any(|s| s.symbol == symbol)
    }

    fn is_private(&self) -> bool {
        self.account.is_some()
    }

    fn nested_frame(&self, depth: u32) -> Message {
        // Field 999 as start groups, then as end groups.
        let n = depth as usize;
        let mut b = [0xBBu8, 0x3E].repeat(n);
        b.extend([0xBCu8, 0x3E].repeat(n));
        Message::Binary(b.into())
    }

    fn malformed_frame(&self) -> Message {
        // Not a protobuf message: an invalid wire type and a truncated varint.
        Message::Binary(vec![0xFFu8, 0xFF, 0xFF, 0x07, 0x13].into())
    }

    fn keep_open(&self, vs: &VenueState, opened: Instant) -> bool {
        // A private connection ends when its listenKey expires or is deleted.
        if let Some(k) = &self.listen_key {
            if vs.listen_key_account(k).is_none() {
                return false;
            }
        }
        // As the venue does: no valid subscription within the grace period.
        let grace = vs.cfg.mexc_ws_unsubscribed_close_secs;
        !(grace > 0 && self.subs.is_empty() && opened.elapsed() >= Duration::from_secs(grace))
    }
}

/// Parses a channel name; `Err` carries the reason MEXC gives.
fn parse_channel(vs: &VenueState, ch: &str, private: bool) -> Result<Sub, &'static str> {
    let parts: Vec<&str> = ch.split('@').collect();
    let sym = |s: &str| vs.symbol_index(s).ok_or("Invalid symbol");
    let (kind, symbol, event_type) = match parts.as_slice() {
        ["spot", "public.aggre.depth.v3.api.pb", iv @ ("100ms" | "10ms"), s] => (
            Kind::Depth,
            sym(s)?,
            format!("spot@public.aggre.depth.v3.api.pb@{iv}"),
        ),
        ["spot", "public.aggre.bookTicker.v3.api.pb", iv @ ("100ms" | "10ms"), s] => (
            Kind::BookTicker,
            sym(s)?,
            format!("spot@public.aggre.bookTicker.v3.api.pb@{iv}"),
        ),
        ["spot", "public.aggre.deals.v3.api.pb", iv @ ("100ms" | "10ms"), s] => (
            Kind::Deals,
            sym(s)?,
            format!("spot@public.aggre.deals.v3.api.pb@{iv}"),
        ),
        ["spot", "public.limit.depth.v3.api.pb", s, lv @ ("5" | "10" | "20")] => (
            Kind::LimitDepth(lv.parse().unwrap_or(5)),
            sym(s)?,
            "spot@public.limit.depth.v3.api.pb".to_string(),
        ),
        ["spot", p @ ("private.orders.v3.api.pb"
        | "private.deals.v3.api.pb"
        | "private.account.v3.api.pb")] => {
            if !private {
                return Err("Private channels need a listenKey connection");
            }
            let k = match *p {
                "private.orders.v3.api.pb" => Kind::Orders,
                "private.deals.v3.api.pb" => Kind::PrivateDeals,
                _ => Kind::Account,
            };
            (k, usize::MAX, ch.to_string())
        }
        // The JSON channels were shut for API users in 2025.
        _ => return Err("Blocked!"),
    };
    Ok(Sub {
        channel: ch.to_string(),
        kind,
        symbol,
        event_type,
    })
}

fn handle_request(
    vs: &VenueState,
    text: &str,
    subs: &mut Vec<Sub>,
    private: bool,
    max_subs: usize,
) -> Value {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return json!({"id": 0, "code": 0, "msg": "Invalid request"});
    };
    let id = v.get("id").cloned().unwrap_or(json!(0));
    let method = v
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_uppercase();
    let params: Vec<String> = v
        .get("params")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match method.as_str() {
        "PING" => json!({"id": id, "code": 0, "msg": "PONG"}),
        "SUBSCRIPTION" => {
            let mut ok = Vec::new();
            let mut failed = Vec::new();
            let mut reason = "";
            for ch in &params {
                if subs.iter().any(|s| &s.channel == ch) {
                    ok.push(ch.clone());
                    continue;
                }
                if subs.len() >= max_subs {
                    failed.push(ch.clone());
                    reason = "subscription limit exceeded (30 per connection)";
                    continue;
                }
                match parse_channel(vs, ch, private) {
                    Ok(s) => {
                        subs.push(s);
                        vs.counters.ws_subscriptions.fetch_add(1, Ordering::Relaxed);
                        ok.push(ch.clone());
                    }
                    Err(r) => {
                        failed.push(ch.clone());
                        reason = r;
                    }
                }
            }
            if failed.is_empty() {
                json!({"id": id, "code": 0, "msg": ok.join(",")})
            } else {
                json!({"id": id, "code": 0, "msg": format!("Not Subscribed successfully! [{}].  Reason： {reason} ", failed.join(","))})
            }
        }
        "UNSUBSCRIPTION" => {
            subs.retain(|s| !params.contains(&s.channel));
            json!({"id": id, "code": 0, "msg": params.join(",")})
        }
        _ => json!({"id": id, "code": 0, "msg": "Invalid method"}),
    }
}

fn wrap(channel: &str, symbol: Option<&str>, send_time: i64, body: Body) -> Vec<u8> {
    PushDataV3ApiWrapper {
        channel: channel.to_string(),
        symbol: symbol.map(str::to_string),
        symbol_id: None,
        create_time: Some(send_time),
        send_time: Some(send_time),
        body: Some(body),
    }
    .encode_to_vec()
}

fn items(vs: &VenueState, sym: usize, changes: &[LevelChange], side: Side) -> Vec<DepthItem> {
    let spec = &vs.specs[sym];
    changes
        .iter()
        .filter(|c| c.side == side)
        .map(|c| DepthItem {
            price: spec.fmt_price(c.price),
            quantity: spec.fmt_qty(c.qty),
        })
        .collect()
}

/// Encodes the frames one event produces for this connection's subscriptions.
fn frames(vs: &VenueState, ev: &Event, subs: &[Sub], account: Option<u32>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let now = arb_core::time::now_ms();
    match ev {
        Event::Book(b) => {
            let spec = &vs.specs[b.symbol];
            let sym = Some(spec.venue_symbol.as_str());
            for s in subs.iter().filter(|s| s.symbol == b.symbol) {
                match &s.kind {
                    Kind::Depth => {
                        out.push(wrap(
                            &s.channel,
                            sym,
                            now,
                            Body::PublicAggreDepths(PublicAggreDepthsV3Api {
                                asks: items(vs, b.symbol, &b.changes, Side::Sell),
                                bids: items(vs, b.symbol, &b.changes, Side::Buy),
                                event_type: s.event_type.clone(),
                                from_version: b.from.to_string(),
                                to_version: b.to.to_string(),
                                last_order_create_time: b.time_ms,
                            }),
                        ));
                        vs.counters.frames_depth.fetch_add(1, Ordering::Relaxed);
                    }
                    Kind::BookTicker => {
                        let (bp, bq) = b.best_bid.unwrap_or((0, 0));
                        let (ap, aq) = b.best_ask.unwrap_or((0, 0));
                        out.push(wrap(
                            &s.channel,
                            sym,
                            now,
                            Body::PublicAggreBookTicker(PublicAggreBookTickerV3Api {
                                bid_price: spec.fmt_price(bp),
                                bid_quantity: spec.fmt_qty(bq),
                                ask_price: spec.fmt_price(ap),
                                ask_quantity: spec.fmt_qty(aq),
                                version: b.to.to_string(),
                                last_order_create_time: b.time_ms,
                            }),
                        ));
                        vs.counters.frames_ticker.fetch_add(1, Ordering::Relaxed);
                    }
                    Kind::LimitDepth(n) => {
                        let ex = vs.exchange.lock();
                        let book = &ex.books[b.symbol];
                        let (bids, asks) = book.levels(*n);
                        let version = book.version;
                        drop(ex);
                        let f = |v: Vec<(u64, u64)>| -> Vec<DepthItem> {
                            v.into_iter()
                                .map(|(p, q)| DepthItem {
                                    price: spec.fmt_price(p),
                                    quantity: spec.fmt_qty(q),
                                })
                                .collect()
                        };
                        out.push(wrap(
                            &s.channel,
                            sym,
                            now,
                            Body::PublicLimitDepths(PublicLimitDepthsV3Api {
                                asks: f(asks),
                                bids: f(bids),
                                event_type: s.event_type.clone(),
                                version: version.to_string(),
                            }),
                        ));
                        vs.counters.frames_depth.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {}
                }
            }
        }
        Event::Trade(t) => {
            let spec = &vs.specs[t.symbol];
            for s in subs
                .iter()
                .filter(|s| s.symbol == t.symbol && s.kind == Kind::Deals)
            {
                out.push(wrap(
                    &s.channel,
                    Some(&spec.venue_symbol),
                    now,
                    Body::PublicAggreDeals(PublicAggreDealsV3Api {
                        deals: vec![DealItem {
                            price: spec.fmt_price(t.price),
                            quantity: spec.fmt_qty(t.qty),
                            trade_type: if t.taker_side == Side::Buy { 1 } else { 2 },
                            time: t.time_ms,
                            trade_id: t.trade_id.to_string(),
                        }],
                        event_type: s.event_type.clone(),
                    }),
                ));
                vs.counters.frames_trades.fetch_add(1, Ordering::Relaxed);
            }
        }
        Event::Order(o) if Some(o.account) == account => {
            let spec = &vs.specs[o.symbol];
            for s in subs.iter().filter(|s| s.kind == Kind::Orders) {
                let avg = if o.filled > 0 {
                    spec.fmt_price((o.filled_quote / o.filled as u128) as u64)
                } else {
                    "0".into()
                };
                let amount = if o.quote_qty > 0 {
                    o.quote_qty
                } else {
                    o.price as u128 * o.qty as u128
                };
                out.push(wrap(
                    &s.channel,
                    Some(&spec.venue_symbol),
                    now,
                    Body::PrivateOrders(PrivateOrdersV3Api {
                        id: vs.order_id_str(o.id),
                        client_id: o.client_id.clone(),
                        price: spec.fmt_price(o.price),
                        quantity: spec.fmt_qty(o.qty),
                        amount: spec.fmt_notional(amount),
                        avg_price: avg,
                        order_type: type_code(o),
                        trade_type: if o.side == Side::Buy { 1 } else { 2 },
                        is_maker: o.last_is_maker,
                        remain_amount: spec.fmt_notional(amount.saturating_sub(o.filled_quote)),
                        remain_quantity: spec.fmt_qty(o.remaining()),
                        last_deal_quantity: spec.fmt_qty(o.last_fill),
                        cumulative_quantity: spec.fmt_qty(o.filled),
                        cumulative_amount: spec.fmt_notional(o.filled_quote),
                        status: status_code(o.status),
                        create_time: o.create_ms,
                        ..Default::default()
                    }),
                ));
                vs.counters.frames_private.fetch_add(1, Ordering::Relaxed);
            }
        }
        Event::Fill(f) if Some(f.account) == account => {
            let spec = &vs.specs[f.symbol];
            for s in subs.iter().filter(|s| s.kind == Kind::PrivateDeals) {
                out.push(wrap(
                    &s.channel,
                    Some(&spec.venue_symbol),
                    now,
                    Body::PrivateDeals(PrivateDealsV3Api {
                        price: spec.fmt_price(f.price),
                        quantity: spec.fmt_qty(f.qty),
                        amount: spec.fmt_notional(f.quote),
                        trade_type: if f.side == Side::Buy { 1 } else { 2 },
                        is_maker: f.is_maker,
                        is_self_trade: false,
                        trade_id: f.trade_id.to_string(),
                        client_order_id: f.client_id.clone(),
                        order_id: vs.order_id_str(f.order_id),
                        fee_amount: format_scaled(f.fee, BAL_SCALE),
                        fee_currency: f.fee_asset.clone(),
                        time: f.time_ms,
                    }),
                ));
                vs.counters.frames_private.fetch_add(1, Ordering::Relaxed);
            }
        }
        Event::Balance {
            account: acc,
            asset,
            balance,
            free_change,
            locked_change,
            time_ms,
        } if Some(*acc) == account => {
            for s in subs.iter().filter(|s| s.kind == Kind::Account) {
                out.push(wrap(
                    &s.channel,
                    None,
                    now,
                    Body::PrivateAccount(PrivateAccountV3Api {
                        vcoin_name: asset.clone(),
                        coin_id: asset.clone(),
                        balance_amount: format_scaled(balance.free, BAL_SCALE),
                        balance_amount_change: format_scaled(*free_change, BAL_SCALE),
                        frozen_amount: format_scaled(balance.locked, BAL_SCALE),
                        frozen_amount_change: format_scaled(*locked_change, BAL_SCALE),
                        r#type: "ENTRUST".into(),
                        time: *time_ms,
                    }),
                ));
                vs.counters.frames_private.fetch_add(1, Ordering::Relaxed);
            }
        }
        _ => {}
    }
    out
}
